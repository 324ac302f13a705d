package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// agentConversationSocket is the console's live socket for one
// conversation: the customer protocol, with notes and the customer's typing.
func (s *Server) agentConversationSocket(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	conv, err := s.engine.Conversation(r.Context(), a.Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	if ok, _ := s.originAllowed(r, ""); !ok {
		return &Error{Status: http.StatusForbidden, Code: "origin_not_allowed", Title: "Origin not allowed", Detail: "The console opens only from this site."}
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return &Error{Status: http.StatusBadRequest, Code: "not_websocket", Title: "Bad request", Detail: "This address only accepts websocket connections."}
	}
	return s.serveSocket(c, a.Actor(), conv, &a, currentSessionID(c))
}

// inboxFrame tells the inbox that a conversation changed; the page fetches
// its list again.
type inboxFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId,omitempty"`
}

// agentInboxSocket streams "something changed" to the inbox. It writes at
// most one frame per inboxCoalesce, however many events arrive.
func (s *Server) agentInboxSocket(c echo.Context) error {
	a := currentAgent(c)
	r := c.Request()
	if ok, _ := s.originAllowed(r, ""); !ok {
		return &Error{Status: http.StatusForbidden, Code: "origin_not_allowed", Title: "Origin not allowed", Detail: "The console opens only from this site."}
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return &Error{Status: http.StatusBadRequest, Code: "not_websocket", Title: "Bad request", Detail: "This address only accepts websocket connections."}
	}
	sub, err := s.engine.SubscribeAll(r.Context(), a.Actor())
	if err != nil {
		return err
	}
	session, err := s.agentSockets.add(r.Context(), a, currentSessionID(c))
	if err != nil {
		sub.Close()
		return err
	}
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 1024, WriteBufferPool: &s.writeBuffers, CheckOrigin: func(*http.Request) bool { return true }}
	s.open.Add(1) // before the upgrade: see serveSocket
	conn, err := up.Upgrade(c.Response(), r, nil)
	if err != nil {
		s.open.Done()
		s.agentSockets.remove(session)
		sub.Close()
		return nil
	}
	ctx := context.Background()
	s.opts.Metrics.socketOpened("inbox")
	go func() {
		defer s.open.Done()
		defer s.opts.Metrics.socketClosed("inbox")
		defer s.agentSockets.remove(session)
		defer sub.Close()
		defer conn.Close()
		s.serveInbox(ctx, a, session, conn, sub)
	}()
	return nil
}

// serveInbox runs an inbox socket until it closes, or its session ends.
func (s *Server) serveInbox(ctx context.Context, a kustomer.Agent, session *agentConn, conn *websocket.Conn, sub kustomer.Subscription) {
	t := s.sockets
	readEnd := make(chan struct{})
	go func() {
		// The inbox sends nothing; reading keeps pongs and closes flowing.
		defer close(readEnd)
		conn.SetReadLimit(1024)
		conn.SetReadDeadline(time.Now().Add(t.ReadTimeout))
		conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(t.ReadTimeout)) })
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	write := func(v any) bool {
		conn.SetWriteDeadline(time.Now().Add(t.WriteTimeout))
		return conn.WriteJSON(v) == nil
	}
	closeWith := func(code int, text string) {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	}
	ping := time.NewTicker(t.PingInterval)
	defer ping.Stop()
	var flush <-chan time.Time
	pending := ""
	for {
		select {
		case <-s.opts.Shutdown:
			closeWith(websocket.CloseGoingAway, "server restarting")
			return
		case <-readEnd:
			return
		case <-session.ended.Done():
			write(inboxFrame{Type: "signed_out"})
			closeWith(websocket.ClosePolicyViolation, "signed out")
			return
		case ev, ok := <-sub.Events():
			if !ok {
				if sub.Dropped() {
					closeWith(websocket.CloseTryAgainLater, "fell behind; refresh")
				} else {
					closeWith(websocket.CloseGoingAway, "server restarting")
				}
				return
			}
			switch ev.Type {
			case kustomer.EventAgentUpdated:
				// Accounts are not in the inbox; agentSockets ends this
				// socket when its session ends.
			case kustomer.EventTyping:
			default:
				if pending == "" {
					flush = time.After(inboxCoalesce)
				}
				pending = ev.ConversationID
			}
		case <-flush:
			flush = nil
			if !write(inboxFrame{Type: "inbox", ConversationID: pending}) {
				return
			}
			pending = ""
		case <-ping.C:
			// Also checked here in case the event was lost.
			if !s.sessionLive(ctx, a.ID, session.sessionID) {
				write(inboxFrame{Type: "signed_out"})
				closeWith(websocket.ClosePolicyViolation, "signed out")
				return
			}
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(t.WriteTimeout)); err != nil {
				return
			}
		}
	}
}

// inboxCoalesce bounds how often the inbox is told to refresh.
const inboxCoalesce = 150 * time.Millisecond
