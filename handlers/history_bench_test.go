package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// seedHistory gives one customer 100 conversations, the first with a
// 100-message thread, as the history targets describe.
func seedHistory(b *testing.B) (*env, *client, string) {
	b.Helper()
	e := newEnv(b)
	// One client hands off 100 times: no abuse limit here.
	e.srv.opts.Limits.HandoffRate = kustomer.Rate{Off: true}
	c := e.client()
	id := c.handoff(b)
	for i := 0; i < 99; i++ {
		e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": fmt.Sprintf("Reply %d with a sentence of ordinary length.", i), "authorName": "Dana"})
	}
	for i := 0; i < 99; i++ {
		c.handoff(b)
	}
	ctx := context.Background()
	if conv, _ := e.store.Conversation(ctx, id); conv.LastSeq != 100 {
		b.Fatalf("seeded %d messages", conv.LastSeq)
	}
	return e, c, id
}

// benchmarkGet measures the server's own cost of a page: the request is
// served in process, as the bare reference's benchmark does, so neither the
// client nor the contract-checking transport is counted.
func benchmarkGet(b *testing.B, e *env, c *client, path string) {
	b.Helper()
	u, err := url.Parse(e.URL + path)
	if err != nil {
		b.Fatal(err)
	}
	cookies := c.Jar.Cookies(u)
	b.ReportAllocs()
	for b.Loop() {
		// Uncompressed, as the load generator asks: the page's own cost.
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Encoding", "identity")
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, w.Code)
		}
	}
}

// BenchmarkChatPage100 renders a 100-message chat page over real HTTP.
func BenchmarkChatPage100(b *testing.B) {
	e, c, id := seedHistory(b)
	benchmarkGet(b, e, c, "/conversations/"+id)
}

// BenchmarkConversationList100 renders the 100-row conversation list.
func BenchmarkConversationList100(b *testing.B) {
	e, c, _ := seedHistory(b)
	benchmarkGet(b, e, c, "/conversations?pageSize=100")
}
