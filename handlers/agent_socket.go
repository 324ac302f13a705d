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
	k := &inboxSocket{srv: s}
	sub, err := s.engine.SubscribeAllFunc(r.Context(), a.Actor(), func() { k.w.wake(wakeEvents) })
	if err != nil {
		return err
	}
	k.sub = sub
	session, err := s.agentSockets.add(r.Context(), a, currentSessionID(c))
	if err != nil {
		sub.Close()
		return err
	}
	k.agentID, k.session = a.ID, session
	up := websocket.Upgrader{ReadBufferSize: socketReadBuffer, WriteBufferSize: 1024, WriteBufferPool: &s.writeBuffers, CheckOrigin: func(*http.Request) bool { return true }}
	s.open.Add(1) // before the upgrade: see serveSocket
	conn, err := up.Upgrade(c.Response(), r, nil)
	if err != nil {
		s.open.Done()
		s.agentSockets.remove(session)
		sub.Close()
		return nil
	}
	k.conn = conn
	s.opts.Metrics.socketOpened("inbox")
	go func() {
		defer s.open.Done()
		defer s.opts.Metrics.socketClosed("inbox")
		defer s.agentSockets.remove(session)
		k.serve(context.Background())
	}()
	return nil
}

// inboxSocket is one inbox socket: like a conversation's socket, a reader
// that lives as long as it and a writer only while something is due.
type inboxSocket struct {
	srv     *Server
	conn    *websocket.Conn
	agentID string
	session *agentConn
	sub     kustomer.QueuedSubscription
	w       socketWriter

	ping         *time.Timer
	stopShutdown func() bool
	stopEnded    func() bool

	// The writer's alone.
	flush   *time.Timer // armed while a frame waits to be written
	pending string      // the conversation of the frame that waits
}

// serve runs an inbox socket until it closes, or its session ends.
func (k *inboxSocket) serve(ctx context.Context) {
	t := k.srv.sockets
	k.ping = time.AfterFunc(t.PingInterval, func() { k.w.wake(wakePing) })
	k.stopShutdown = context.AfterFunc(k.srv.closing, func() { k.w.wake(wakeShutdown) })
	k.stopEnded = context.AfterFunc(k.session.ended, func() { k.w.wake(wakeEnded) })
	k.w.start(k.conn, func(due wakeup, _ []outbound) bool { return k.writeDue(ctx, due) })
	// The inbox sends nothing; reading keeps pongs and closes flowing.
	k.conn.SetReadLimit(1024)
	k.conn.SetReadDeadline(time.Now().Add(t.ReadTimeout))
	k.conn.SetPongHandler(func(string) error { return k.conn.SetReadDeadline(time.Now().Add(t.ReadTimeout)) })
	for {
		if _, _, err := k.conn.ReadMessage(); err != nil {
			break
		}
	}
	k.w.stop()
	k.ping.Stop()
	if k.flush != nil {
		k.flush.Stop()
	}
	k.stopShutdown()
	k.stopEnded()
	k.sub.Close()
}

// writeDue writes what woke the writer; false closes the socket.
func (k *inboxSocket) writeDue(ctx context.Context, due wakeup) bool {
	switch {
	case due&wakeShutdown != 0:
		k.close(websocket.CloseGoingAway, "server restarting")
		return false
	case due&wakeEnded != 0:
		k.signOut()
		return false
	}
	if due&wakeEvents != 0 && !k.drain() {
		return false
	}
	if due&wakeFlush != 0 && k.pending != "" {
		if !k.write(inboxFrame{Type: "inbox", ConversationID: k.pending}) {
			return false
		}
		k.pending = ""
	}
	return due&wakePing == 0 || k.srv.keepAlive(ctx, k.conn, k.ping, k.agentID, k.session, k.signOut)
}

// keepAlive writes a socket's due ping and arms the next one. An agent's
// socket (session set) first checks the session, in case the event of its
// end was lost, and signs out (signOut) when it has ended. False closes the
// socket.
func (s *Server) keepAlive(ctx context.Context, conn *websocket.Conn, ping *time.Timer, agentID string, session *agentConn, signOut func()) bool {
	t := s.sockets
	if session != nil && !s.sessionLive(ctx, agentID, session.sessionID) {
		signOut()
		return false
	}
	if agentID != "" {
		s.engine.TouchAgent(ctx, agentID)
	}
	if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(t.WriteTimeout)); err != nil {
		return false
	}
	ping.Reset(t.PingInterval)
	return true
}

// drain takes the waiting events: the first that changes the inbox arms
// the flush, which writes one frame for all that come before it.
func (k *inboxSocket) drain() bool {
	for {
		ev, ok, ended := k.sub.Next()
		switch {
		case ended && k.sub.Dropped():
			k.close(websocket.CloseTryAgainLater, "fell behind; refresh")
			return false
		case ended:
			k.close(websocket.CloseGoingAway, "server restarting")
			return false
		case !ok:
			return true
		}
		switch ev.Type {
		case kustomer.EventAgentUpdated:
			// Accounts are not in the inbox; agentSockets ends this
			// socket when its session ends.
		case kustomer.EventTyping:
		default:
			if k.pending == "" {
				if k.flush == nil {
					k.flush = time.AfterFunc(inboxCoalesce, func() { k.w.wake(wakeFlush) })
				} else {
					k.flush.Reset(inboxCoalesce)
				}
			}
			k.pending = ev.ConversationID
		}
	}
}

func (k *inboxSocket) write(v any) bool {
	k.conn.SetWriteDeadline(time.Now().Add(k.srv.sockets.WriteTimeout))
	return k.conn.WriteJSON(v) == nil
}

func (k *inboxSocket) close(code int, text string) {
	k.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

// signOut tells the inbox its session ended, and closes.
func (k *inboxSocket) signOut() {
	k.write(inboxFrame{Type: "signed_out"})
	k.close(websocket.ClosePolicyViolation, "signed out")
}

// inboxCoalesce bounds how often the inbox is told to refresh.
const inboxCoalesce = 150 * time.Millisecond
