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

// noticeFrame tells the agent of something for them (a new conversation
// in their queues, a customer's message in theirs…): the console shows a
// desktop notification or plays a sound, as the agent chose.
type noticeFrame struct {
	Type           string `json:"type"` // "notice"
	Kind           string `json:"kind"`
	ConversationID string `json:"conversationId"`
	Title          string `json:"title"`
	Body           string `json:"body"`
	URL            string `json:"url"`
}

// statusFrame tells the console its agent's status changed (elsewhere, or
// by handoff).
type statusFrame struct {
	Type   string `json:"type"` // "status"
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// countsFrame is what the console's title, favicon and queue tabs count.
type countsFrame struct {
	Type string `json:"type"` // "counts"
	kustomer.AgentCounts
}

// maxNoticesPerWrite bounds the notices one write sends: a burst is
// summed up by the counts that follow.
const maxNoticesPerWrite = 5

// noticeFor is the frame of notice n for its kind, in the console's words.
func noticeFor(kind string, n *kustomer.Notice) noticeFrame {
	name := orDefault(n.CustomerName, "A customer")
	f := noticeFrame{Type: "notice", Kind: kind, ConversationID: n.ConversationID, Body: n.Preview, URL: "/agent/conversations/" + n.ConversationID}
	switch kind {
	case kustomer.NoticeNewConversation:
		f.Title = "New conversation from " + name
	case kustomer.NoticeMessage:
		f.Title = "New message from " + name
	case kustomer.NoticeAssigned:
		f.Title = "Assigned to you: " + name
	case kustomer.NoticeSuggested:
		f.Title = "Suggested to you: " + name
	default:
		f.Title = "Waiting in your queue: " + name
	}
	return f
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
	k.agentID, k.agent, k.session = a.ID, a, session
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
	agent   kustomer.Agent // as of the last agent.updated: whose queues
	session *agentConn
	sub     kustomer.QueuedSubscription
	w       socketWriter

	ping         *time.Timer
	stopShutdown func() bool
	stopEnded    func() bool

	// The writer's alone.
	flush     *time.Timer // armed while a frame waits to be written
	pending   string      // the conversation of the frame that waits
	notices   []noticeFrame
	status    *statusFrame // the agent's new status, to send
	countsDue bool         // the counts are to be sent with the next flush
}

// serve runs an inbox socket until it closes, or its session ends.
func (k *inboxSocket) serve(ctx context.Context) {
	t := k.srv.sockets
	k.ping = time.AfterFunc(t.PingInterval, func() { k.w.wake(wakePing) })
	k.stopShutdown = context.AfterFunc(k.srv.closing, func() { k.w.wake(wakeShutdown) })
	k.stopEnded = context.AfterFunc(k.session.ended, func() { k.w.wake(wakeEnded) })
	k.countsDue = true // the console's first counts
	k.w.start(k.conn, func(due wakeup, _ []outbound) bool { return k.writeDue(ctx, due) })
	k.w.wake(wakeFlush)
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
	if due&wakeEvents != 0 && !k.drain(ctx) {
		return false
	}
	for _, n := range k.notices {
		if !k.write(n) {
			return false
		}
	}
	k.notices = k.notices[:0]
	if k.status != nil {
		if !k.write(*k.status) {
			return false
		}
		k.status = nil
	}
	if due&wakeFlush != 0 && k.pending != "" {
		if !k.write(inboxFrame{Type: "inbox", ConversationID: k.pending}) {
			return false
		}
		k.pending, k.countsDue = "", true
	}
	if due&wakeFlush != 0 && k.countsDue {
		counts, err := k.srv.engine.AgentCounts(ctx, k.agent)
		if err != nil {
			k.srv.log.WarnContext(ctx, "count the console's conversations", "agent_id", k.agentID, "err", err)
		} else if !k.write(countsFrame{Type: "counts", AgentCounts: counts}) {
			return false
		}
		k.countsDue = false
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
func (k *inboxSocket) drain(ctx context.Context) bool {
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
			// socket when its session ends. The agent's own skills decide
			// their queues.
			if ev.Agent != nil && ev.Agent.ID == k.agentID {
				if ev.Agent.Status != k.agent.Status || ev.Agent.StatusReason != k.agent.StatusReason {
					k.status = &statusFrame{Type: "status", Status: string(ev.Agent.Status), Reason: ev.Agent.StatusReason}
				}
				k.agent = *ev.Agent
				k.arm()
			}
		case kustomer.EventTyping:
		default:
			k.notice(ctx, ev)
			if k.pending == "" {
				k.arm()
			}
			k.pending = ev.ConversationID
		}
	}
}

// arm arms the flush, which writes the waiting frame and the counts.
func (k *inboxSocket) arm() {
	if k.flush == nil {
		k.flush = time.AfterFunc(inboxCoalesce, func() { k.w.wake(wakeFlush) })
	} else {
		k.flush.Reset(inboxCoalesce)
	}
}

// notice queues what ev tells this agent, if anything. The notice is
// derived once per event, for every console.
func (k *inboxSocket) notice(ctx context.Context, ev kustomer.Event) {
	v := ev.Memo.Do("console-notice", func() any {
		n, err := k.srv.engine.ConsoleNotice(ctx, ev)
		if err != nil {
			k.srv.log.WarnContext(ctx, "derive a console notice", "conversation_id", ev.ConversationID, "err", err)
		}
		return n
	})
	n, _ := v.(*kustomer.Notice)
	if kind := n.For(k.agent); kind != "" && len(k.notices) < maxNoticesPerWrite {
		k.notices = append(k.notices, noticeFor(kind, n))
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
