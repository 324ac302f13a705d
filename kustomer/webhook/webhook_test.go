package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/sqlstore"
	"github.com/handoff/handoff/kustomer/webhook"
)

const config = `
attributes:
  conversation:
    - name: topicStr
forms:
  - id: contact
    title: Contact us
    fields:
      - {name: email, type: email, role: email, required: true}
      - {name: message, type: textarea, role: message}
`

var agent = kustomer.Actor{Type: kustomer.AuthorAgent, ID: "agent-1", Name: "Grace"}

// fixture is an engine over a real SQLite file with both webhook
// dispatchers running, polling fast.
type fixture struct {
	store    *sqlstore.Store
	engine   *kustomer.Engine
	sender   *webhook.Sender
	disabled chan kustomer.Webhook
}

func newFixture(t *testing.T, policy kustomer.WebhookFailurePolicy) *fixture {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "handoff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg, err := kustomer.ParseConfig(strings.NewReader(config))
	if err != nil {
		t.Fatal(err)
	}
	hub := kustomer.NewHub()
	t.Cleanup(hub.Close)
	e := kustomer.NewEngine(store, hub, cfg, nil)
	e.AllowLoopbackWebhooks = true
	wake := make(chan struct{}, 1)
	f := &fixture{store: store, engine: e, disabled: make(chan kustomer.Webhook, 4)}
	f.sender = &webhook.Sender{Store: store, Client: webhook.NewClient(true), BaseURL: "http://chat.test", Policy: policy, Wake: wake,
		Disabled: func(w kustomer.Webhook) { f.disabled <- w }}
	dctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, d := range []*kustomer.Dispatcher{
		{Kind: kustomer.OutboxWebhookEvent, Deliver: f.sender.FanOut, Wake: e.ChangeWake(), MinBackoff: 10 * time.Millisecond},
		{Kind: kustomer.OutboxWebhookDelivery, Deliver: f.sender.Deliver, Wake: wake, Parallel: 4, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond},
	} {
		d.Outbox, d.Permanent, d.Poll, d.MaxAge = store, webhook.Permanent, 20*time.Millisecond, time.Hour
		wg.Go(func() { d.Run(dctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return f
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	status int
}

// receiver is a real HTTP endpoint; answer decides each request's status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) int // n counts from 1
	notify chan struct{}
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := &receiver{answer: answer, notify: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := r.answer(len(r.got) + 1)
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
		r.notify <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// waitOK waits until the receiver answered n requests with 2xx.
func (r *receiver) waitOK(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		var ok []received
		for _, g := range r.got {
			if g.status < 300 {
				ok = append(ok, g)
			}
		}
		r.mu.Unlock()
		if len(ok) >= n {
			return ok
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("the receiver got %d deliveries it accepted, want %d", len(ok), n)
		}
	}
}

func (f *fixture) register(t *testing.T, url string, private bool, events ...string) kustomer.Webhook {
	t.Helper()
	if len(events) == 0 {
		events = kustomer.WebhookEventTypes
	}
	w, err := f.engine.CreateWebhook(t.Context(), agent, kustomer.WebhookInput{URL: &url, Events: &events, Private: &private})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (f *fixture) start(t *testing.T, text string) kustomer.Conversation {
	t.Helper()
	c, _, err := f.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{FormID: "contact", Message: text, CustomerEmail: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) send(t *testing.T, convID, body string, private bool) kustomer.Message {
	t.Helper()
	m, _, err := f.engine.SendMessage(t.Context(), agent, kustomer.SendMessageInput{ConversationID: convID, Body: body, Private: private})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type body struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		ConversationID string                 `json:"conversationId"`
		Message        *kustomer.Message      `json:"message"`
		Conversation   *kustomer.Conversation `json:"conversation"`
		Customer       *kustomer.Customer     `json:"customer"`
		Changes        map[string]any         `json:"changes"`
		ClosedBy       string                 `json:"closedBy"`
	} `json:"data"`
}

func decode(t *testing.T, g received) body {
	t.Helper()
	var b body
	if err := json.Unmarshal(g.body, &b); err != nil {
		t.Fatalf("body %s: %v", g.body, err)
	}
	return b
}

// TestSignedInOrder checks what an endpoint receives: every event it
// subscribed to, signed so the Standard Webhooks library verifies it, in
// the order of the changes; a private note only where asked for.
func TestSignedInOrder(t *testing.T) {
	f := newFixture(t, webhook.DefaultFailurePolicy)
	public := newReceiver(t, func(int) int { return http.StatusNoContent })
	private := newReceiver(t, func(int) int { return http.StatusOK })
	wpub := f.register(t, public.URL+"/hook?token=abc", false)
	wpriv := f.register(t, private.URL, true, kustomer.WebhookMessageCreated)

	c := f.start(t, "My invoice is wrong")
	f.send(t, c.ID, "Only for the team", true)
	f.send(t, c.ID, "Let me check", false)
	if _, err := f.engine.EndConversation(t.Context(), agent, c.ID); err != nil {
		t.Fatal(err)
	}
	// conversation.created, message.created (first), the reply,
	// message.created (ended), dialog:close, conversation.updated.
	got := public.waitOK(t, 6)
	verifier, err := standardwebhooks.NewWebhook(wpub.Secret)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	ids := map[string]bool{}
	for _, g := range got {
		if err := verifier.Verify(g.body, g.header); err != nil {
			t.Errorf("signature of %s: %v", g.body, err)
		}
		if g.header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", g.header.Get("Content-Type"))
		}
		ids[g.header.Get("webhook-id")] = true
		b := decode(t, g)
		types = append(types, b.Type)
		if b.Data.ConversationID != c.ID {
			t.Errorf("%s names conversation %q, want %s", b.Type, b.Data.ConversationID, c.ID)
		}
		if b.Data.Message != nil && b.Data.Message.Private {
			t.Errorf("a private note reached an endpoint that did not ask for them: %s", g.body)
		}
	}
	want := []string{"conversation.created", "message.created", "message.created", "message.created", "dialog:close", "conversation.updated"}
	if !slices.Equal(types, want) {
		t.Fatalf("received %v, want %v", types, want)
	}
	if len(ids) != 6 {
		t.Errorf("webhook-ids %v, want 6 distinct", ids)
	}
	first, reply, ended := decode(t, got[1]), decode(t, got[2]), decode(t, got[5])
	if first.Data.Message.Body != "My invoice is wrong" || reply.Data.Message.Body != "Let me check" || reply.Data.Message.Seq != 3 {
		t.Errorf("messages: %+v then %+v", first.Data.Message, reply.Data.Message)
	}
	if created := decode(t, got[0]); created.Data.Customer == nil || created.Data.Customer.Emails[0] != "ada@example.com" || created.Data.Conversation.FormID != "contact" {
		t.Errorf("conversation.created data: %s", got[0].body)
	}
	if ended.Data.Changes["ended"] != true || ended.Data.Conversation == nil || !ended.Data.Conversation.Ended {
		t.Errorf("conversation.updated data: %s", got[5].body)
	}
	if closed := decode(t, got[4]); closed.Data.ClosedBy != "AGENT" {
		t.Errorf("dialog:close data: %s", got[4].body)
	}

	// The private endpoint got the messages only, the note among them.
	pgot := private.waitOK(t, 4)
	var bodies []string
	for _, g := range pgot {
		if err := mustVerifier(t, wpriv.Secret).Verify(g.body, g.header); err != nil {
			t.Errorf("signature: %v", err)
		}
		b := decode(t, g)
		if b.Type != "message.created" {
			t.Errorf("private endpoint got %s, subscribed to message.created only", b.Type)
		}
		bodies = append(bodies, b.Data.Message.Body)
	}
	if !slices.Equal(bodies[:3], []string{"My invoice is wrong", "Only for the team", "Let me check"}) {
		t.Errorf("private endpoint got %q", bodies)
	}
	var log []kustomer.WebhookAttempt
	for deadline := time.Now().Add(5 * time.Second); len(log) < 6 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if log, err = f.engine.WebhookAttempts(t.Context(), wpub.ID, 100); err != nil {
			t.Fatal(err)
		}
	}
	if len(log) != 6 || log[0].Status != http.StatusNoContent || log[0].Attempt != 1 {
		t.Errorf("delivery log: %+v", log)
	}
}

func mustVerifier(t *testing.T, secret string) *standardwebhooks.Webhook {
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReceiverDown checks that a receiver that fails for a while then
// recovers gets every event afterwards, once, each conversation's in order,
// and that the log shows the failed attempts.
func TestReceiverDown(t *testing.T) {
	f := newFixture(t, webhook.DefaultFailurePolicy)
	var mu sync.Mutex
	down := true
	r := newReceiver(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	w := f.register(t, r.URL, false, kustomer.WebhookMessageCreated)
	convs := []kustomer.Conversation{f.start(t, "first 1"), f.start(t, "second 1")}
	for i := 2; i <= 6; i++ {
		for j, c := range convs {
			f.send(t, c.ID, []string{"first", "second"}[j]+" "+string(rune('0'+i)), false)
		}
	}
	// Wait until some attempts failed, then bring the receiver up.
	for {
		r.mu.Lock()
		n := len(r.got)
		r.mu.Unlock()
		if n >= 4 {
			break
		}
		<-r.notify
	}
	mu.Lock()
	down = false
	mu.Unlock()
	got := r.waitOK(t, 12)
	seen := map[string]int{}
	last := map[string]int64{}
	for _, g := range got {
		seen[g.header.Get("webhook-id")]++
		m := decode(t, g).Data.Message
		if m.Seq <= last[m.ConversationID] {
			t.Errorf("conversation %s: seq %d after %d", m.ConversationID, m.Seq, last[m.ConversationID])
		}
		last[m.ConversationID] = m.Seq
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
	if len(seen) != 12 || last[convs[0].ID] != 6 || last[convs[1].ID] != 6 {
		t.Errorf("accepted %d events, last seqs %v; want 12, 6 each", len(seen), last)
	}
	// The log is written after each answer: wait for the last.
	var failed, ok int
	for deadline := time.Now().Add(5 * time.Second); ok < 12 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		log, err := f.engine.WebhookAttempts(t.Context(), w.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		failed, ok = 0, 0
		for _, a := range log {
			switch {
			case a.Status == http.StatusServiceUnavailable && a.Error != "":
				failed++
			case a.OK():
				ok++
			}
		}
	}
	if failed < 4 || ok != 12 {
		t.Errorf("log has %d failed and %d delivered attempts; want at least 4 and 12", failed, ok)
	}
	// Nothing more arrives: a marker sent after everything is the next.
	f.send(t, convs[0].ID, "marker", false)
	got = r.waitOK(t, 13)
	if m := decode(t, got[12]).Data.Message; m.Body != "marker" {
		t.Errorf("after the marker's turn came %q", m.Body)
	}
}

// TestSlowReceiver checks that an endpoint that does not answer holds up
// neither the chat nor another endpoint.
func TestSlowReceiver(t *testing.T) {
	f := newFixture(t, webhook.DefaultFailurePolicy)
	release := make(chan struct{})
	slowGot := make(chan struct{}, 100)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowGot <- struct{}{}
		<-release
	}))
	defer slow.Close()
	defer close(release)
	fast := newReceiver(t, func(int) int { return http.StatusOK })
	f.register(t, slow.URL, false, kustomer.WebhookMessageCreated)
	f.register(t, fast.URL, false, kustomer.WebhookMessageCreated)
	c := f.start(t, "hello")
	<-slowGot // the slow endpoint holds the first delivery
	for i := range 5 {
		f.send(t, c.ID, "reply "+string(rune('1'+i)), false)
	}
	got := fast.waitOK(t, 6)
	if m := decode(t, got[5]).Data.Message; m.Body != "reply 5" {
		t.Errorf("the fast endpoint's last delivery: %q", m.Body)
	}
}

// TestDisabledAfterFailures checks that an endpoint that keeps failing is
// disabled with a notice, its waiting deliveries given up, and that after
// it is enabled again they can be sent again, in order.
func TestDisabledAfterFailures(t *testing.T) {
	f := newFixture(t, kustomer.WebhookFailurePolicy{Failures: 3})
	var mu sync.Mutex
	up := false
	r := newReceiver(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	w := f.register(t, r.URL, false, kustomer.WebhookMessageCreated)
	c := f.start(t, "one")
	f.send(t, c.ID, "two", false)
	var off kustomer.Webhook
	select {
	case off = <-f.disabled:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint was not disabled")
	}
	if off.ID != w.ID || off.Enabled || !strings.Contains(off.DisabledReason, "3 deliveries in a row failed") {
		t.Fatalf("disabled endpoint: %+v", off)
	}
	// Both deliveries end up given up.
	deadline := time.Now().Add(10 * time.Second)
	var parked []kustomer.OutboxItem
	for time.Now().Before(deadline) {
		var err error
		if parked, err = f.engine.WebhookDeliveries(t.Context(), w.ID, kustomer.OutboxParked, 10); err != nil {
			t.Fatal(err)
		}
		if len(parked) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(parked) != 2 {
		t.Fatalf("parked deliveries: %d, want 2", len(parked))
	}
	mu.Lock()
	up = true
	mu.Unlock()
	enabled := true
	if _, err := f.engine.UpdateWebhook(t.Context(), agent, w.ID, kustomer.WebhookInput{Enabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	n, err := f.engine.ResendFailedWebhookDeliveries(t.Context(), agent, w.ID)
	if err != nil || n != 2 {
		t.Fatalf("ResendFailedWebhookDeliveries = %d, %v; want 2", n, err)
	}
	got := r.waitOK(t, 2)
	if a, b := decode(t, got[0]).Data.Message.Body, decode(t, got[1]).Data.Message.Body; a != "one" || b != "two" {
		t.Errorf("resent %q then %q", a, b)
	}
}

// TestNoLoopbackInProduction checks that a delivery never connects to this
// machine when loopback is not allowed, whatever the URL says.
func TestNoLoopbackInProduction(t *testing.T) {
	r := newReceiver(t, func(int) int { return http.StatusOK })
	res, err := webhook.NewClient(false).Post(r.URL, "application/json", strings.NewReader("{}"))
	if err == nil {
		res.Body.Close()
		t.Fatal("the client connected to 127.0.0.1")
	}
	if !strings.Contains(err.Error(), "on this machine") {
		t.Errorf("error %v", err)
	}
	if len(r.got) != 0 {
		t.Errorf("the receiver got %d requests", len(r.got))
	}
}
