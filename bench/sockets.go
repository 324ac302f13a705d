package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// serverFrame is a frame from the server (or, in the same shape, from a
// relay peer). message is an object in message frames and a string in
// error frames, so it is decoded by type.
type serverFrame struct {
	Type            string          `json:"type"`
	Seq             int64           `json:"seq"`
	ClientMessageID string          `json:"clientMessageId"`
	Code            string          `json:"code"`
	Message         json.RawMessage `json:"message"`
}

type frameMessage struct {
	ClientMessageID string `json:"clientMessageId"`
	Seq             int64  `json:"seq"`
}

// parseFrame decodes one frame: its type, and for a message frame its seq
// and tag (the message's clientMessageId); for an ack, the acknowledged tag
// and seq; for an error, the code and the tag it concerns.
func parseFrame(data []byte) (kind string, seq int64, tag, code string, err error) {
	var f serverFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return "", 0, "", "", fmt.Errorf("bad frame: %w", err)
	}
	switch f.Type {
	case "message":
		var m frameMessage
		if err := json.Unmarshal(f.Message, &m); err != nil {
			return "", 0, "", "", fmt.Errorf("bad message frame: %w", err)
		}
		if m.Seq != 0 && m.Seq != f.Seq {
			return "", 0, "", "", fmt.Errorf("message frame seq %d but message.seq %d", f.Seq, m.Seq)
		}
		return f.Type, f.Seq, m.ClientMessageID, "", nil
	case "ack":
		return f.Type, f.Seq, f.ClientMessageID, "", nil
	case "error":
		return f.Type, 0, f.ClientMessageID, f.Code, nil
	}
	return f.Type, 0, "", "", nil
}

// inflight remembers when each message was sent and which stream counts as
// its "other side", to time delivery there. Safe for concurrent use.
type inflight struct {
	mu  sync.Mutex
	m   map[string]sendInfo
	lat *Recorder
}

type sendInfo struct {
	at     time.Time
	to     string
	rec    *Recorder
	notify chan<- struct{}
}

func newInflight() *inflight { return &inflight{m: map[string]sendInfo{}, lat: &Recorder{}} }

// sent registers tag as sent now, to be timed when it reaches stream to,
// into the inflight's recorder and into rec if not nil. notify, if not nil,
// is signalled (without blocking) on arrival.
func (f *inflight) sent(tag, to string, rec *Recorder, notify chan<- struct{}) {
	f.mu.Lock()
	f.m[tag] = sendInfo{at: time.Now(), to: to, rec: rec, notify: notify}
	f.mu.Unlock()
}

// forget drops a tag whose send failed.
func (f *inflight) forget(tag string) {
	f.mu.Lock()
	delete(f.m, tag)
	f.mu.Unlock()
}

// arrived times tag's delivery on stream, if stream is its other side.
func (f *inflight) arrived(tag, stream string, at time.Time) {
	f.mu.Lock()
	info, ok := f.m[tag]
	if ok && info.to == stream {
		delete(f.m, tag)
	}
	f.mu.Unlock()
	if !ok {
		return
	}
	if info.to != stream {
		return
	}
	d := at.Sub(info.at)
	f.lat.Record(d)
	if info.rec != nil {
		info.rec.Record(d)
	}
	if info.notify != nil {
		select {
		case info.notify <- struct{}{}:
		default:
		}
	}
}

// ackEvent is the server's answer to one socket send.
type ackEvent struct {
	tag  string
	seq  int64
	code string // error code; empty for an ack
}

// sock is one open socket of the load generator with its reader running.
type sock struct {
	stream  string
	conn    *websocket.Conn
	acks    chan ackEvent
	done    chan struct{} // closed when the reader stops
	closing atomic.Bool
	wmu     sync.Mutex
}

// sockHooks is what a socket reader reports to.
type sockHooks struct {
	tracker  *Tracker
	inflight *inflight
	errs     *errorCounter
	onAck    func(s *sock, tag string, seq int64) // may be nil
	frames   atomic.Int64
	// unanswered counts sends written and not yet answered by an ack or
	// an error frame: a send whose sender stopped waiting may still be
	// committed, and its ack then adds expectations.
	unanswered atomic.Int64
}

func newSock(stream string, conn *websocket.Conn) *sock {
	return &sock{stream: stream, conn: conn, acks: make(chan ackEvent, 64), done: make(chan struct{})}
}

// read runs the socket's reader until the connection ends.
func (s *sock) read(h *sockHooks) {
	defer close(s.done)
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			if !s.closing.Load() {
				h.errs.add(fmt.Errorf("socket closed by the server: %w", err))
			}
			return
		}
		at := time.Now()
		h.frames.Add(1)
		kind, seq, tag, code, err := parseFrame(data)
		if err != nil {
			h.errs.add(err)
			continue
		}
		switch kind {
		case "message":
			h.tracker.Deliver(s.stream, seq, tag)
			if tag != "" {
				h.inflight.arrived(tag, s.stream, at)
			}
		case "ack":
			// The ack's expectations first, then the send counts as
			// answered: waitDrained must never see it answered with its
			// expectations not yet recorded (it would call the run
			// drained and close the sockets before the message arrived).
			if h.onAck != nil {
				h.onAck(s, tag, seq)
			}
			h.unanswered.Add(-1)
			select {
			case s.acks <- ackEvent{tag: tag, seq: seq}:
			default:
			}
		case "error":
			if tag != "" {
				h.unanswered.Add(-1)
			}
			h.errs.add(fmt.Errorf("error frame: %s", code))
			select {
			case s.acks <- ackEvent{tag: tag, code: code}:
			default:
			}
		}
	}
}

// write sends one text frame with a write deadline.
func (s *sock) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.conn.WriteMessage(websocket.TextMessage, b)
}

// close says goodbye and closes the connection, then waits for the reader
// (bounded).
func (s *sock) close() {
	s.closing.Store(true)
	s.wmu.Lock()
	s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	s.wmu.Unlock()
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	s.conn.Close()
	<-s.done
}

// sendFrame is a customer's send frame.
func sendFrame(tag, body string) []byte {
	b, _ := json.Marshal(map[string]string{"type": "send", "clientMessageId": tag, "body": body})
	return b
}

// relayFrame is a relay peer's message, shaped like the server's message
// frame so that both are read by the same code.
func relayFrame(seq int64, tag, body string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "message", "seq": seq, "message": map[string]any{"seq": seq, "clientMessageId": tag, "body": body}})
	return b
}

// dialRelay opens a socket in room of the bare relay.
func dialRelay(ctx context.Context, base, room string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	conn, res, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?room="+room, http.Header{"Origin": {base}})
	if err != nil {
		if res != nil {
			return nil, &statusError{"dial relay", res.StatusCode, err.Error()}
		}
		return nil, fmt.Errorf("dial relay: %w", err)
	}
	return conn, nil
}

// waitDrained waits until every expected message has arrived, or limit.
func waitDrained(ctx context.Context, tr *Tracker, h *sockHooks, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		// Every send answered first: a late ack adds expectations.
		if h.unanswered.Load() <= 0 && tr.Pending() == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closeAll closes socks, a few at a time.
func closeAll(socks []*sock) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, s := range socks {
		if s == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.close()
		}()
	}
	wg.Wait()
}

var errNoAck = errors.New("no ack within 10 s")
