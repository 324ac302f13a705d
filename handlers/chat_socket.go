package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// socketTunables are the websocket's timings and limits.
type socketTunables struct {
	PingInterval time.Duration // how often the server pings
	ReadTimeout  time.Duration // how long a silent client is kept
	WriteTimeout time.Duration // how long one write may take
	HelloTimeout time.Duration // how long to wait for hello before streaming
	ReadLimit    int64         // largest frame accepted
	SendRate     rate.Limit    // sends per second per socket
	SendBurst    int
}

func defaultSocketTunables() socketTunables {
	return socketTunables{
		PingInterval: 30 * time.Second,
		ReadTimeout:  60 * time.Second,
		WriteTimeout: 10 * time.Second,
		HelloTimeout: 10 * time.Second,
		ReadLimit:    64 << 10,
		SendRate:     5,
		SendBurst:    20,
	}
}

// Close codes the client acts on: it reconnects and resumes after each.
const (
	closeGoingAway = websocket.CloseGoingAway // server shutting down
	closeTryAgain  = websocket.CloseTryAgainLater
)

// chatSocket upgrades /conversations/{id}/ws once the session is known to
// own the conversation and the Origin is allowed, then streams the thread.
func (s *Server) chatSocket(c echo.Context) error {
	acc, err := s.conversationAccess(c)
	if err != nil {
		return err
	}
	actor := acc.Actor
	r := c.Request()
	// The socket needs the conversation's form and last seq: its head.
	conv, err := s.engine.ConversationHead(r.Context(), actor, c.Param("id"))
	if err != nil {
		return err
	}
	// The socket's sends are labelled with the customer's name, looked up
	// once here rather than on every send.
	if cust, err := s.engine.Customer(r.Context(), actor, actor.ID); err == nil {
		actor.Name = cust.Name
	}
	if ok, err := s.originAllowed(r, conv.FormID); err != nil {
		return err
	} else if !ok {
		return errOriginNotAllowed
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return &Error{Status: http.StatusBadRequest, Code: "not_websocket", Title: "Bad request", Detail: "This address only accepts websocket connections."}
	}
	return s.serveSocket(c, actor, conv, nil, "")
}

// serveSocket upgrades and serves a conversation socket for actor. A
// customer never receives private notes; an agent (agent != nil, signed in
// with sessionID) sees them, sees the customer typing, and is signed out
// the moment the session ends.
func (s *Server) serveSocket(c echo.Context, actor kustomer.Actor, conv kustomer.Conversation, agent *kustomer.Agent, sessionID string) error {
	r := c.Request()
	sock := &socket{
		srv:     s,
		actor:   actor,
		conv:    socketConv{ID: conv.ID, FormID: conv.FormID, LastSeq: conv.LastSeq},
		lastSeq: -1,
		agent:   agent,
	}
	sub, err := s.engine.SubscribeFunc(r.Context(), actor, conv.ID, func() { sock.w.wake(wakeEvents) })
	if err != nil {
		return err
	}
	sock.sub = sub
	var session *agentConn
	if agent != nil {
		if session, err = s.agentSockets.add(r.Context(), *agent, sessionID); err != nil {
			sub.Close()
			return err
		}
	}
	sock.session = session
	up := websocket.Upgrader{
		// Held for the socket's life: small, as the client's frames are;
		// a longer frame is read through it in pieces.
		ReadBufferSize:  socketReadBuffer,
		WriteBufferSize: 1024,
		// Idle sockets hold no write buffer: one is borrowed per write.
		WriteBufferPool: &s.writeBuffers,
		// The origin was checked above, against the conversation's form.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	// Counted before the upgrade, while the server still tracks the
	// connection, so that shutdown's Wait cannot miss it.
	s.open.Add(1)
	conn, err := up.Upgrade(c.Response(), r, nil)
	if err != nil {
		s.open.Done()
		if session != nil {
			s.agentSockets.remove(session)
		}
		sub.Close()
		return nil // the upgrader has answered the client
	}
	kind := "customer"
	if agent != nil {
		kind = "agent"
	}
	sock.conn = conn
	if agent == nil {
		sock.loc = locale.Choose(r.URL.Query().Get("lang"), conv.Lang, r.Header.Get("Accept-Language"))
	}
	// The reader runs on a goroutine of its own and the request's
	// goroutine returns: an idle socket then holds one small stack, not the
	// request's grown one.
	s.opts.Metrics.socketOpened(kind)
	go func() {
		defer s.open.Done()
		defer s.opts.Metrics.socketClosed(kind)
		if session != nil {
			defer s.agentSockets.remove(session)
		}
		sock.serve(context.Background())
	}()
	return nil
}

// socketReadBuffer is the size of a socket's read buffer: room for a
// control frame (125 bytes) and a typical client frame.
const socketReadBuffer = 256

var errOriginNotAllowed = &Error{Status: http.StatusForbidden, Code: "origin_not_allowed", Title: "Origin not allowed", Detail: "This page may not open the chat from its origin."}

// originAllowed accepts requests without an Origin (not from a browser),
// from the site itself, and from the allowed origins of form formID ("" for
// none).
func (s *Server) originAllowed(r *http.Request, formID string) (bool, error) {
	o := r.Header.Get("Origin")
	if o == "" {
		return true, nil
	}
	origin, err := kustomer.ParseOrigin(o)
	if err != nil {
		return false, nil // "null" and other opaque origins
	}
	if s.isOwnOrigin(r, origin) {
		return true, nil
	}
	origins, err := s.formOrigins(r.Context(), formID)
	return slices.Contains(origins, origin), err
}

// socket is one conversation websocket. Its one long-lived goroutine is
// the reader, blocked in the connection's read while the socket is idle. A
// writer goroutine (see socketWriter) runs only while there is something to
// write (an event, a frame the reader queued, a ping or the hello timeout
// due, shutdown, the session's end) and exits once it has written it all;
// at most one runs at a time, so it alone writes to the connection and owns
// the delivery position lastSeq.
type socket struct {
	srv   *Server
	conn  *websocket.Conn
	actor kustomer.Actor
	conv  socketConv
	sub   kustomer.QueuedSubscription
	// agent is the signed-in agent on a console socket, and session their
	// session; both nil for a customer.
	agent   *kustomer.Agent
	session *agentConn
	// loc speaks a customer's language: the page's (?lang= on the socket's
	// URL), else the conversation's, else the browser's; nil on a console.
	loc *locale.Localizer

	// The reader's alone. The limiters are made on first use: most
	// sockets never send, type or ask for a token.
	sends *rate.Limiter
	// limitedUntil is when a customer's refused send may go again.
	limitedUntil time.Time
	typing       *rate.Limiter
	tokens       *rate.Limiter // hand-off token requests

	w socketWriter
	// The writer's alone.
	lastSeq int64       // highest seq delivered; -1 before hello
	hello   *time.Timer // until hello or its timeout; then nil

	ping         *time.Timer
	stopShutdown func() bool // stops the AfterFunc that wakes for shutdown
	stopEnded    func() bool // the same for an agent's session end
}

// socketConv is what a socket keeps of its conversation, as at connect.
type socketConv struct {
	ID      string
	FormID  string // whose send limits a customer's sends take
	LastSeq int64  // where a client that never says hello starts
}

// Frames, client to server.
type inFrame struct {
	Type            string                `json:"type"`
	AfterSeq        *int64                `json:"afterSeq"`
	ClientMessageID string                `json:"clientMessageId"`
	Body            string                `json:"body"`
	Payload         json.RawMessage       `json:"payload"`
	Attachments     []kustomer.Attachment `json:"attachments"`
	Typing          *bool                 `json:"typing"`
	Seq             *int64                `json:"seq"`
	Private         bool                  `json:"private"`
	Lang            string                `json:"lang"`
	QuickReplies    []kustomer.QuickReply `json:"quickReplies"`
}

// Frames, server to client.
type (
	messageFrame struct {
		Type    string          `json:"type"`
		Seq     int64           `json:"seq"`
		Message messageResponse `json:"message"`
		HTML    string          `json:"html"`
	}
	ackFrame struct {
		Type            string `json:"type"`
		ClientMessageID string `json:"clientMessageId"`
		MessageID       string `json:"messageId"`
		Seq             int64  `json:"seq"`
		// Relaying: stored, and being passed on to the system agents
		// answer in (relay mode) until a relayed frame says it arrived.
		Relaying bool `json:"relaying,omitempty"`
	}
	conversationFrame struct {
		Type         string              `json:"type"`
		Conversation conversationSummary `json:"conversation"`
	}
	// relayingFrame lists, when the socket goes live, the customer's
	// messages still being passed on (relay mode).
	relayingFrame struct {
		Type       string   `json:"type"`
		MessageIDs []string `json:"messageIds"`
	}
	// relayedFrame says a customer's message reached the system agents
	// answer in (relay mode).
	relayedFrame struct {
		Type      string `json:"type"`
		MessageID string `json:"messageId"`
	}
	// seenFrame says how far the other side has read: agents, to a
	// customer; the customer, to an agent.
	seenFrame struct {
		Type string `json:"type"`
		Seq  int64  `json:"seq"`
	}
	typingFrame struct {
		Type   string          `json:"type"`
		Typing bool            `json:"typing"`
		Author kustomer.Author `json:"author"`
	}
	// tokenFrame answers a customer's token request with a fresh hand-off
	// token: an embedded frame reconnects and opens the chat in a new tab
	// with it.
	tokenFrame struct {
		Type      string    `json:"type"`
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	errorFrame struct {
		Type            string `json:"type"`
		Code            string `json:"code"`
		Message         string `json:"message"`
		ClientMessageID string `json:"clientMessageId,omitempty"`
		// RetryAfter is how many seconds to wait before sending again,
		// with rate_limited.
		RetryAfter int `json:"retryAfter,omitempty"`
	}
)

// serve runs the socket until the connection fails or the writer closes
// it, on the goroutine that reads.
func (k *socket) serve(ctx context.Context) {
	t := k.srv.sockets
	k.conn.SetReadLimit(t.ReadLimit)
	k.ping = time.AfterFunc(t.PingInterval, func() { k.w.wake(wakePing) })
	k.hello = time.AfterFunc(t.HelloTimeout, func() { k.w.wake(wakeHello) })
	// Shutdown and a session's end wake a writer through AfterFunc rather
	// than a goroutine waiting on each: either may already have happened.
	k.stopShutdown = context.AfterFunc(k.srv.closing, func() { k.w.wake(wakeShutdown) })
	if k.session != nil {
		k.stopEnded = context.AfterFunc(k.session.ended, func() { k.w.wake(wakeEnded) })
	}
	k.w.start(k.conn, func(due wakeup, frames []outbound) bool { return k.writeDue(ctx, due, frames) })
	k.read(ctx)
	k.w.stop()
	k.ping.Stop()
	if k.hello != nil {
		k.hello.Stop()
	}
	k.stopShutdown()
	if k.stopEnded != nil {
		k.stopEnded()
	}
	k.sub.Close()
}

// writeDue writes what woke the writer; false closes the socket.
func (k *socket) writeDue(ctx context.Context, due wakeup, frames []outbound) bool {
	switch {
	case due&wakeShutdown != 0:
		k.close(closeGoingAway, "server restarting")
		return false
	case due&wakeEnded != 0:
		k.signOut()
		return false
	}
	for _, o := range frames {
		if !o.hello {
			if !k.writeFrame(o.frame) {
				return false
			}
		} else if k.lastSeq < 0 && !k.start(ctx, o.after) {
			return false
		} // else already streaming: the position is the server's
	}
	if due&wakeHello != 0 && k.lastSeq < 0 && !k.start(ctx, k.conv.LastSeq) {
		return false
	}
	// Events wait in the subscription until hello.
	if due&wakeEvents != 0 && k.lastSeq >= 0 && !k.drain(ctx) {
		return false
	}
	if due&wakePing == 0 {
		return true
	}
	agentID := ""
	if k.agent != nil {
		agentID = k.agent.ID
	}
	return k.srv.keepAlive(ctx, k.conn, k.ping, agentID, k.session, k.signOut)
}

// start replays from after and goes live: the events that waited are
// delivered next.
func (k *socket) start(ctx context.Context, after int64) bool {
	k.hello.Stop()
	k.hello = nil
	return k.resume(ctx, after) && k.drain(ctx)
}

// drain delivers the subscription's waiting events; when it has ended, the
// socket closes and its client resumes.
func (k *socket) drain(ctx context.Context) bool {
	for {
		ev, ok, ended := k.sub.Next()
		switch {
		case ok:
			if !k.handleEvent(ctx, ev) {
				return false
			}
		case !ended:
			return true
		case k.sub.Dropped():
			k.close(closeTryAgain, "fell behind; resume")
			return false
		default:
			k.close(closeGoingAway, "server restarting")
			return false
		}
	}
}

// resume replays every message after `after`, then marks the socket live.
func (k *socket) resume(ctx context.Context, after int64) bool {
	if after < 0 {
		after = 0
	}
	k.lastSeq = after
	if !k.fill(ctx, 0) {
		return false
	}
	if k.agent != nil || !k.srv.opts.Relay {
		return true
	}
	// Relay mode: which of the customer's messages are still being passed
	// on, as of now (the socket was subscribed before): the page forgets
	// the others' "being passed on" line, whose relayed event may have come
	// before the socket.
	relaying, err := k.srv.engine.RelayPending(ctx, k.conv.ID)
	if err != nil {
		k.srv.log.WarnContext(ctx, "relay pending", "conversation_id", k.conv.ID, "err", err)
		return true
	}
	ids := make([]string, 0, len(relaying))
	for id := range relaying {
		ids = append(ids, id)
	}
	return k.writeJSON(relayingFrame{Type: "relaying", MessageIDs: ids})
}

// fill writes the stored messages after lastSeq and before `before` (0: up
// to the newest). A live event that arrives ahead of an earlier one (two
// sends committed in order but published out of order) is preceded by the
// gap read back from the store: every seq below a committed one is already
// committed, so delivery is exactly once and in order.
func (k *socket) fill(ctx context.Context, before int64) bool {
	for {
		q := kustomer.MessageQuery{AfterSeq: k.lastSeq, BeforeSeq: before, Max: kustomer.MaxMessages}
		msgs, err := k.srv.engine.GetMessages(ctx, k.actor, k.conv.ID, q)
		if err != nil {
			k.srv.log.WarnContext(ctx, "socket replay", "conversation_id", k.conv.ID, "err", err)
			k.close(closeTryAgain, "try again")
			return false
		}
		for _, m := range msgs {
			if !k.deliver(ctx, m, nil) {
				return false
			}
		}
		if len(msgs) < kustomer.MaxMessages {
			return true
		}
	}
}

func (k *socket) handleEvent(ctx context.Context, ev kustomer.Event) bool {
	switch ev.Type {
	case kustomer.EventMessageCreated:
		m := *ev.Message
		if m.Private && k.agent == nil {
			// Agents' notes never reach a customer; the next message's gap
			// fill skips the note's seq (the store hides it too).
			return true
		}
		if m.Seq <= k.lastSeq {
			return true // already delivered by replay or gap fill
		}
		if m.Seq > k.lastSeq+1 && !k.fill(ctx, m.Seq) {
			return false
		}
		return k.deliver(ctx, m, ev.Memo)
	case kustomer.EventConversationUpdated:
		return k.writeJSON(conversationFrame{Type: "conversation", Conversation: summary(*ev.Conversation, true)})
	case kustomer.EventRead:
		seen := kustomer.SeenBy(k.actor, map[string]int64{ev.Read.Reader: ev.Read.Seq})
		if seen == 0 {
			return true // one's own side reading
		}
		return k.writeJSON(seenFrame{Type: "seen", Seq: seen})
	case kustomer.EventMessageRelayed:
		return k.writeJSON(relayedFrame{Type: "relayed", MessageID: ev.Message.ID})
	case kustomer.EventTyping:
		if ev.Typing.Author.Type == k.actor.Type {
			return true // one's own typing is not echoed
		}
		a := ev.Typing.Author
		return k.writeJSON(typingFrame{Type: "typing", Typing: ev.Typing.Typing, Author: kustomer.Author{Type: a.Type, DisplayName: a.DisplayName}})
	}
	return true
}

// deliver writes one message frame with the message's HTML, rendered by the
// same component as the page. A live event's frame is built once per kind
// of viewer and shared by every socket (memo); replays build their own.
func (k *socket) deliver(ctx context.Context, m kustomer.Message, memo *kustomer.Memo) bool {
	// Customers' frames are in their language; the console's in English.
	view := "customer:" + k.loc.Lang()
	if k.agent != nil {
		view = "agent"
	}
	// The frame's bytes are shared by every socket of the kind: written
	// as they are (a prepared message would build a whole connection's
	// buffers per message to frame them, which an uncompressed server
	// frame does not need).
	frame, _ := memo.Do(view, func() any {
		b, err := k.messageFrame(ctx, m)
		if err != nil {
			k.srv.log.ErrorContext(ctx, "render message", "conversation_id", m.ConversationID, "err", err)
			return []byte(nil)
		}
		return b
	}).([]byte)
	if frame == nil {
		k.close(websocket.CloseInternalServerErr, "internal error")
		return false
	}
	if !k.writeFrame(frame) {
		return false
	}
	k.lastSeq = m.Seq
	return true
}

// messageFrame encodes m's frame for this socket's kind of viewer. It
// depends only on the kind (customer or agent), never on the socket.
func (k *socket) messageFrame(ctx context.Context, m kustomer.Message) ([]byte, error) {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	mv := messageView(m, k.actor, k.agent != nil, k.loc)
	if m.Direction == kustomer.DirectionIn && k.srv.opts.Relay {
		relaying, err := k.srv.engine.RelayPending(ctx, m.ConversationID)
		if err != nil {
			return nil, err
		}
		mv.Relaying = relaying[m.ID]
	}
	if mv.Question != nil {
		// A pushed question is the newest message: it is the one to answer.
		mv.Question.Live = true
	}
	if err := views.MessageItem(mv).Render(ctx, buf); err != nil {
		return nil, err
	}
	out := bytes.NewBuffer(make([]byte, 0, 2*buf.Len()+512))
	enc := json.NewEncoder(out)
	// The frame is read by JSON.parse, never put in a page as it is: the
	// HTML needs no \u003c escapes.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(messageFrame{Type: "message", Seq: m.Seq, Message: messageJSON(forViewer(m, k.actor)), HTML: buf.String()}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (k *socket) writeJSON(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		k.srv.log.Error("encode frame", "err", err)
		return false
	}
	return k.writeFrame(b)
}

func (k *socket) writeFrame(b []byte) bool {
	k.conn.SetWriteDeadline(time.Now().Add(k.srv.sockets.WriteTimeout))
	return k.conn.WriteMessage(websocket.TextMessage, b) == nil
}

// signOut tells the console its session ended, and closes.
func (k *socket) signOut() {
	k.writeJSON(map[string]string{"type": "signed_out"})
	k.close(websocket.ClosePolicyViolation, "signed out")
}

func (k *socket) close(code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	k.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// read handles the client's frames until the connection fails.
func (k *socket) read(ctx context.Context) {
	t := k.srv.sockets
	k.conn.SetReadDeadline(time.Now().Add(t.ReadTimeout))
	k.conn.SetPongHandler(func(string) error {
		return k.conn.SetReadDeadline(time.Now().Add(t.ReadTimeout))
	})
	for {
		kind, data, err := k.conn.ReadMessage()
		if err != nil {
			return
		}
		k.conn.SetReadDeadline(time.Now().Add(t.ReadTimeout))
		// The frame is decoded and handled on a stack of its own, so that
		// the reader's stays small while it waits for the next.
		var ok bool
		_ = onFreshStack(func() error { ok = k.handleMessage(ctx, kind, data); return nil })
		if !ok {
			return
		}
	}
}

// handleMessage decodes and acts on one client message; false stops
// reading.
func (k *socket) handleMessage(ctx context.Context, kind int, data []byte) bool {
	if kind != websocket.TextMessage {
		k.reply(errorFrame{Type: "error", Code: "bad_frame", Message: "Frames must be JSON text."})
		return true
	}
	f, ferr := decodeFrame(data)
	if ferr != nil {
		k.reply(*ferr)
		return true
	}
	return k.handleFrame(ctx, f)
}

// decodeFrame parses and checks one client frame, or returns the error frame
// to answer with.
func decodeFrame(data []byte) (inFrame, *errorFrame) {
	bad := func(msg string) (inFrame, *errorFrame) {
		return inFrame{}, &errorFrame{Type: "error", Code: "bad_frame", Message: msg}
	}
	var f inFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || dec.More() {
		return bad("The frame is not a valid JSON object of a known shape.")
	}
	switch f.Type {
	case "hello":
		if f.AfterSeq != nil && *f.AfterSeq < 0 {
			return bad("afterSeq must be 0 or more.")
		}
	case "send":
		if !validClientID(f.ClientMessageID) {
			return inFrame{}, &errorFrame{Type: "error", Code: "invalid", Message: "clientMessageId is required: 1 to 64 printable characters."}
		}
	case "typing":
		if f.Typing == nil {
			return bad("typing must be true or false.")
		}
	case "read":
		if f.Seq == nil {
			return bad("read needs a seq.")
		}
	case "token":
	default:
		return bad("Unknown frame type; expected hello, send, typing, read or token.")
	}
	return f, nil
}

// handleFrame acts on one decoded client frame; false stops reading.
func (k *socket) handleFrame(ctx context.Context, f inFrame) bool {
	if k.session != nil {
		if k.session.isEnded() {
			return true // a writer is closing the socket
		}
		// What an agent sends is stored only while the session is live:
		// checked against the store for each frame that writes, so that
		// nothing read after the session ended is stored, even before
		// the event arrives.
		if f.Type == "send" || f.Type == "read" {
			a, err := k.srv.engine.AgentBySession(ctx, k.agent.ID, k.session.sessionID)
			if _, ended := sessionEndedNotice(err); ended {
				k.session.end()
				return true
			}
			if err != nil {
				k.srv.log.ErrorContext(ctx, "socket session check", "conversation_id", k.conv.ID, "err", err)
				return k.reply(errorFrame{Type: "error", Code: "internal", Message: "Something went wrong; retry in a moment.", ClientMessageID: f.ClientMessageID})
			}
			k.session.name.Store(&a.Name)
		}
	}
	switch f.Type {
	case "hello":
		var after int64
		if f.AfterSeq != nil {
			after = *f.AfterSeq
		}
		return k.w.enqueue(outbound{hello: true, after: after})
	case "send":
		return k.handleSend(ctx, f)
	case "typing":
		if k.typing == nil {
			k.typing = rate.NewLimiter(2, 4)
		}
		if k.typing.Allow() {
			if err := k.srv.engine.SetTyping(ctx, k.sender(), k.conv.ID, *f.Typing); err != nil {
				k.srv.log.WarnContext(ctx, "typing", "conversation_id", k.conv.ID, "err", err)
			}
		}
		return true
	case "read":
		if err := k.srv.engine.MarkRead(ctx, k.actor, k.conv.ID, *f.Seq); err != nil {
			code, msg := k.frameError(err)
			return k.reply(errorFrame{Type: "error", Code: code, Message: msg})
		}
		return true
	case "token":
		if k.agent != nil {
			return k.reply(errorFrame{Type: "error", Code: "forbidden", Message: "Hand-off tokens are for customers."})
		}
		if k.tokens == nil {
			k.tokens = rate.NewLimiter(rate.Every(10*time.Second), 3)
		}
		if !k.tokens.Allow() {
			return k.reply(errorFrame{Type: "error", Code: "rate_limited", Message: "Too many token requests; wait a moment."})
		}
		tok, h := k.srv.sessions.IssueHandoff(k.conv.ID, k.actor.ID, time.Now())
		return k.reply(tokenFrame{Type: "token", Token: tok, ExpiresAt: h.Expires})
	}
	return true
}

// socketRoute names the customer socket in metrics.
const socketRoute = "/conversations/:id/ws"

// allowSend takes a send token: a customer's from the bucket shared by all
// their sockets and requests, an agent's from the socket's own.
// It returns how long to wait, 0 when the send may go ahead.
//
// Once a customer's send is refused, every send on the socket is refused
// until the wait is over, whatever the bucket says: a later message never
// overtakes a refused one, which the client sends again first.
func (k *socket) allowSend() time.Duration {
	if k.actor.IsCustomer() {
		now := time.Now()
		if now.Before(k.limitedUntil) {
			return k.limitedUntil.Sub(now)
		}
		wait := k.srv.allowSend(k.conv.FormID, k.actor.ID)
		if wait > 0 {
			k.limitedUntil = now.Add(wait)
		}
		return wait
	}
	if k.sends == nil {
		k.sends = rate.NewLimiter(k.srv.sockets.SendRate, k.srv.sockets.SendBurst)
	}
	now := time.Now()
	r := k.sends.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// sender is who the socket's sends and typing come from: for an agent,
// under their current display name.
func (k *socket) sender() kustomer.Actor {
	a := k.actor
	if k.session != nil {
		a.Name = *k.session.name.Load()
	}
	return a
}

// handleSend stores a message and acknowledges it after it is committed.
func (k *socket) handleSend(ctx context.Context, f inFrame) bool {
	if wait := k.allowSend(); wait > 0 {
		k.srv.opts.Metrics.rateLimited(socketRoute)
		return k.reply(errorFrame{Type: "error", Code: "rate_limited", Message: k.loc.T("chat.too_fast_socket"),
			ClientMessageID: f.ClientMessageID, RetryAfter: retrySeconds(wait)})
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, _, err := k.srv.engine.SendMessage(sctx, k.sender(), kustomer.SendMessageInput{
		ConversationID: k.conv.ID, ClientMessageID: f.ClientMessageID, Body: f.Body, Payload: f.Payload, Attachments: f.Attachments,
		Private: f.Private, Lang: f.Lang, QuickReplies: f.QuickReplies,
	})
	if err != nil {
		code, text := k.frameError(err)
		if code == "internal" {
			k.srv.log.ErrorContext(ctx, "socket send", "conversation_id", k.conv.ID, "err", err)
		}
		return k.reply(errorFrame{Type: "error", Code: code, Message: text, ClientMessageID: f.ClientMessageID})
	}
	ack := ackFrame{Type: "ack", ClientMessageID: f.ClientMessageID, MessageID: msg.ID, Seq: msg.Seq}
	if k.agent == nil && k.srv.opts.Relay {
		relaying, err := k.srv.engine.RelayPending(ctx, msg.ConversationID)
		ack.Relaying = err == nil && relaying[msg.ID]
	}
	return k.reply(ack)
}

// frameError is the package's frameError, with a message's problem said in
// a customer's language when the engine named it.
func (k *socket) frameError(err error) (string, string) {
	var verr *kustomer.ValidationError
	if k.agent == nil && errors.As(err, &verr) {
		if p, ok := verr.Problems["body"]; ok {
			return "invalid", problemText(k.loc, p)
		}
	}
	return frameError(err)
}

// frameError turns an engine error into an error frame's code and text.
func frameError(err error) (string, string) {
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		var parts []string
		for k, v := range verr.Fields {
			parts = append(parts, k+" "+v)
		}
		return "invalid", sentence(strings.Join(parts, "; "))
	case errors.As(err, &cerr):
		return cerr.Code, sentence(cerr.Reason)
	case errors.Is(err, kustomer.ErrForbidden):
		return "forbidden", "You do not have access to this conversation."
	case errors.Is(err, kustomer.ErrNotFound):
		return "not_found", "This conversation does not exist."
	}
	return "internal", "Something went wrong; retry in a moment."
}

func (k *socket) reply(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return k.w.enqueue(outbound{frame: b})
}
