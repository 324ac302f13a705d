package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

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

func benchmarkGet(b *testing.B, c *client, url string) {
	b.Helper()
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		// Uncompressed, as the load generator asks: the page's own cost.
		// A request each time: the client adds the jar's cookies to it.
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", url, res.StatusCode)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N)/1000, "ms/page")
}

// BenchmarkChatPage100 renders a 100-message chat page over real HTTP.
func BenchmarkChatPage100(b *testing.B) {
	e, c, id := seedHistory(b)
	benchmarkGet(b, c, e.URL+"/conversations/"+id)
}

// BenchmarkConversationList100 renders the 100-row conversation list.
func BenchmarkConversationList100(b *testing.B) {
	e, c, _ := seedHistory(b)
	benchmarkGet(b, c, e.URL+"/conversations?pageSize=100")
}
