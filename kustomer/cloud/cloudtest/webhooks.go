package cloudtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// OutboundWebhook is a subscription made with POST /v1/outbound-webhooks.
type OutboundWebhook struct {
	ID      string
	Name    string
	URL     string
	Events  []string
	Headers []any // as received
	// Token is the signing key the fake answered: Send with it.
	Token string
	// Body is the POST body as received.
	Body json.RawMessage
}

// OutboundWebhooks returns the subscriptions, in creation order.
func (f *Fake) OutboundWebhooks() []OutboundWebhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]OutboundWebhook, 0, len(f.hooks))
	for _, h := range f.hooks {
		c := *h
		c.Events = slices.Clone(h.Events)
		c.Headers = clone(h.Headers).([]any)
		c.Body = raw(h.Body)
		out = append(out, c)
	}
	return out
}

// webhookEvents are the events CONTRACT.md §5 lists:
// kustomer.{conversation,customer,message,user,team}.{create,update}.
var webhookEvents = func() []string {
	var ev []string
	for _, o := range []string{"conversation", "customer", "message", "user", "team"} {
		ev = append(ev, "kustomer."+o+".create", "kustomer."+o+".update")
	}
	return ev
}()

// checkOutboundWebhooks checks a request to /v1/outbound-webhooks by hand.
// The export does not cover outbound webhooks, so this is the one place
// the fake checks a request itself rather than with kin-openapi; it
// follows CONTRACT.md §5: POST {name, url (https), events[], headers[]},
// and GET to list. No other property is documented, so any other is
// refused. What an item of headers looks like is not documented: the fake
// takes objects of strings ({"name": …, "value": …} or {"X-Name": …}).
func checkOutboundWebhooks(r *http.Request, body []byte) (string, map[string]string, int, string) {
	if r.URL.Path != "/v1/outbound-webhooks" {
		return "", nil, http.StatusNotFound, "CONTRACT.md documents /v1/outbound-webhooks only (GET, POST)"
	}
	switch r.Method {
	case http.MethodGet:
		return "", nil, 0, ""
	case http.MethodPost:
	default:
		return "", nil, http.StatusMethodNotAllowed, "CONTRACT.md documents GET and POST on /v1/outbound-webhooks only"
	}
	bad := func(format string, args ...any) (string, map[string]string, int, string) {
		return "", nil, http.StatusBadRequest, "request body has an error: " + fmt.Sprintf(format, args...)
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return bad("Content-Type %q is not application/json", r.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return bad("not a JSON object")
	}
	for k := range m {
		if !slices.Contains([]string{"name", "url", "events", "headers"}, k) {
			return bad("/%s: property not allowed (name, url, events, headers)", k)
		}
	}
	if s, ok := m["name"].(string); !ok || s == "" {
		return bad("/name: a non-empty string is required")
	}
	s, ok := m["url"].(string)
	u, err := url.Parse(s)
	if !ok || err != nil || u.Scheme != "https" || u.Host == "" {
		return bad("/url: an absolute https URL is required")
	}
	events, ok := m["events"].([]any)
	if !ok || len(events) == 0 {
		return bad("/events: a non-empty array is required")
	}
	seen := map[string]bool{}
	for i, e := range events {
		s, _ := e.(string)
		if !slices.Contains(webhookEvents, s) {
			return bad("/events/%d: %v is not one of kustomer.{conversation,customer,message,user,team}.{create,update}", i, e)
		}
		if seen[s] {
			return bad("/events/%d: %s twice", i, s)
		}
		seen[s] = true
	}
	if h, ok := m["headers"]; ok {
		items, ok := h.([]any)
		if !ok {
			return bad("/headers: an array is required")
		}
		for i, it := range items {
			o, ok := it.(map[string]any)
			if !ok {
				return bad("/headers/%d: an object is required", i)
			}
			for k, v := range o {
				if _, ok := v.(string); !ok {
					return bad("/headers/%d/%s: a string is required", i, k)
				}
			}
		}
	}
	return "", nil, 0, ""
}

// outboundWebhooks answers the outbound-webhooks paths, checked by
// checkOutboundWebhooks. Where Kustomer puts the token is not documented
// beyond "the response's token": the fake answers it in
// data.attributes.token, with 201.
func (f *Fake) outboundWebhooks(r *http.Request, body []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodGet {
		var all []any
		for _, h := range f.hooks {
			all = append(all, f.hookResource(h))
		}
		return http.StatusOK, page(r, "/v1/outbound-webhooks", all)
	}
	m := decode(body)
	h := &OutboundWebhook{ID: newID(), Name: str(m["name"]), URL: str(m["url"]), Body: body, Headers: []any{}}
	for _, e := range list(m["events"]) {
		h.Events = append(h.Events, str(e))
	}
	if l := list(m["headers"]); l != nil {
		h.Headers = l
	}
	tok := make([]byte, 32)
	rand.Read(tok)
	h.Token = hex.EncodeToString(tok)
	f.hooks = append(f.hooks, h)
	return http.StatusCreated, map[string]any{"data": f.hookResource(h)}
}

func (f *Fake) hookResource(h *OutboundWebhook) map[string]any {
	return map[string]any{
		"type": "outbound_webhook",
		"id":   h.ID,
		"attributes": map[string]any{
			"name":    h.Name,
			"url":     h.URL,
			"events":  slices.Clone(h.Events),
			"headers": clone(h.Headers),
			"token":   h.Token,
			"enabled": true,
		},
		"relationships": map[string]any{"org": f.rel("org", f.OrgID, "/v1/orgs/")},
		"links":         map[string]any{"self": "/v1/outbound-webhooks/" + h.ID},
	}
}

// Delivery is one outbound webhook delivery: the body Kustomer POSTs
// (CONTRACT.md §5). The same Delivery sent twice is a retry: same id.
type Delivery struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Org       string `json:"org"`
	Partition string `json:"partition"`
	Data      any    `json:"data"`
	Changes   any    `json:"changes"`
}

// Body is the JSON Send posts.
func (d Delivery) Body() []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic("cloudtest: delivery: " + err.Error())
	}
	return b
}

// Webhook builds a delivery of event name (kustomer.message.create, …)
// with a fresh event id, the fake's org as org and partition, and data
// and changes as given.
func (f *Fake) Webhook(name string, data, changes any) Delivery {
	return Delivery{ID: newID(), Name: name, Org: f.OrgID, Partition: f.OrgID, Data: data, Changes: changes}
}

// MessageCreated stores a chat message in conversationID, as an agent
// (direction "out", createdBy AgentID) or the customer ("in") writing in
// Kustomer would make one, and returns its kustomer.message.create
// delivery: data is the message resource as GET answers it (attributes
// channel "chat", direction, preview, meta, createdAt…; relationships
// conversation, customer, and createdBy for an agent's), changes {}.
// A conversation the fake does not have still gets the message
// (Messages(conversationID) lists it), under a customer id of its own.
func (f *Fake) MessageCreated(conversationID, body, direction string) Delivery {
	if direction != "in" && direction != "out" {
		panic(fmt.Sprintf("cloudtest: MessageCreated: direction %q, want in or out", direction))
	}
	f.mu.Lock()
	customerID := newID()
	if c := f.conversation(conversationID); c != nil {
		customerID = c.customerID
	} else if ms := f.messages[conversationID]; len(ms) > 0 {
		customerID = ms[0].customerID
	}
	by := ""
	if direction == "out" {
		by = f.AgentID
	}
	m := f.newMessage(conversationID, customerID, by, map[string]any{
		"channel":   "chat",
		"app":       "chat",
		"direction": direction,
		"preview":   body,
		"meta":      map[string]any{},
	})
	data := f.messageResource(m)
	f.mu.Unlock()
	return f.Webhook("kustomer.message.create", data, map[string]any{})
}

// ConversationUpdated changes conversationID's attributes as an agent in
// Kustomer would (custom merged attribute by attribute; ended: true stamps
// endedAt; updatedAt moves on, always later than the last) and returns its
// kustomer.conversation.update delivery: data is the conversation resource
// as GET answers it, changes as given or, if nil, what changed as
// {attributes: {name: {op, before, after}}}. A conversation the fake does
// not have is made up for the delivery (and not kept).
func (f *Fake) ConversationUpdated(conversationID string, attrs, changes map[string]any) Delivery {
	f.mu.Lock()
	c := f.conversation(conversationID)
	if c == nil {
		c = f.conversationRecord(conversationID, newID(), map[string]any{})
	}
	computed := f.apply(c, jsonObject(attrs), false)
	c.modifiedBy = f.AgentID
	data := f.conversationResource(c)
	f.mu.Unlock()
	var ch any = changes
	if changes == nil {
		ch = computed
	}
	return f.Webhook("kustomer.conversation.update", data, ch)
}

// jsonObject turns Go values ([]string, int, time.Time…) into the JSON
// values the fake keeps, as a request body would carry them.
func jsonObject(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic("cloudtest: attributes: " + err.Error())
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic("cloudtest: attributes: " + err.Error())
	}
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// Sign is the delivery signature: the lowercase hex HMAC-SHA256 of the
// raw body keyed with the subscription's token.
func Sign(secret string, body []byte) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

func hmacSHA256(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}

// Send POSTs d to url as Kustomer does: Content-Type application/json,
// X-Kustomer-Webhook-Event d.Name, X-Kustomer-Webhook-Signature
// Sign(secret, body). The answer's body is read, and can be read again
// from the returned response. Call it from the test's goroutine: it fails
// the test at once if the POST gets no answer.
func (f *Fake) Send(t testing.TB, url, secret string, d Delivery) *http.Response {
	t.Helper()
	body := d.Body()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Kustomer-Webhook-Event", d.Name)
	h.Set("X-Kustomer-Webhook-Signature", Sign(secret, body))
	return f.SendRaw(t, url, h, body)
}

// SendRaw POSTs body to url with exactly the headers given, for malformed
// deliveries (no signature, a wrong one, a body that is not JSON…).
func (f *Fake) SendRaw(t testing.TB, url string, header http.Header, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("cloudtest: send: %v", err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("cloudtest: send %s: %v", url, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("cloudtest: send %s: reading the answer: %v", url, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}
