package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/a-h/templ"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
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

// BenchmarkHistoryParts splits the two history pages into the reads the
// page makes through the engine and the rendering of its view, each alone,
// so that BENCHMARKS.md can say where a page's time goes and what is left
// once the request's own path (middleware, session, headers) is taken
// away. Compare with go test -bench BarePages ./bench.
func BenchmarkHistoryParts(b *testing.B) {
	e, c, id := seedHistory(b)
	ctx := context.Background()
	u, err := url.Parse(e.URL)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/conversations/"+id, nil)
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	actor := kustomer.CustomerActor(e.srv.sessions.CustomerID(req))
	chatData := func() (kustomer.Conversation, []kustomer.Message) {
		conv, err := e.engine.Conversation(ctx, actor, id)
		if err != nil {
			b.Fatal(err)
		}
		msgs, err := e.engine.GetMessages(ctx, actor, id, kustomer.MessageQuery{Max: threadWindow, Last: true})
		if err != nil {
			b.Fatal(err)
		}
		return conv, msgs
	}
	listData := func() kustomer.ConversationPage {
		res, err := e.engine.GetConversations(ctx, actor, actor.ID, 1, 100)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	renderPage := func(b *testing.B, comp templ.Component) {
		b.ReportAllocs()
		buf := new(bytes.Buffer)
		for b.Loop() {
			buf.Reset()
			if err := comp.Render(ctx, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("chat/data", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			chatData()
		}
	})
	b.Run("chat/render", func(b *testing.B) {
		conv, msgs := chatData()
		ec := e.srv.echo.NewContext(req, httptest.NewRecorder())
		ec.SetParamNames("id")
		ec.SetParamValues(id)
		p := e.srv.chatPage(ec, conv, msgs, access{Actor: actor}, embedState{})
		renderPage(b, views.ChatView(p))
	})
	b.Run("list/data", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			listData()
		}
	})
	b.Run("list/render", func(b *testing.B) {
		res := listData()
		p := views.ConversationListPage{Page: views.Page{ShowConversationsLink: true, L: pageLocale(e.srv.echo.NewContext(req, httptest.NewRecorder()), "", "")}}
		for _, conv := range res.Conversations {
			p.Rows = append(p.Rows, views.ConversationRow{ID: conv.ID, URL: "/conversations/" + conv.ID, FormTitle: e.srv.formTitle(conv.FormID, p.L.Lang()),
				Preview: conv.Preview, CreatedAt: conv.CreatedAt, LastMessageAt: conv.LastMessageAt, Ended: conv.Ended, Unread: conv.CustomerUnread})
		}
		renderPage(b, views.ConversationListView(p))
	})
}
