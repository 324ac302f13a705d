package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// startSDK creates a conversation over the customer API, as the SDK's
// createConversation does, and returns its id.
func startSDK(t *testing.T, c *client, options map[string]any) string {
	t.Helper()
	body := map[string]any{"message": "Hello", "formId": "contact", "customAttributes": map[string]any{"topicStr": "billing"}}
	for k, v := range options {
		body[k] = v
	}
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations", body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	var created struct {
		ConversationID string `json:"conversationId"`
	}
	res.json(t, &created)
	return created.ConversationID
}

// TestSDKShapedBodies: the bodies the SDK sends, with the conversation's
// id inside, are accepted where the id matches the path, and refused
// naming the field where it does not.
func TestSDKShapedBodies(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := startSDK(t, c, nil)
	other := startSDK(t, c, map[string]any{"message": "Another"})

	res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"conversationId": id, "body": "SDK-shaped"})
	if res.StatusCode != http.StatusCreated {
		t.Errorf("send with conversationId: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPatch, "/api/v1/conversations/"+id, map[string]any{"conversationId": id, "customAttributes": map[string]any{"topicStr": "order"}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("describe with conversationId: %d %s", res.StatusCode, res.Body)
	}
	for name, r := range map[string]response{
		"send":     c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"conversationId": other, "body": "misrouted"}),
		"describe": c.sendJSON(http.MethodPatch, "/api/v1/conversations/"+id, map[string]any{"conversationId": other, "customAttributes": map[string]any{"topicStr": "x"}}),
	} {
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s with another conversationId: %d, want 400", name, r.StatusCode)
			continue
		}
		if p := r.apiErrors(t).pointers(); len(p) != 1 || p[0] != "/conversationId" {
			t.Errorf("%s: pointers %v, want /conversationId", name, p)
		}
	}
	var msgs struct {
		Messages []struct{ Body string } `json:"messages"`
	}
	c.get("/api/v1/conversations/"+other+"/messages").json(t, &msgs)
	for _, m := range msgs.Messages {
		if m.Body == "misrouted" {
			t.Error("a send refused for its conversationId was stored in the other conversation")
		}
	}
}

// TestSDKGetConversationsPaging: a pageSize over 100 is clamped, as a
// client passing the SDK's options expects; a negative page is an error
// on page.
func TestSDKGetConversationsPaging(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	startSDK(t, c, nil)
	res := c.get("/api/v1/conversations?pageSize=500")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("pageSize=500: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodGet, "/api/v1/conversations?page=-1", nil, invalid...)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("page=-1: %d, want 422", res.StatusCode)
	}
	if p := res.apiErrors(t).pointers(); len(p) != 1 || p[0] != "/page" {
		t.Errorf("page=-1: pointers %v, want /page", p)
	}
}

// TestSDKGetMessagesShape: getMessages answers the SDK's shape, with the
// conversation's id, its satisfaction and each message's sentBy.
func TestSDKGetMessagesShape(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := startSDK(t, c, map[string]any{"lang": "es"})
	e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "Hola", "authorType": "agent", "authorName": "Dana"})
	var got struct {
		ConversationID string          `json:"conversationId"`
		Satisfaction   *map[string]any `json:"satisfaction"`
		Messages       []struct {
			SentBy map[string]any `json:"sentBy"`
		} `json:"messages"`
	}
	res := c.get("/api/v1/conversations/" + id + "/messages")
	res.json(t, &got)
	if got.ConversationID != id || !strings.Contains(string(res.Body), `"satisfaction":null`) || len(got.Messages) != 2 {
		t.Fatalf("getMessages: %s", res.Body)
	}
	if got.Messages[1].SentBy["type"] != "agent" || got.Messages[1].SentBy["displayName"] != "Dana" {
		t.Errorf("sentBy %v", got.Messages[1].SentBy)
	}
	// createConversation's lang set the conversation's language.
	conv, err := e.store.Conversation(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Lang != "es" {
		t.Errorf("conversation lang %q, want es", conv.Lang)
	}
}

// TestSDKMessageLang: sendMessage's lang is kept on the message over REST
// and over the socket, and shown back with it; a bad one is refused.
func TestSDKMessageLang(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := startSDK(t, c, nil)
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "Bonjour", "lang": "fr"})
	var sent messageResponse
	res.json(t, &sent)
	if res.StatusCode != http.StatusCreated || sent.Lang != "fr" {
		t.Errorf("REST send with lang: %d %s", res.StatusCode, res.Body)
	}
	if res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "x", "lang": "??"}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("REST send with a bad lang: %d, want 422", res.StatusCode)
	}

	w := c.mustDial(t, id, 2)
	w.send(map[string]any{"type": "send", "clientMessageId": "de-1", "body": "Guten Tag", "lang": "de"})
	msgs, others := w.messages(1)
	if got := msgs[0].msg(t); got.Lang != "de" || got.Body != "Guten Tag" {
		t.Errorf("socket send with lang: %+v (others %+v)", got, others)
	}

	var list struct {
		Messages []messageResponse `json:"messages"`
	}
	c.get("/api/v1/conversations/"+id+"/messages").json(t, &list)
	var langs []string
	for _, m := range list.Messages {
		langs = append(langs, m.Lang)
	}
	if strings.Join(langs, ",") != ",fr,de" {
		t.Errorf("stored langs %q, want \",fr,de\"", langs)
	}
}

// TestSDKDescribeCustomer: describeCustomer adds contact details and
// social accounts to the session's customer, refuses bad ones naming
// them, and needs a session.
func TestSDKDescribeCustomer(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	startSDK(t, c, map[string]any{"name": "Lee", "email": "lee@example.com"})
	res := c.sendJSON(http.MethodPatch, "/api/v1/customer", map[string]any{
		"attributes": map[string]any{
			"emails":  []string{"lee@work.example"},
			"phones":  []string{"+1 555 0100"},
			"socials": []map[string]string{{"username": "leecodes", "type": "twitter"}},
		},
	})
	var cu kustomer.Customer
	res.json(t, &cu)
	if res.StatusCode != http.StatusOK || strings.Join(cu.Emails, ",") != "lee@example.com,lee@work.example" ||
		len(cu.Phones) != 1 || len(cu.Socials) != 1 || cu.Socials[0] != (kustomer.Social{Username: "leecodes", Type: "twitter"}) {
		t.Fatalf("describeCustomer: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPatch, "/api/v1/customer", map[string]any{
		"attributes": map[string]any{"emails": []string{"not an email"}, "socials": []map[string]string{{"username": "", "type": "twitter"}}},
	})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad details: %d %s", res.StatusCode, res.Body)
	}
	if p := strings.Join(res.apiErrors(t).pointers(), " "); p != "/attributes/emails/0 /attributes/socials/0/username" {
		t.Errorf("pointers %q", p)
	}
	if res := e.client().sendJSON(http.MethodPatch, "/api/v1/customer", map[string]any{"name": "Nobody"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("without a session: %d, want 403", res.StatusCode)
	}
}

// TestSDKMarkReadAndUnread: markRead by message ids moves the customer's
// read position, and getUnreadCount reports what is left, by conversation.
func TestSDKMarkReadAndUnread(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	first := startSDK(t, c, nil)
	second := startSDK(t, c, map[string]any{"message": "Another"})
	var ids []string
	for _, body := range []string{"one", "two", "three"} {
		var m messageResponse
		e.org(http.MethodPost, "/conversations/"+first+"/messages", map[string]any{"body": body, "authorName": "Dana"}).json(t, &m)
		ids = append(ids, m.MessageID)
	}
	e.org(http.MethodPost, "/conversations/"+second+"/messages", map[string]any{"body": "hi", "authorName": "Dana"})

	var unread struct {
		Total         int            `json:"total"`
		Conversations map[string]int `json:"conversations"`
	}
	c.get("/api/v1/unread").json(t, &unread)
	if unread.Total != 4 || unread.Conversations[first] != 3 || unread.Conversations[second] != 1 {
		t.Fatalf("unread before reading: %+v", unread)
	}
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+first+"/read", map[string]any{"conversationId": first, "messageIds": ids[:2]})
	var read struct {
		ReadSeq     int64 `json:"readSeq"`
		UnreadCount int   `json:"unreadCount"`
	}
	res.json(t, &read)
	if res.StatusCode != http.StatusOK || read.ReadSeq != 3 || read.UnreadCount != 1 {
		t.Errorf("markRead: %d %s", res.StatusCode, res.Body)
	}
	c.get("/api/v1/unread").json(t, &unread)
	if unread.Total != 2 || unread.Conversations[first] != 1 {
		t.Errorf("unread after reading two: %+v", unread)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations/"+first+"/read", map[string]any{"messageIds": []string{ids[2], "nope"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("markRead of a bad id: %d", res.StatusCode)
	}
	if p := res.apiErrors(t).pointers(); len(p) != 1 || p[0] != "/messageIds/1" {
		t.Errorf("pointers %v, want /messageIds/1", p)
	}
	// Another customer's conversation is not theirs to read.
	if res := e.client().sendJSON(http.MethodPost, "/api/v1/conversations/"+first+"/read", map[string]any{"messageIds": ids[:1]}); res.StatusCode != http.StatusForbidden {
		t.Errorf("markRead by a stranger: %d, want 403", res.StatusCode)
	}
}

// TestSDKTyping: sendTypingActivity reaches the agents watching; typing
// is required.
func TestSDKTyping(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := startSDK(t, c, nil)
	sub := e.hub.Subscribe(id)
	defer sub.Close()
	if res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/typing", map[string]any{"conversationId": id, "typing": true}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("typing: %d %s", res.StatusCode, res.Body)
	}
	select {
	case ev := <-sub.Events():
		if ev.Type != kustomer.EventTyping || ev.Typing == nil || !ev.Typing.Typing || ev.Typing.Author.Type != kustomer.AuthorCustomer {
			t.Errorf("event %+v, want the customer typing", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no typing event")
	}
	if res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/typing", map[string]any{}, invalid...); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("typing without typing: %d, want 422", res.StatusCode)
	}
	// A client that floods typing is slowed down, as over the socket.
	limited := false
	for range 10 {
		res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/typing", map[string]any{"typing": false})
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "" {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("ten typing requests at once were all accepted")
	}
}

// TestSDKEndConversation: a customer ends a conversation only where its
// form allows it (allowCustomerEnd), and gets the SDK's answer.
func TestSDKEndConversation(t *testing.T) {
	doc, err := os.ReadFile("../handoff.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc = bytes.Replace(doc, []byte("allowCustomerEnd: false"), []byte("allowCustomerEnd: true"), 1)
	if !bytes.Contains(doc, []byte("allowCustomerEnd: true")) {
		t.Fatal("handoff.yaml's sales form no longer says allowCustomerEnd")
	}
	e := newEnvConfig(t, doc)
	c := e.client()
	contact := startSDK(t, c, nil)
	sales := startSDK(t, c, map[string]any{"formId": "sales", "customAttributes": map[string]any{}})

	res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+contact+"/end", map[string]any{"conversationId": contact})
	if res.StatusCode != http.StatusForbidden || res.apiErrors(t).Errors[0].Code != "customer_end_not_allowed" {
		t.Errorf("end where the form does not allow it: %d %s", res.StatusCode, res.Body)
	}
	if res := e.client().sendJSON(http.MethodPost, "/api/v1/conversations/"+sales+"/end", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("end by a stranger: %d, want 403", res.StatusCode)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations/"+sales+"/end", map[string]any{"conversationId": sales})
	var ended map[string]any
	res.json(t, &ended)
	if res.StatusCode != http.StatusOK || ended["conversationId"] != sales || ended["ended"] != true || ended["createdAt"] == nil {
		t.Errorf("end: %d %s", res.StatusCode, res.Body)
	}
	if res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+sales+"/messages", map[string]any{"body": "still there?"}); res.StatusCode != http.StatusConflict {
		t.Errorf("send after the customer ended it: %d, want 409", res.StatusCode)
	}

	// The chat page offers "End chat" where the form allows it, and the
	// button ends the conversation; elsewhere there is none to press.
	other := startSDK(t, c, map[string]any{"formId": "sales", "customAttributes": map[string]any{}, "message": "One more"})
	page := c.get("/conversations/" + other).doc(t)
	action, ok := page.Find(`form[data-testid="end-form"]`).Attr("action")
	if !ok || page.Find(`[data-testid="end-conversation"]`).Text() != "End chat" {
		t.Fatalf("the sales chat offers no End chat")
	}
	if res := c.postForm(action, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("End chat: %d %s", res.StatusCode, res.Body)
	}
	if doc := c.get("/conversations/" + other).doc(t); doc.Find(`[data-testid="rating-form"]`).Length() != 1 || doc.Find(`[data-testid="end-form"]`).Length() != 0 {
		t.Error("after End chat the page does not show the ended chat with its rating")
	}
	if c.get("/conversations/"+contact).doc(t).Find(`[data-testid="end-form"]`).Length() != 0 {
		t.Error("the contact chat offers End chat although its form does not allow it")
	}
	if res := c.postForm("/conversations/"+contact+"/end", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("ending the contact chat from the page: %d, want 403", res.StatusCode)
	}
}

// TestSDKAssistantState: initAssistantPayload starts the named assistant
// on the first send of a conversation that has none (where its form lets
// the client choose); a client's isInAssistantMode and lastDeflection are
// checked and recorded with the message, the server's state deciding.
func TestSDKAssistantState(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	formless := startSDK(t, c, map[string]any{"formId": "", "customAttributes": map[string]any{}})
	init := map[string]any{"assistant": "qualify", "dialog": "welcome", "node": "start",
		"initialMessages": []map[string]any{{"meta": map[string]any{"template": "hello"}, "direction": "out"}}}
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+formless+"/messages", map[string]any{
		"body": "Hi, we are looking at your plans", "initAssistantPayload": init, "isInAssistantMode": true})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("send with initAssistantPayload: %d %s", res.StatusCode, res.Body)
	}
	var sent messageResponse
	res.json(t, &sent)
	var conv conversationSummary
	c.get("/api/v1/conversations/"+formless).json(t, &conv)
	var list struct {
		Messages []messageResponse `json:"messages"`
	}
	c.get("/api/v1/conversations/"+formless+"/messages").json(t, &list)
	last := list.Messages[len(list.Messages)-1]
	if !conv.IsInAssistantMode || last.SentBy.Type != kustomer.AuthorAssistant || last.Seq <= sent.Seq {
		t.Errorf("the assistant did not start after the send: assistant mode %v, last message %+v", conv.IsInAssistantMode, last)
	}
	if !strings.Contains(string(sent.Meta), `"client":{"isInAssistantMode":true}`) {
		t.Errorf("the client's isInAssistantMode is not recorded: meta %s", sent.Meta)
	}
	// Only the first send: now it has an assistant, a second payload
	// changes nothing and is no error.
	before := len(list.Messages)
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations/"+formless+"/messages", map[string]any{"body": "12", "initAssistantPayload": init})
	if res.StatusCode != http.StatusCreated {
		t.Errorf("a later send with initAssistantPayload: %d %s", res.StatusCode, res.Body)
	}
	c.get("/api/v1/conversations/"+formless+"/messages").json(t, &list)
	if len(list.Messages) <= before {
		t.Errorf("the second send was not stored")
	}

	// The contact form names no assistant and lets no client choose one.
	contact := startSDK(t, c, nil)
	for _, tt := range []struct {
		name    string
		body    map[string]any
		pointer string
	}{
		{"an assistant the form does not allow", map[string]any{"body": "x", "initAssistantPayload": init}, "/initAssistantPayload/assistant"},
		{"an assistant that does not exist", map[string]any{"body": "x", "initAssistantPayload": map[string]any{"assistant": "nobody"}}, "/initAssistantPayload/assistant"},
		{"an initial message that is not an object", map[string]any{"body": "x", "initAssistantPayload": map[string]any{"assistant": "qualify", "initialMessages": []any{"hi"}}}, "/initAssistantPayload/initialMessages/0"},
		{"an article without an address", map[string]any{"body": "x", "lastDeflection": map[string]any{"articles": []map[string]any{{"id": "a", "title": "A", "url": "javascript:alert(1)"}}}}, "/lastDeflection/articles/0/url"},
	} {
		res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+contact+"/messages", tt.body)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", tt.name, res.StatusCode, res.Body)
			continue
		}
		if p := res.apiErrors(t).pointers(); len(p) != 1 || p[0] != tt.pointer {
			t.Errorf("%s: pointers %v, want %s", tt.name, p, tt.pointer)
		}
	}
	// A client's lastDeflection, in the SDK's shape, is kept as it said it.
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations/"+contact+"/messages", map[string]any{"body": "read it",
		"lastDeflection": map[string]any{"articles": []map[string]any{{"id": "kb-1", "version": 3, "visited": true, "lang": "en", "title": "Pricing", "url": "https://example.com/kb/1"}}}})
	res.json(t, &sent)
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(sent.Meta), `"lastDeflection":{"articles":[{"id":"kb-1","version":3,"visited":true,"lang":"en","title":"Pricing","url":"https://example.com/kb/1"}]}`) {
		t.Errorf("client lastDeflection: %d meta %s", res.StatusCode, sent.Meta)
	}
}

// TestQueryMessagesBySequence: the agent-side queryMessages' inclusive
// sequenceMin/sequenceMax and maxQuantity select the same windows as
// afterSeq/beforeSeq/max, and the two spellings do not mix.
func TestQueryMessagesBySequence(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := startSDK(t, c, nil)
	for _, body := range []string{"two", "three", "four"} {
		e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": body, "authorName": "Dana"})
	}
	seqs := func(query string) string {
		t.Helper()
		var list struct {
			Messages []messageResponse `json:"messages"`
		}
		res := e.org(http.MethodGet, "/conversations/"+id+"/messages?"+query, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", query, res.StatusCode, res.Body)
		}
		res.json(t, &list)
		var out []string
		for _, m := range list.Messages {
			out = append(out, fmt.Sprint(m.Seq))
		}
		return strings.Join(out, ",")
	}
	for query, want := range map[string]string{
		"sequenceMin=2&sequenceMax=3":               "2,3",
		"sequenceMin=3":                             "3,4",
		"sequenceMax=2":                             "1,2",
		"sequenceMin=2&maxQuantity=1":               "2",
		"afterSeq=1&beforeSeq=4":                    "2,3",
		"sequenceMin=4&sequenceMax=4&maxQuantity=5": "4",
	} {
		if got := seqs(query); got != want {
			t.Errorf("%s: seqs %s, want %s", query, got, want)
		}
	}
	for query, pointer := range map[string]string{
		"afterSeq=1&sequenceMin=2": "/sequenceMin",
		"maxQuantity=100000":       "/maxQuantity",
		"sequenceMax=-1":           "/sequenceMax",
	} {
		res := e.orgInvalid(http.MethodGet, "/conversations/"+id+"/messages?"+query, nil)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", query, res.StatusCode)
			continue
		}
		if p := res.apiErrors(t).pointers(); len(p) != 1 || p[0] != pointer {
			t.Errorf("%s: pointers %v, want %s", query, p, pointer)
		}
	}
}
