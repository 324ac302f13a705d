package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestAckRecordsExpectationsFirst checks the order the drain check relies
// on: a send counts as answered only once its ack's expectations are
// recorded. The other order let waitDrained see nothing unanswered and
// nothing pending in between, call the run drained, and close the sockets
// before the last message arrived: a "missing" message that was never
// lost (the profiled run's missing=1 with drained=true).
func TestAckRecordsExpectationsFirst(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ack","clientMessageId":"t1","messageId":"m1","seq":5}`)); err != nil {
			t.Error(err)
			return
		}
		_, _, _ = c.ReadMessage() // until the client goes
	}))
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSock("a", conn)
	entered, release := make(chan struct{}), make(chan struct{})
	h := &sockHooks{tracker: NewTracker(), inflight: newInflight(), errs: newErrorCounter(),
		onAck: func(*sock, string, int64) { close(entered); <-release }}
	h.unanswered.Store(1)
	go s.read(h)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no ack")
	}
	if n := h.unanswered.Load(); n != 1 {
		t.Errorf("unanswered = %d while the ack's expectations are being recorded, want 1", n)
	}
	close(release)
	for deadline := time.Now().Add(5 * time.Second); h.unanswered.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the ack never counted as an answer")
		}
	}
	s.closing.Store(true)
	_ = conn.Close()
	<-s.done
}
