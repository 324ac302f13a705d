package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/handoff/handoff/kustomer"
)

// frame is any server frame.
type frame struct {
	Type            string `json:"type"`
	Seq             int64  `json:"seq"`
	HTML            string `json:"html"`
	ClientMessageID string `json:"clientMessageId"`
	MessageID       string `json:"messageId"`
	Token           string `json:"token"`
	Code            string `json:"code"`
	RetryAfter      int    `json:"retryAfter"`
	Message         json.RawMessage
	Conversation    struct {
		Ended bool `json:"ended"`
	} `json:"conversation"`
}

func (f frame) msg(t testing.TB) messageResponse {
	t.Helper()
	var m messageResponse
	if err := json.Unmarshal(f.Message, &m); err != nil {
		t.Fatalf("message frame: %v", err)
	}
	return m
}

type ws struct {
	t    testing.TB
	conn *websocket.Conn
}

// dial opens the chat socket as c, with optional extra headers.
func (c *client) dial(t testing.TB, id string, header ...string) (*ws, *http.Response, error) {
	t.Helper()
	return c.dialQuery(t, id, "", header...)
}

func (c *client) mustDial(t testing.TB, id string, afterSeq int64) *ws {
	t.Helper()
	w, res, err := c.dial(t, id)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	w.send(map[string]any{"type": "hello", "afterSeq": afterSeq})
	return w
}

func (w *ws) send(v any) {
	w.t.Helper()
	if err := w.conn.WriteJSON(v); err != nil {
		w.t.Fatal(err)
	}
}

// next reads the next frame, failing after a deadline.
func (w *ws) next() frame {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f frame
	if err := w.conn.ReadJSON(&f); err != nil {
		w.t.Fatalf("read frame: %v", err)
	}
	return f
}

// messages reads frames until it has n message frames, returning them; acks
// and other frames are returned separately.
func (w *ws) messages(n int) (msgs, others []frame) {
	w.t.Helper()
	for len(msgs) < n {
		f := w.next()
		if f.Type == "message" {
			msgs = append(msgs, f)
		} else {
			others = append(others, f)
		}
	}
	return msgs, others
}

// quiet asserts that no frame arrives for a short while. A timed-out read
// leaves a gorilla connection unusable, so quiet must be the last read.
func (w *ws) quiet(d time.Duration) {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(d))
	var f frame
	err := w.conn.ReadJSON(&f)
	var ne interface{ Timeout() bool }
	if err == nil {
		w.t.Fatalf("unexpected frame %+v", f)
	}
	if !errors.As(err, &ne) || !ne.Timeout() {
		w.t.Fatalf("read: %v", err)
	}
}

func seqs(fs []frame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%d,", f.Seq)
	}
	return b.String()
}

func (e *env) agentSays(t testing.TB, id, body string) {
	t.Helper()
	if res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": body, "authorName": "Dana"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("agent send: %d %s", res.StatusCode, res.Body)
	}
}

func TestSocketAckAfterCommit(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	w.send(map[string]any{"type": "send", "clientMessageId": "c-1", "body": "Is anyone there?"})
	var ack *frame
	var msg *frame
	for ack == nil || msg == nil {
		f := w.next()
		switch f.Type {
		case "ack":
			ack = &f
			// Acknowledged means committed: the message is readable now.
			got, err := e.store.Messages(context.Background(), id, kustomer.MessageQuery{AfterSeq: 1})
			if err != nil || len(got) != 1 || got[0].ID != f.MessageID {
				t.Fatalf("ack %+v before the message was readable: %+v %v", f, got, err)
			}
		case "message":
			msg = &f
		default:
			t.Fatalf("unexpected frame %+v", f)
		}
	}
	if ack.ClientMessageID != "c-1" || ack.Seq != 2 {
		t.Errorf("ack %+v", ack)
	}
	m := msg.msg(t)
	if msg.Seq != 2 || m.MessageID != ack.MessageID || m.ClientMessageID != "c-1" || m.Direction != kustomer.DirectionIn {
		t.Errorf("message frame %+v", m)
	}
	if !strings.Contains(msg.HTML, `data-seq="2"`) || !strings.Contains(msg.HTML, "Is anyone there?") {
		t.Errorf("message html %q", msg.HTML)
	}
	e.agentSays(t, id, "Yes, <Dana> here")
	got, _ := w.messages(1)
	if got[0].Seq != 3 || got[0].msg(t).Direction != kustomer.DirectionOut || strings.Contains(got[0].HTML, "<Dana>") {
		t.Errorf("agent reply frame %+v", got[0])
	}
}

func TestSocketIdempotentRetry(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	send := map[string]any{"type": "send", "clientMessageId": "retry-1", "body": "Once only"}
	w.send(send)
	w.send(send) // the client did not see the first ack and retries
	var acks []frame
	msgs, others := w.messages(1)
	acks = append(acks, others...)
	for len(acks) < 2 {
		f := w.next()
		if f.Type == "message" {
			t.Fatalf("second message frame for a retried send: %+v", f)
		}
		acks = append(acks, f)
	}
	if acks[0].Type != "ack" || acks[1].Type != "ack" || acks[0].MessageID != acks[1].MessageID || acks[0].Seq != 2 {
		t.Errorf("acks %+v", acks)
	}
	if msgs[0].Seq != 2 {
		t.Errorf("message seq %d", msgs[0].Seq)
	}
	e.agentSays(t, id, "next")
	next, _ := w.messages(1)
	if next[0].Seq != 3 {
		t.Errorf("after a retry the next message is seq %d, want 3", next[0].Seq)
	}
	if m, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{}); len(m) != 3 {
		t.Errorf("%d messages stored, want 3", len(m))
	}
}

func TestSocketResumeAfterDrop(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	e.agentSays(t, id, "one")
	first, _ := w.messages(1)
	w.conn.Close() // the network drops

	for _, b := range []string{"two", "three", "four"} {
		e.agentSays(t, id, b)
	}
	w2 := c.mustDial(t, id, first[0].Seq)
	got, _ := w2.messages(3)
	if seqs(got) != "3,4,5," {
		t.Fatalf("resumed seqs %s, want 3,4,5,", seqs(got))
	}
	for i, want := range []string{"two", "three", "four"} {
		if got[i].msg(t).Body != want {
			t.Errorf("resumed message %d = %q", i, got[i].msg(t).Body)
		}
	}
	e.agentSays(t, id, "five")
	live, _ := w2.messages(1)
	if live[0].Seq != 6 {
		t.Errorf("live after resume: seq %d", live[0].Seq)
	}
	w2.quiet(100 * time.Millisecond)

	// A fresh page (afterSeq 0) gets the whole thread.
	all, _ := c.mustDial(t, id, 0).messages(6)
	if seqs(all) != "1,2,3,4,5,6," {
		t.Errorf("full replay %s", seqs(all))
	}
}

func TestSocketGapFilledFromStore(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	ctx := context.Background()
	// Two messages committed in order whose events arrive out of order.
	var stored []kustomer.Message
	for _, b := range []string{"a", "b"} {
		m, _, err := e.store.AppendMessage(ctx, kustomer.NewMessage{Message: kustomer.Message{
			ID: kustomer.NewID(), ConversationID: id, Body: b, Direction: kustomer.DirectionOut,
			CreatedAt: time.Now(), SentBy: kustomer.Author{Type: kustomer.AuthorAgent},
		}})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, m)
	}
	if err := e.hub.Publish(ctx, kustomer.Event{Type: kustomer.EventMessageCreated, ConversationID: id, Message: &stored[1]}); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.Publish(ctx, kustomer.Event{Type: kustomer.EventMessageCreated, ConversationID: id, Message: &stored[0]}); err != nil {
		t.Fatal(err)
	}
	got, _ := w.messages(2)
	if seqs(got) != "2,3," {
		t.Fatalf("seqs %s, want 2,3,", seqs(got))
	}
	w.quiet(100 * time.Millisecond)
}

func TestSocketTwoSocketsOneConversation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	a := c.mustDial(t, id, 1)
	b := c.mustDial(t, id, 1)
	a.send(map[string]any{"type": "send", "clientMessageId": "from-a", "body": "typed in tab A"})
	gotB, _ := b.messages(1)
	if m := gotB[0].msg(t); m.Body != "typed in tab A" || m.ClientMessageID != "from-a" {
		t.Errorf("tab B got %+v", m)
	}
	a.messages(1)
	e.agentSays(t, id, "to both")
	for name, s := range map[string]*ws{"a": a, "b": b} {
		got, _ := s.messages(1)
		if got[0].Seq != 3 {
			t.Errorf("%s: seq %d", name, got[0].Seq)
		}
	}
}

func TestSocketSlowClientDoesNotStallOthers(t *testing.T) {
	e := newEnv(t)
	e.hub.Buffer = 8
	e.srv.sockets.WriteTimeout = 2 * time.Second
	c := e.client()
	id := c.handoff(t)
	slow := c.mustDial(t, id, 1) // never reads
	fast := c.mustDial(t, id, 1)
	// Each message must reach the fast socket before the next is sent, while
	// the slow one's TCP buffers fill with large frames, until the hub drops
	// the subscriber that cannot keep up (bounded).
	body := strings.Repeat("x", 7900)
	sent := 0
	for ; sent < 4000; sent++ {
		if _, dropped := e.hub.Stats(); dropped > 0 {
			break
		}
		e.agentSays(t, id, fmt.Sprintf("%d %s", sent, body))
		got, _ := fast.messages(1)
		if got[0].Seq != int64(sent+2) {
			t.Fatalf("fast socket: message %d has seq %d", sent, got[0].Seq)
		}
	}
	if _, dropped := e.hub.Stats(); dropped != 1 {
		t.Fatalf("hub dropped %d subscribers after %d messages, want the slow one only", dropped, sent)
	}
	// The fast socket is unaffected.
	e.agentSays(t, id, "after the drop")
	if got, _ := fast.messages(1); got[0].Seq != int64(sent+2) {
		t.Fatalf("fast socket after the drop: seq %d", got[0].Seq)
	}
	// The slow socket was dropped: after what was buffered, it is closed
	// with "try again later" and its client would resume.
	slow.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var err error
	for err == nil {
		_, _, err = slow.conn.ReadMessage()
	}
	if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Errorf("slow socket ended with %v, want close 1013", err)
	}
}

func TestSocketOriginChecked(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	_, res, err := c.dial(t, id, "Origin", "https://evil.example")
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v status %v, want 403", err, res)
	}
	if _, _, err := c.dial(t, id, "Origin", e.URL); err != nil {
		t.Fatalf("own origin refused: %v", err)
	}
}

func TestSocketBadFrames(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	expectError := func(code, clientID string) {
		t.Helper()
		f := w.next()
		if f.Type != "error" || f.Code != code || f.ClientMessageID != clientID {
			t.Fatalf("got %+v, want error %s for %q", f, code, clientID)
		}
	}
	if err := w.conn.WriteMessage(websocket.TextMessage, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	expectError("bad_frame", "")
	if err := w.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	expectError("bad_frame", "")
	w.send(map[string]any{"type": "dance"})
	expectError("bad_frame", "")
	w.send(map[string]any{"type": "send", "body": "no id"})
	expectError("invalid", "")
	w.send(map[string]any{"type": "send", "clientMessageId": "long", "body": strings.Repeat("y", kustomer.MaxBodyLen+1)})
	expectError("invalid", "long")
	w.send(map[string]any{"type": "send", "clientMessageId": "empty", "body": "  "})
	expectError("invalid", "empty")
	w.send(map[string]any{"type": "read", "seq": 99})
	expectError("invalid", "")
	// The socket still works.
	w.send(map[string]any{"type": "send", "clientMessageId": "ok", "body": "fine"})
	msgs, others := w.messages(1)
	if msgs[0].Seq != 2 {
		t.Errorf("seq %d", msgs[0].Seq)
	}
	if len(others) == 0 {
		if f := w.next(); f.Type != "ack" {
			t.Errorf("want ack, got %+v", f)
		}
	}
	if m, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{}); len(m) != 2 {
		t.Errorf("%d messages stored, want 2", len(m))
	}
	// A frame over the read limit closes the socket.
	// The server may close before it has read it all: a failed write is
	// fine, the close below is what counts.
	_ = w.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"send","body":"`+strings.Repeat("z", 70<<10)+`"}`))
	w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		_, _, err = w.conn.ReadMessage()
	}
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("oversized frame: %v, want close 1009", err)
	}
}

func TestSocketConversationEnded(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	e.org(http.MethodPost, "/conversations/"+id+"/end", nil)
	f := w.next()
	if f.Type != "message" || f.Seq != 2 || !strings.Contains(f.HTML, "ended") || f.msg(t).SentBy.Type != kustomer.AuthorSystem {
		t.Fatalf("got %+v, want the system message of the end", f)
	}
	f = w.next()
	if f.Type != "conversation" || !f.Conversation.Ended {
		t.Fatalf("got %+v, want ended conversation frame", f)
	}
	w.send(map[string]any{"type": "send", "clientMessageId": "late", "body": "hello?"})
	f = w.next()
	if f.Type != "error" || f.Code != "conversation_ended" || f.ClientMessageID != "late" {
		t.Errorf("send to ended: %+v", f)
	}
}

func TestSocketTypingReachesOthersOnly(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	sub := e.hub.Subscribe(id)
	defer sub.Close()
	w := c.mustDial(t, id, 1)
	w.send(map[string]any{"type": "typing", "typing": true})
	select {
	case ev := <-sub.Events():
		if ev.Type != kustomer.EventTyping || !ev.Typing.Typing || ev.Typing.Author.Type != kustomer.AuthorCustomer {
			t.Errorf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no typing event")
	}
	// One's own typing is not echoed: the next frame is the agent's message.
	e.agentSays(t, id, "marker")
	if f := w.next(); f.Type != "message" {
		t.Fatalf("customer got %+v before the marker", f)
	}
	if err := e.hub.Publish(context.Background(), kustomer.Event{Type: kustomer.EventTyping, ConversationID: id,
		Typing: &kustomer.Typing{Author: kustomer.Author{Type: kustomer.AuthorAgent, ID: "a1", DisplayName: "Dana"}, Typing: true}}); err != nil {
		t.Fatal(err)
	}
	f := w.next()
	if f.Type != "typing" || !strings.Contains(string(mustJSON(t, f)), "typing") {
		t.Errorf("agent typing: %+v", f)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// settledGoroutines returns how many goroutines the process runs once the
// count has held still for a moment.
func settledGoroutines() int {
	n, still := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(5 * time.Second); still < 10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			still++
		} else {
			n, still = m, 0
		}
	}
	return n
}

// goroutinesSettleAt waits until the process runs at most want goroutines,
// and returns how many it runs: the last count if it never gets there.
func goroutinesSettleAt(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSocketIdleHoldsOneGoroutine: an idle socket, live or waiting for
// hello, holds one goroutine, its reader; a writer runs only while there is
// something to write.
func TestSocketIdleHoldsOneGoroutine(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	first := c.mustDial(t, id, 0) // warms the store's connections up
	first.messages(1)
	base := settledGoroutines()
	const n = 40
	for range n {
		c.mustDial(t, id, 0).messages(1) // replayed, then idle
	}
	for range n {
		if _, _, err := c.dial(t, id); err != nil { // never says hello
			t.Fatal(err)
		}
	}
	// The test's own client connections hold no goroutines: the difference
	// is the server's.
	got := goroutinesSettleAt(base + 2*n)
	if per := float64(got-base) / (2 * n); per > 1.05 {
		t.Errorf("%d idle sockets hold %d goroutines (%.2f each), want one each", 2*n, got-base, per)
	}
	// Idle, they still deliver.
	e.agentSays(t, id, "still there?")
	if got, _ := first.messages(1); got[0].Seq != 2 {
		t.Errorf("after idling: seq %d, want 2", got[0].Seq)
	}
}

// TestSocketIdlePingKeepsAlive: an idle socket is pinged every interval
// (each ping arms the next), the client's pongs keep it open past the read
// timeout many times over, and it still delivers.
func TestSocketIdlePingKeepsAlive(t *testing.T) {
	e := newEnv(t)
	e.srv.sockets.PingInterval = 20 * time.Millisecond
	e.srv.sockets.ReadTimeout = 150 * time.Millisecond
	c := e.client()
	id := c.handoff(t)
	w := c.mustDial(t, id, 1)
	var pings atomic.Int32
	w.conn.SetPingHandler(func(data string) error {
		pings.Add(1)
		return w.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	// The agent answers after several read timeouts; meanwhile the client
	// reads, and so answers pings, but sends nothing.
	answered := make(chan error, 1)
	time.AfterFunc(time.Second, func() {
		res := e.client().sendJSON(http.MethodPost, "/api/v1/org/conversations/"+id+"/messages",
			map[string]any{"body": "sorry for the wait", "authorName": "Dana"}, "Authorization", "Bearer "+testToken)
		if res.StatusCode != http.StatusCreated {
			answered <- fmt.Errorf("agent send: %d %s", res.StatusCode, res.Body)
		}
		close(answered)
	})
	got, _ := w.messages(1)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if got[0].Seq != 2 {
		t.Errorf("seq %d, want 2", got[0].Seq)
	}
	if n := pings.Load(); n < 10 {
		t.Errorf("%d pings in a second at a 20 ms interval, want many more", n)
	}
}

// TestSocketShutdownClosesIdleSockets: when the server begins to shut
// down, idle sockets (live, and waiting for hello) close at once with
// "going away", and Wait sees them all closed.
func TestSocketShutdownClosesIdleSockets(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	live := c.mustDial(t, id, 0)
	live.messages(1)
	waiting, _, err := c.dial(t, id)
	if err != nil {
		t.Fatal(err)
	}
	e.shutdown()
	for name, w := range map[string]*ws{"live": live, "waiting for hello": waiting} {
		w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var err error
		for err == nil {
			_, _, err = w.conn.ReadMessage()
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("%s socket ended with %v, want close 1001 at once", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Wait(ctx); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

// TestSocketStreamsWithoutHello: a client that never says hello is
// streamed to from the conversation's position at connect once the hello
// timeout passes; what came before is not replayed.
func TestSocketStreamsWithoutHello(t *testing.T) {
	e := newEnv(t)
	e.srv.sockets.HelloTimeout = 50 * time.Millisecond
	c := e.client()
	id := c.handoff(t)
	w, _, err := c.dial(t, id)
	if err != nil {
		t.Fatal(err)
	}
	e.agentSays(t, id, "anyone?")
	got, _ := w.messages(1)
	if got[0].Seq != 2 {
		t.Errorf("first frame without hello: seq %d, want 2 (live only)", got[0].Seq)
	}
}
