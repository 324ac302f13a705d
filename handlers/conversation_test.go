package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

func TestChatPageRendersThread(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	if res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "Sorry! <b>Checking</b> now.", "authorType": "agent", "authorName": "Dana"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("org send: %d %s", res.StatusCode, res.Body)
	}
	res := c.get("/conversations/" + id)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	doc := res.doc(t)
	chat := doc.Find(`[data-testid="chat"]`)
	if got, _ := chat.Attr("data-last-seq"); got != "2" {
		t.Errorf("data-last-seq %q, want 2", got)
	}
	// The socket speaks the page's language (English here: no preference).
	if got, _ := chat.Attr("data-socket-url"); got != "/conversations/"+id+"/ws?lang=en" {
		t.Errorf("socket url %q", got)
	}
	msgs := doc.Find(`[data-testid="message"]`)
	if msgs.Length() != 2 {
		t.Fatalf("%d messages rendered, want 2", msgs.Length())
	}
	second := msgs.Eq(1)
	if dir, _ := second.Attr("data-direction"); dir != "out" {
		t.Errorf("agent reply direction %q", dir)
	}
	if !strings.Contains(second.Text(), "Dana") || !strings.Contains(second.Text(), "<b>Checking</b>") {
		t.Errorf("agent reply not shown escaped with author: %q", second.Text())
	}
	if second.Find("b").Length() != 0 {
		t.Errorf("message HTML was not escaped")
	}
	// Viewing the page marks the agent's reply read.
	conv, err := e.store.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.CustomerUnread != 0 {
		t.Errorf("unread %d after viewing", conv.CustomerUnread)
	}
}

func TestConversationIsolation(t *testing.T) {
	e := newEnv(t)
	owner := e.client()
	id := owner.handoff(t)
	other := e.client()
	other.handoff(t) // has a session of its own
	anonymous := e.client()
	for name, c := range map[string]*client{"other customer": other, "no session": anonymous} {
		t.Run(name, func(t *testing.T) {
			checks := []struct {
				what string
				res  response
			}{
				{"page", c.get("/conversations/" + id)},
				{"socket", c.get("/conversations/" + id + "/ws")},
				{"no-js send", c.postForm("/conversations/"+id+"/messages", url.Values{"body": {"hi"}})},
				{"api show", c.sendJSON(http.MethodGet, "/api/v1/conversations/"+id, nil)},
				{"api messages", c.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages", nil)},
				{"api send", c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "hi"})},
				{"api describe", c.sendJSON(http.MethodPatch, "/api/v1/conversations/"+id, map[string]any{"customAttributes": map[string]any{"topicStr": "x"}})},
			}
			for _, ck := range checks {
				if ck.res.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", ck.what, ck.res.StatusCode)
				}
				if strings.Contains(string(ck.res.Body), "My parcel") {
					t.Errorf("%s leaked the conversation", ck.what)
				}
			}
			list := c.get("/conversations")
			if strings.Contains(string(list.Body), id) {
				t.Errorf("list shows another customer's conversation")
			}
		})
	}
	msgs, err := e.store.Messages(context.Background(), id, kustomer.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Errorf("%d messages after refused sends, want 1", len(msgs))
	}
	if res := anonymous.get("/conversations/" + strings.Repeat("0", 24)); res.StatusCode != http.StatusForbidden {
		t.Errorf("no session, unknown conversation: %d, want 403", res.StatusCode)
	}
	if res := owner.get("/conversations/" + strings.Repeat("0", 24)); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown conversation: %d, want 404", res.StatusCode)
	}
	if res := owner.get("/conversations/not-an-id"); res.StatusCode != http.StatusNotFound {
		t.Errorf("malformed id: %d, want 404", res.StatusCode)
	}
}

func TestConversationListPaged(t *testing.T) {
	e := newEnv(t)
	e.srv.opts.Limits.HandoffRate = kustomer.Rate{Off: true} // five hand-offs in a row
	c := e.client()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.engine.Now = func() time.Time { now = now.Add(time.Minute); return now }
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, c.handoff(t))
	}
	// New activity moves the oldest conversation to the top.
	if res := e.org(http.MethodPost, "/conversations/"+ids[0]+"/messages", map[string]any{"body": "Found your parcel", "authorName": "Dana"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("org send %d", res.StatusCode)
	}
	if res := e.org(http.MethodPost, "/conversations/"+ids[1]+"/end", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("end %d", res.StatusCode)
	}
	want := []string{ids[0], ids[4], ids[3], ids[2], ids[1]}
	var got []string
	next := "/conversations?pageSize=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("pager does not end")
		}
		res := c.get(next)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", next, res.StatusCode)
		}
		doc := res.doc(t)
		doc.Find(`[data-testid="conversation-row"]`).Each(func(_ int, row *goquery.Selection) {
			href, _ := row.Find(`[data-testid="conversation-link"]`).Attr("href")
			got = append(got, strings.TrimPrefix(href, "/conversations/"))
		})
		prev := doc.Find(`[data-testid="page-previous"]`).Length() == 1
		if prev != (pages > 0) {
			t.Errorf("page %d: previous link present=%v", pages+1, prev)
		}
		next, _ = doc.Find(`[data-testid="page-next"]`).Attr("href")
		if pages == 0 {
			row := doc.Find(`[data-testid="conversation-row"]`).First()
			if !strings.Contains(row.Text(), "Found your parcel") {
				t.Errorf("first row preview %q", row.Text())
			}
			if row.Find(`[data-testid="badge-unread"]`).Length() != 1 {
				t.Errorf("unread badge missing on a conversation with an unread reply")
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("order %v, want %v", got, want)
	}
	last := c.get("/conversations?pageSize=2&page=3").doc(t)
	if last.Find(`[data-testid="badge-ended"]`).Length() != 1 {
		t.Errorf("ended conversation not marked ended")
	}
	if res := c.get("/conversations?pageSize=500"); res.StatusCode != http.StatusOK {
		t.Errorf("pageSize=500: %d, want 200 (clamped to 100)", res.StatusCode)
	}
	if res := c.get("/conversations?page=-1"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("page=-1: %d, want 422", res.StatusCode)
	}
	if res := c.get("/conversations?page=x"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("page=x: %d, want 422", res.StatusCode)
	}
}

func TestNoJavaScriptSend(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	page := c.get("/conversations/" + id).doc(t)
	action, _ := page.Find(`form[data-testid="composer"]`).Attr("action")
	clientID, _ := page.Find(`form[data-testid="composer"] input[name="clientMessageId"]`).Attr("value")
	if action != "/conversations/"+id+"/messages" || clientID == "" {
		t.Fatalf("composer action %q clientMessageId %q", action, clientID)
	}
	form := url.Values{"body": {"Any news?"}, "clientMessageId": {clientID}}
	for i := 0; i < 2; i++ { // a resubmitted POST is stored once
		res := c.postForm(action, form)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/conversations/"+id) {
			t.Fatalf("send %d: status %d location %q", i, res.StatusCode, res.Header.Get("Location"))
		}
	}
	msgs, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{})
	if len(msgs) != 2 || msgs[1].Body != "Any news?" {
		t.Fatalf("messages %+v", msgs)
	}

	long := strings.Repeat("x", kustomer.MaxBodyLen+1)
	for _, tc := range []struct{ body, want string }{{"   ", "Write a message first."}, {long, "at most 8000 characters (it has 8001)"}} {
		res := c.postForm(action, url.Values{"body": {tc.body}, "clientMessageId": {kustomer.NewID()}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", res.StatusCode)
		}
		doc := res.doc(t)
		if got := doc.Find(`[data-testid="composer-error"]`).Text(); !strings.Contains(got, tc.want) {
			t.Errorf("composer error %q, want %q", got, tc.want)
		}
		if got := doc.Find(`[data-testid="composer-body"]`).Text(); got != tc.body {
			t.Errorf("draft not kept (%d chars, want %d)", len(got), len(tc.body))
		}
	}
	e.org(http.MethodPost, "/conversations/"+id+"/end", nil)
	res := c.postForm(action, url.Values{"body": {"hello?"}, "clientMessageId": {kustomer.NewID()}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.doc(t).Find(`[data-testid="composer-error"]`).Text(), "ended") {
		t.Errorf("send to ended: %d", res.StatusCode)
	}
	// Two messages and the end's system message; nothing rejected stored.
	if msgs, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{}); len(msgs) != 3 || msgs[2].SentBy.Type != kustomer.AuthorSystem {
		t.Errorf("%d messages stored, want 3", len(msgs))
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if res := e.client().get(p); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	e.store.Close()
	if res := e.client().get("/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the store closed: %d, want 503", res.StatusCode)
	}
}

func TestStaticAndUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, p := range []string{"/static/css/app.css", "/static/js/chat.js"} {
		if res := c.get(p); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/static/", "/static/css/", "/nope"} {
		if res := c.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}
