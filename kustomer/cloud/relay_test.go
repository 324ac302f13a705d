package cloud_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
	"github.com/handoff/handoff/kustomer/cloud"
	"github.com/handoff/handoff/kustomer/cloud/cloudtest"
	"github.com/handoff/handoff/kustomer/sqlstore"
)

const relayConfig = `
attributes:
  conversation:
    - name: topicStr
assistants:
  - id: greeter
    name: Greeter
    start: hi
    steps:
      - id: hi
        type: message
        text: Hello, I will find the right person.
        next: size
      - id: size
        type: buttons
        text: How big is your team?
        options:
          - {label: "Small", payload: small, next: hi}
          - {label: "Large", payload: large, next: hi}
forms:
  - id: assisted
    title: Assisted
    assistantId: greeter
    fields:
      - {name: email, type: email, role: email, required: true}
      - {name: message, type: textarea, role: message}
  - id: contact
    title: Contact us
    allowCustomerEnd: true
    fields:
      - {name: email, type: email, role: email, required: true}
      - {name: message, type: textarea, role: message}
      - {name: topic, type: text, attribute: topicStr}
`

// relayEnv is an engine that relays, over a real SQLite file, to the fake
// Kustomer, with the relay's dispatcher running and the webhook receiver
// served.
type relayEnv struct {
	fake    *cloudtest.Fake
	store   *sqlstore.Store
	engine  *kustomer.Engine
	relay   *cloud.Relay
	hookURL string
}

func newRelayEnv(t *testing.T) *relayEnv {
	t.Helper()
	ctx := t.Context()
	fake := cloudtest.Start(t, "test-key")
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "handoff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg, err := kustomer.ParseConfig(strings.NewReader(relayConfig))
	if err != nil {
		t.Fatal(err)
	}
	hub := kustomer.NewHub()
	t.Cleanup(hub.Close)
	e := kustomer.NewEngine(store, hub, cfg, nil)
	e.Relay = true
	if e.Assistants, err = assistant.Load([]byte(relayConfig), cfg); err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewClient(fake.URL, "test-key")
	if err != nil {
		t.Fatal(err)
	}
	client.MinWait, client.MaxWait = 10*time.Millisecond, 50*time.Millisecond
	relay := &cloud.Relay{Store: store, Client: client, App: "handoff", FormTitle: func(string) string { return "Contact us" }}
	d := &kustomer.Dispatcher{Outbox: store, Kind: kustomer.OutboxRelay, Deliver: relay.Deliver, Permanent: relay.Permanent,
		Wait: func(err error) time.Duration { return min(cloud.Wait(err), 200*time.Millisecond) }, Wake: e.ChangeWake(),
		Parallel: 4, Poll: 20 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, MaxAge: time.Hour}
	dctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(dctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	srv := httptest.NewServer(&cloud.Receiver{Engine: e, Refs: store, Secret: []byte(secret), AgentName: "Grace"})
	t.Cleanup(srv.Close)
	return &relayEnv{fake: fake, store: store, engine: e, relay: relay, hookURL: srv.URL}
}

// eventually waits for cond, failing with what() after 10 s.
func eventually(t *testing.T, what func() string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out: %s", what())
		}
	}
}

func (env *relayEnv) handOff(t *testing.T, email, text string) kustomer.Conversation {
	t.Helper()
	c, _, err := env.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{FormID: "contact", Message: text,
		CustomerEmail: email, CustomerName: "Dana", CustomAttributes: kustomer.Attributes{"topicStr": "billing"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (env *relayEnv) say(t *testing.T, c kustomer.Conversation, text string) {
	t.Helper()
	if _, _, err := env.engine.SendMessage(t.Context(), kustomer.CustomerActor(c.CustomerID), kustomer.SendMessageInput{ConversationID: c.ID, Body: text}); err != nil {
		t.Fatal(err)
	}
}

// previews are the messages Kustomer has of the conversation it knows by
// externalId.
func (env *relayEnv) previews(localID string) []string {
	for _, c := range env.fake.Conversations() {
		if c.ExternalID == localID {
			var out []string
			for _, m := range env.fake.Messages(c.ID) {
				out = append(out, m.Preview)
			}
			return out
		}
	}
	return nil
}

// TestRelayHandOff checks what a hand-off and the customer's next steps
// send: the customer by externalId with the form's email, the conversation
// with the form's attributes under custom, the messages as the customer's
// chat messages in order, attribute changes and the end; every request
// valid against Kustomer's OpenAPI export (the fake fails the test
// otherwise); and an agent's reply coming back on the webhook.
func TestRelayHandOff(t *testing.T) {
	env := newRelayEnv(t)
	ctx := t.Context()
	// The conversation is created with the attributes it has when the
	// relay gets to it (the form's, or the customer's change already).
	c := env.handOff(t, "dana@example.com", "Where is my parcel?")
	env.say(t, c, "It was due Monday.")
	if _, err := env.engine.DescribeConversation(ctx, kustomer.CustomerActor(c.CustomerID), c.ID, kustomer.Attributes{"topicStr": "delivery"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string { return fmt.Sprintf("previews %q", env.previews(c.ID)) }, func() bool { return len(env.previews(c.ID)) == 2 })

	custs := env.fake.Customers()
	if len(custs) != 1 || custs[0].ExternalID != c.CustomerID || len(custs[0].Emails) != 1 || custs[0].Emails[0] != "dana@example.com" || custs[0].Name != "Dana" {
		t.Fatalf("customers %+v", custs)
	}
	convs := env.fake.Conversations()
	if len(convs) != 1 || convs[0].CustomerID != custs[0].ID || !strings.Contains(string(convs[0].Body), `"custom":{"topicStr":`) ||
		convs[0].Name != "Contact us" || convs[0].ExternalID != c.ID {
		t.Fatalf("conversations %+v, created with %s", convs, convs[0].Body)
	}
	msgs := env.fake.Messages(convs[0].ID)
	for i, m := range msgs {
		if m.Channel != "chat" || m.Direction != "in" || m.App != "handoff" || m.ExternalID == "" {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	if got := env.previews(c.ID); got[0] != "Where is my parcel?" || got[1] != "It was due Monday." {
		t.Fatalf("previews %q", got)
	}
	eventually(t, func() string { return "the attribute change" }, func() bool {
		cv, _ := env.fake.Conversation(convs[0].ID)
		return cv.Custom["topicStr"] == "delivery"
	})

	// An agent answers in Kustomer: the reply reaches the local thread.
	d := env.fake.MessageCreated(convs[0].ID, "It arrives tomorrow.", "out")
	if res := env.fake.Send(t, env.hookURL, secret, d); res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", res.StatusCode)
	}
	msgsLocal, err := env.store.Messages(ctx, c.ID, kustomer.MessageQuery{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if last := msgsLocal[len(msgsLocal)-1]; last.Body != "It arrives tomorrow." || last.Direction != kustomer.DirectionOut || last.SentBy.DisplayName != "Grace" {
		t.Fatalf("last local message %+v", last)
	}
	// The reply is not relayed back; the customer ending the chat is.
	if _, err := env.engine.EndConversation(ctx, kustomer.CustomerActor(c.CustomerID), c.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string { return "the end" }, func() bool {
		cv, _ := env.fake.Conversation(convs[0].ID)
		return cv.Ended
	})
	if got := env.previews(c.ID); len(got) != 3 || got[2] != "It arrives tomorrow." {
		t.Fatalf("Kustomer's thread %q: the reply was relayed back or lost", got)
	}
}

// TestRelayOutage checks that while Kustomer answers 503 and 429 or does
// not answer at all, hand-offs and messages wait, and once it is back every
// one arrives, in each conversation's order, once.
func TestRelayOutage(t *testing.T) {
	env := newRelayEnv(t)
	answered := func(status int) func() bool {
		return func() bool {
			n := 0
			for _, r := range env.fake.Requests() {
				if r.Status == status {
					n++
				}
			}
			return n >= map[int]int{http.StatusServiceUnavailable: 4, http.StatusTooManyRequests: 3, 0: 1}[status]
		}
	}
	// 503 four times.
	env.fake.FailNext(4, http.StatusServiceUnavailable, nil)
	var convs []kustomer.Conversation
	for i := range 3 {
		convs = append(convs, env.handOff(t, fmt.Sprintf("c%d@example.com", i), fmt.Sprintf("c%d m1", i)))
	}
	eventually(t, func() string { return "four 503 answers" }, answered(http.StatusServiceUnavailable))
	// Then 429 three times, asking for a second's rest.
	env.fake.FailNext(3, http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}})
	for j := 2; j <= 3; j++ {
		for i, c := range convs {
			env.say(t, c, fmt.Sprintf("c%d m%d", i, j))
		}
	}
	eventually(t, func() string { return "three 429 answers" }, answered(http.StatusTooManyRequests))
	// Then no answer at all for a while.
	env.fake.SetDown(true)
	for i, c := range convs {
		env.say(t, c, fmt.Sprintf("c%d m4", i))
	}
	eventually(t, func() string { return "a request while down" }, answered(0))
	env.fake.SetDown(false)
	for i, c := range convs {
		want := []string{fmt.Sprintf("c%d m1", i), fmt.Sprintf("c%d m2", i), fmt.Sprintf("c%d m3", i), fmt.Sprintf("c%d m4", i)}
		eventually(t, func() string { return fmt.Sprintf("conversation %d: %q", i, env.previews(c.ID)) }, func() bool {
			return strings.Join(env.previews(c.ID), "|") == strings.Join(want, "|")
		})
	}
	if n := len(env.fake.Customers()); n != 3 {
		t.Errorf("%d customers in Kustomer, want 3", n)
	}
	if n := len(env.fake.Conversations()); n != 3 {
		t.Errorf("%d conversations in Kustomer, want 3", n)
	}
	var failed, refused int
	for _, r := range env.fake.Requests() {
		switch r.Status {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			failed++
		case 0:
			refused++
		}
	}
	if failed != 7 || refused == 0 {
		t.Errorf("the outage: %d 503/429 answers and %d unanswered requests; want 7 and some", failed, refused)
	}
	// Nothing more: a marker sent now is the next and last message.
	env.say(t, convs[0], "marker")
	eventually(t, func() string { return fmt.Sprintf("%q", env.previews(convs[0].ID)) }, func() bool { return len(env.previews(convs[0].ID)) == 5 })
	if got := env.previews(convs[0].ID); got[4] != "marker" {
		t.Errorf("after the outage: %q", got)
	}
}

// TestRelayAssistant checks that in a form its assistant greets, the team
// reads the whole dialogue in Kustomer: the assistant's messages are
// recorded there as outbound, by the assistant, and their webhook echoes
// are not added to the chat a second time.
func TestRelayAssistant(t *testing.T) {
	env := newRelayEnv(t)
	c, _, err := env.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{FormID: "assisted", Message: "Hi there",
		CustomerEmail: "ana@example.com", AssistantID: "greeter"})
	if err != nil {
		t.Fatal(err)
	}
	want := "Hi there|Hello, I will find the right person.|How big is your team?"
	eventually(t, func() string { return fmt.Sprintf("%q", env.previews(c.ID)) }, func() bool { return strings.Join(env.previews(c.ID), "|") == want })
	var remote cloudtest.Conversation
	for _, rc := range env.fake.Conversations() {
		if rc.ExternalID == c.ID {
			remote = rc
		}
	}
	msgs := env.fake.Messages(remote.ID)
	if msgs[0].Direction != "in" || msgs[1].Direction != "out" || msgs[1].Meta["author"] != "assistant" || msgs[1].Meta["authorName"] != "Greeter" {
		t.Fatalf("Kustomer's messages: %+v", msgs)
	}
	// Kustomer's webhook echoes what handoff recorded: nothing is added.
	before, err := env.store.Messages(t.Context(), c.ID, kustomer.MessageQuery{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	echo := env.fake.Webhook("kustomer.message.create", map[string]any{
		"type": "message", "id": msgs[1].ID, "attributes": msgs[1].Attributes,
		"relationships": map[string]any{"conversation": map[string]any{"data": map[string]any{"type": "conversation", "id": remote.ID}}},
	}, map[string]any{})
	if res := env.fake.Send(t, env.hookURL, secret, echo); res.StatusCode != http.StatusOK {
		t.Fatalf("echo: %d", res.StatusCode)
	}
	after, err := env.store.Messages(t.Context(), c.ID, kustomer.MessageQuery{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("the echo added a message: %d messages, were %d", len(after), len(before))
	}
}
