package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

type apiErrors struct {
	Errors []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Source *struct {
			Pointer string `json:"pointer"`
		} `json:"source"`
	} `json:"errors"`
}

func (r response) apiErrors(t testing.TB) apiErrors {
	t.Helper()
	var e apiErrors
	r.json(t, &e)
	if len(e.Errors) == 0 {
		t.Fatalf("no errors in %s", r.Body)
	}
	return e
}

func (e apiErrors) pointers() []string {
	var out []string
	for _, x := range e.Errors {
		if x.Source != nil {
			out = append(out, x.Source.Pointer)
		}
	}
	return out
}

func TestAPICustomerFlow(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{
		"message": "Hello from our own form", "formId": "contact", "name": "Lee", "email": "lee@example.com",
		"customAttributes": map[string]any{"topicStr": "billing"}, "clientMessageId": "create-1",
	})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var created map[string]any
	res.json(t, &created)
	for _, k := range []string{"conversationId", "createdAt", "ended", "isInAssistantMode"} {
		if _, ok := created[k]; !ok {
			t.Errorf("createConversation response lacks %s: %s", k, res.Body)
		}
	}
	id := created["conversationId"].(string)
	// The same create retried returns the same conversation.
	again := c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{
		"message": "Hello from our own form", "formId": "contact", "clientMessageId": "create-1",
		"customAttributes": map[string]any{"topicStr": "billing"},
	})
	var again2 map[string]any
	again.json(t, &again2)
	if again.StatusCode != http.StatusOK || again2["conversationId"] != id {
		t.Errorf("retried create: %d %s", again.StatusCode, again.Body)
	}

	send := func(body, clientID string) response {
		return c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": body, "clientMessageId": clientID})
	}
	res = send("Second message", "m-2")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("send: %d %s", res.StatusCode, res.Body)
	}
	var msg map[string]any
	res.json(t, &msg)
	for _, k := range []string{"messageId", "body", "createdAt", "direction", "conversationId", "attachments", "seq"} {
		if _, ok := msg[k]; !ok {
			t.Errorf("sendMessage response lacks %s", k)
		}
	}
	if msg["direction"] != "in" || msg["seq"] != 2.0 {
		t.Errorf("message %v", msg)
	}
	retry := send("Second message", "m-2")
	var msg2 map[string]any
	retry.json(t, &msg2)
	if retry.StatusCode != http.StatusOK || msg2["messageId"] != msg["messageId"] {
		t.Errorf("idempotent retry: %d %v", retry.StatusCode, msg2)
	}
	if res := send("A different text", "m-2"); res.StatusCode != http.StatusConflict {
		t.Errorf("reused clientMessageId with another body: %d, want 409", res.StatusCode)
	}

	e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "Hi Lee", "authorType": "agent", "authorName": "Dana"})
	var list struct {
		Messages []struct {
			Seq       int64  `json:"seq"`
			Body      string `json:"body"`
			Direction string `json:"direction"`
			SentBy    struct {
				Type        string `json:"type"`
				DisplayName string `json:"displayName"`
			} `json:"sentBy"`
		} `json:"messages"`
	}
	c.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages?afterSeq=1", nil).json(t, &list)
	if len(list.Messages) != 2 || list.Messages[0].Seq != 2 || list.Messages[1].Seq != 3 || list.Messages[1].SentBy.DisplayName != "Dana" || list.Messages[1].Direction != "out" {
		t.Errorf("messages after 1: %+v", list.Messages)
	}
	c.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages?afterSeq=0&max=1", nil).json(t, &list)
	if len(list.Messages) != 1 || list.Messages[0].Seq != 1 {
		t.Errorf("max=1: %+v", list.Messages)
	}

	res = c.sendJSON(http.MethodPatch, "/api/v1/conversations/"+id, map[string]any{"customAttributes": map[string]any{"orderNumberStr": "B-7", "topicStr": nil}})
	var desc struct {
		ConversationID   string         `json:"conversationId"`
		CustomAttributes map[string]any `json:"customAttributes"`
	}
	res.json(t, &desc)
	if res.StatusCode != http.StatusOK || desc.CustomAttributes["orderNumberStr"] != "B-7" || desc.CustomAttributes["topicStr"] != nil {
		t.Errorf("describe: %d %s", res.StatusCode, res.Body)
	}

	var page struct {
		Conversations []map[string]any `json:"conversations"`
		Pages         struct {
			Current, First int
			Next, Previous *int
		} `json:"pages"`
	}
	c.sendJSON(http.MethodGet, "/api/v1/conversations", nil).json(t, &page)
	if len(page.Conversations) != 1 || page.Pages.Current != 1 || page.Pages.First != 1 || page.Pages.Next != nil || page.Pages.Previous != nil {
		t.Errorf("getConversations: %+v", page)
	}
	for _, k := range []string{"conversationId", "createdAt", "preview", "isInAssistantMode", "lastMessageAt", "ended"} {
		if _, ok := page.Conversations[0][k]; !ok {
			t.Errorf("getConversations entry lacks %s", k)
		}
	}
}

func TestAPIValidation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	msgs := "/api/v1/conversations/" + id + "/messages"
	tests := []struct {
		name     string
		method   string
		path     string
		body     any
		ctype    string
		status   int
		pointers []string
	}{
		{"undefined and mistyped attributes", http.MethodPost, "/api/v1/conversations", map[string]any{"message": "x", "customAttributes": map[string]any{"nopeStr": "a", "topicStr": 5, "teamSizeNum": "many", "newsletterBool": "yes"}}, "", 422,
			[]string{"/customAttributes/newsletterBool", "/customAttributes/nopeStr", "/customAttributes/teamSizeNum", "/customAttributes/topicStr"}},
		{"empty message", http.MethodPost, "/api/v1/conversations", map[string]any{"message": " "}, "", 422, []string{"/message"}},
		{"unknown form", http.MethodPost, "/api/v1/conversations", map[string]any{"message": "x", "formId": "nope"}, "", 422, []string{"/formId"}},
		{"body too long", http.MethodPost, msgs, map[string]any{"body": strings.Repeat("a", kustomer.MaxBodyLen+1)}, "", 422, []string{"/body"}},
		{"empty body", http.MethodPost, msgs, map[string]any{"body": ""}, "", 422, []string{"/body"}},
		{"attachment without an id", http.MethodPost, msgs, map[string]any{"body": "x", "attachments": []any{map[string]any{"name": "a.png"}}}, "", 422, []string{"/attachments/0"}},
		{"bad payload", http.MethodPost, msgs, `{"body":"x","payload":"` + strings.Repeat("p", kustomer.MaxPayloadBytes) + `"}`, "", 422, []string{"/payload"}},
		{"wrong type", http.MethodPost, msgs, `{"body": 5}`, "", 422, []string{"/body"}},
		{"unknown field", http.MethodPost, msgs, `{"body":"x","bogus":1}`, "", 400, []string{"/bogus"}},
		{"malformed json", http.MethodPost, msgs, `{"body":`, "", 400, nil},
		{"trailing data", http.MethodPost, msgs, `{"body":"x"} {}`, "", 400, nil},
		{"empty", http.MethodPost, msgs, ``, "", 400, nil},
		{"not json", http.MethodPost, msgs, `body=x`, "application/x-www-form-urlencoded", 415, nil},
		{"too large", http.MethodPost, msgs, `{"body":"` + strings.Repeat("a", 2<<20) + `"}`, "", 413, nil},
		{"describe mistyped", http.MethodPatch, "/api/v1/conversations/" + id, map[string]any{"customAttributes": map[string]any{"orderNumberStr": strings.Repeat("z", 257)}}, "", 422, []string{"/customAttributes/orderNumberStr"}},
		{"bad afterSeq", http.MethodGet, msgs + "?afterSeq=-1", nil, "", 422, []string{"/afterSeq"}},
		{"bad max", http.MethodGet, msgs + "?max=100000", nil, "", 422, []string{"/max"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := invalid // each request is refused on purpose
			if tt.ctype != "" {
				hdr = append([]string{"Content-Type", tt.ctype}, invalid...)
			}
			res := c.sendJSON(tt.method, tt.path, tt.body, hdr...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			errs := res.apiErrors(t)
			if tt.pointers != nil && strings.Join(errs.pointers(), ",") != strings.Join(tt.pointers, ",") {
				t.Errorf("pointers %v, want %v", errs.pointers(), tt.pointers)
			}
			for _, x := range errs.Errors {
				if x.Code == "" || x.Title == "" {
					t.Errorf("error without code or title: %+v", x)
				}
				if strings.Contains(x.Detail, "sqlstore") || strings.Contains(x.Detail, "goroutine") {
					t.Errorf("internal detail leaked: %q", x.Detail)
				}
			}
		})
	}
	// Nothing rejected was stored.
	if n := e.conversationCount(); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}
	if m, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{}); len(m) != 1 {
		t.Errorf("%d messages, want 1", len(m))
	}
}

func TestAPIUnknownConversationForOwnerIs404(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.handoff(t)
	res := c.sendJSON(http.MethodGet, "/api/v1/conversations/"+strings.Repeat("a", 24), nil)
	if res.StatusCode != http.StatusNotFound || res.apiErrors(t).Errors[0].Code != "not_found" {
		t.Errorf("status %d %s", res.StatusCode, res.Body)
	}
}

func TestOrgAPI(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)

	for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong-token-0123456789"}, {"Authorization", "Basic " + testToken}} {
		res := e.client().sendJSON(http.MethodGet, "/api/v1/org/conversations", nil, hdr...)
		if res.StatusCode != http.StatusUnauthorized || res.apiErrors(t).Errors[0].Code != "unauthorized" {
			t.Errorf("auth %v: %d", hdr, res.StatusCode)
		}
	}
	// A customer's session is not an organization credential.
	if res := c.sendJSON(http.MethodGet, "/api/v1/org/conversations/"+id, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("customer on org API: %d", res.StatusCode)
	}

	var list kustomer.ConversationPage
	e.org(http.MethodGet, "/conversations", nil).json(t, &list)
	if list.Total != 1 || list.Conversations[0].ID != id || list.Conversations[0].FormID != "contact" {
		t.Errorf("org list %+v", list)
	}
	var conv kustomer.Conversation
	e.org(http.MethodGet, "/conversations/"+id, nil).json(t, &conv)
	if conv.CustomAttributes["topicStr"] != "order" || conv.Context.UserAgent == "" {
		t.Errorf("org show %+v", conv)
	}
	if res := e.orgInvalid(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "hi", "authorType": "customer"}); res.StatusCode != 422 {
		t.Errorf("authorType customer: %d, want 422", res.StatusCode)
	}
	res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "Hello, I'm the bot", "authorType": "assistant", "authorName": "Qualify"})
	var m map[string]any
	res.json(t, &m)
	if res.StatusCode != http.StatusCreated || m["direction"] != "out" || m["sentBy"].(map[string]any)["type"] != "assistant" {
		t.Errorf("assistant send: %d %s", res.StatusCode, res.Body)
	}
	if res := e.org(http.MethodPatch, "/conversations/"+id, map[string]any{"customAttributes": map[string]any{"teamSizeNum": 4}}); res.StatusCode != http.StatusOK {
		t.Errorf("describe: %d %s", res.StatusCode, res.Body)
	}
	res = e.org(http.MethodPost, "/conversations/"+id+"/end", nil)
	var ended map[string]any
	res.json(t, &ended)
	if res.StatusCode != http.StatusOK || ended["ended"] != true {
		t.Errorf("end: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "still there?"})
	if res.StatusCode != http.StatusConflict || res.apiErrors(t).Errors[0].Code != "conversation_ended" {
		t.Errorf("send after end: %d %s", res.StatusCode, res.Body)
	}
	if res := e.org(http.MethodGet, "/conversations/"+strings.Repeat("b", 24), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown: %d", res.StatusCode)
	}
}

// TestOrgAPISearch: the organization's conversation list takes the
// inbox's full-text search as q, together with customerId, and says what
// was wrong with a query it cannot run.
func TestOrgAPISearch(t *testing.T) {
	e := newEnv(t)
	first := e.client().handoff(t)
	c := e.client()
	second := c.handoff(t)
	e.org(http.MethodPost, "/conversations/"+second+"/messages", map[string]any{"body": "Your zebra-striped parcel left the depot.", "authorName": "Dana"})

	list := func(query string) []string {
		t.Helper()
		var page kustomer.ConversationPage
		res := e.org(http.MethodGet, "/conversations?"+query, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET ?%s: %d %s", query, res.StatusCode, res.Body)
		}
		res.json(t, &page)
		var ids []string
		for _, conv := range page.Conversations {
			ids = append(ids, conv.ID)
		}
		if page.Total != len(ids) {
			t.Errorf("?%s: total %d for %d rows", query, page.Total, len(ids))
		}
		return ids
	}
	if got := list("q=ZEBRA"); len(got) != 1 || got[0] != second {
		t.Errorf("q=ZEBRA lists %v, want only %s", got, second)
	}
	if got := list("q=zeb+depot"); len(got) != 1 || got[0] != second {
		t.Errorf("q=zeb depot lists %v, want only %s", got, second)
	}
	if got := list("q=smith"); len(got) != 2 {
		t.Errorf("q=smith (the customer's name) lists %v, want both", got)
	}
	var conv kustomer.Conversation
	e.org(http.MethodGet, "/conversations/"+first, nil).json(t, &conv)
	if got := list("q=smith&customerId=" + conv.CustomerID); len(got) != 1 || got[0] != first {
		t.Errorf("q=smith for the first customer lists %v, want only %s", got, first)
	}
	if got := list("q=nothingmatchesthis"); len(got) != 0 {
		t.Errorf("q=nothingmatchesthis lists %v", got)
	}
	for _, q := range []string{"q=%21%21", "q=a+b+c+d+e+f+g+h+i", "q=" + strings.Repeat("x", 600)} {
		res := e.orgInvalid(http.MethodGet, "/conversations?"+q, nil)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(res.apiErrors(t).pointers(), " "), "q") {
			t.Errorf("%.40s: %d %s, want 422 about q", q, res.StatusCode, res.Body)
		}
	}
}
