package handlers

import (
	"net/http"
	"strings"
	"testing"

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
	res = c.get("/api/v1/conversations?page=-1")
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
