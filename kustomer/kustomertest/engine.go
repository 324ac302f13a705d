package kustomertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/handoff/handoff/kustomer"
)

// engineConfig defines one attribute of every type, two skills and a contact
// form.
const engineConfig = `
attributes:
  conversation:
    - name: topicStr
      displayName: Topic
    - name: teamSizeNum
    - name: newsletterBool
    - name: dueAt
    - name: siteUrl
    - name: notesTxt
  customer:
    - name: planStr
skills:
  - {id: billing, name: Billing and invoices}
  - {id: tech, name: Technical support}
forms:
  - id: contact
    title: Contact us
    assistantId: greeter
    allowedOrigins: [https://www.example.com]
    allowCustomerEnd: true
    fields:
      - {name: name, type: text, role: name}
      - {name: email, type: email, role: email, required: true}
      - {name: message, type: textarea, role: message}
      - name: topic
        type: select
        attribute: topicStr
        options: [{value: sales}, {value: support}]
      - {name: teamSize, type: number, attribute: teamSizeNum}
      - {name: newsletter, type: checkbox, attribute: newsletterBool}
`

// RunEngine checks the kustomer.Engine over a store from open: validation,
// access control, idempotency, paging and live events. open must return a
// fresh, empty store for each subtest.
func RunEngine(t *testing.T, open func(t *testing.T) kustomer.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *engineFixture)
	}{
		{"CreateConversation", testEngineCreate},
		{"CreateConversation/Idempotent", testEngineCreateIdempotent},
		{"Validation/CreateConversation", testEngineCreateValidation},
		{"Validation/SendMessage", testEngineSendValidation},
		{"Validation/DescribeConversation", testEngineDescribeValidation},
		{"Validation/GetMessages", testEngineGetMessagesValidation},
		{"Forbidden", testEngineForbidden},
		{"NotFound", testEngineNotFound},
		{"Lang", testEngineLang},
		{"MarkMessagesRead", testEngineMarkMessagesRead},
		{"AgentNote", testEngineAgentNote},
		{"UnreadByParticipant", testEngineUnreadByParticipant},
		{"Transfer/Forms", testEngineTransferForms},
		{"TTR", testEngineTTR},
		{"SendMessage/Direction", testEngineDirection},
		{"SendMessage/Idempotent", testEngineSendIdempotent},
		{"SendMessage/Ended", testEngineSendEnded},
		{"Events/AfterCommit", testEngineEventsAfterCommit},
		{"Events/WakeOnlyForWebhooks", testEngineWakeOnlyForWebhooks},
		{"GetConversations/Pages", testEnginePages},
		{"EndConversation", testEngineEnd},
		{"MarkRead", testEngineMarkRead},
		{"DescribeConversation", testEngineDescribe},
		{"Assignment/Join", testEngineJoin},
		{"Assignment/TransferToAgent", testEngineTransferToAgent},
		{"Assignment/TransferToSkill", testEngineTransferToSkill},
		{"Assignment/Unassign", testEngineUnassign},
		{"Assignment/Refused", testEngineAssignmentRefused},
		{"ReopenConversation", testEngineReopen},
		{"Assignment/TakesOverFromAssistant", testEngineTakeOverFromAssistant},
		{"ReopenConversation/DisabledAssignee", testEngineReopenDisabledAssignee},
		{"RateConversation", testEngineRate},
		{"PrivateNotes", testEnginePrivateNotes},
		{"Inbox", testEngineInbox},
		{"Accounts/CreateAgent", testEngineCreateAgent},
		{"Accounts/Authenticate", testEngineAuthenticate},
		{"Accounts/UpdateAgent", testEngineUpdateAgent},
		{"Accounts/LastAdmin", testEngineLastAdmin},
		{"Accounts/DisableRequeues", testEngineDisableRequeues},
		{"Accounts/EnsureAdmin", testEngineEnsureAdmin},
		{"Accounts/Sessions", testEngineSessions},
		{"Audit", testEngineAudit},
		{"SavedReplies", testEngineSavedReplies},
		{"Labels", testEngineLabels},
		{"Assignment/Auto", testEngineAutoAssign},
		{"Assignment/Status", testEngineAgentStatus},
		{"Console/Counts", testEngineConsoleCounts},
		{"Console/Notices", testEngineConsoleNotices},
		{"Report", testEngineReport},
		{"Forms/Origins", testEngineFormOrigins},
		{"Forms/SettingsShared", testEngineFormSettingsShared},
		{"UseOnce", testEngineUseOnce},
		{"FollowUp", testEngineFollowUp},
		{"Transcript", testEngineTranscript},
		{"Attachments/Types", testEngineAttachmentTypes},
		{"Attachments/Send", testEngineAttachmentSend},
		{"Attachments/Private", testEngineAttachmentPrivate},
		{"Attachments/Cleanup", testEngineAttachmentCleanup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newEngineFixture(t, open(t)))
		})
	}
}

// engineFixture is an Engine over a store, publishing through a
// commitCheckingBroker into a Hub, with a deterministic clock.
type engineFixture struct {
	store  kustomer.Store
	hub    *kustomer.Hub
	broker *commitCheckingBroker
	engine *kustomer.Engine
}

var (
	agent     = kustomer.Actor{Type: kustomer.AuthorAgent, ID: "agent-1", Name: "Grace"}
	assistant = kustomer.Actor{Type: kustomer.AuthorAssistant, ID: "greeter", Name: "Greeter"}
)

func newEngineFixture(t *testing.T, s kustomer.Store) *engineFixture {
	t.Helper()
	return newEngineFixtureConfig(t, s, engineConfig)
}

// newEngineFixtureConfig is newEngineFixture with another configuration.
func newEngineFixtureConfig(t *testing.T, s kustomer.Store, config string) *engineFixture {
	t.Helper()
	cfg, err := kustomer.ParseConfig(strings.NewReader(config))
	must(t, "ParseConfig", err)
	hub := kustomer.NewHub()
	t.Cleanup(hub.Close)
	b := &commitCheckingBroker{t: t, store: s, hub: hub}
	e := kustomer.NewEngine(s, b, cfg, nil)
	clock := &steppingClock{now: t0}
	e.Now = clock.Now
	e.PasswordCost = bcrypt.MinCost
	return &engineFixture{store: s, hub: hub, broker: b, engine: e}
}

// steppingClock advances one second on every reading, so that every change
// the Engine makes has its own time.
type steppingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// commitCheckingBroker records every event and, before passing it to the
// Hub, checks that the change it announces can already be read back from
// the store: the Engine publishes only after commit.
type commitCheckingBroker struct {
	t     testing.TB
	store kustomer.Store
	hub   *kustomer.Hub

	mu     sync.Mutex
	events []kustomer.Event
}

func (b *commitCheckingBroker) Publish(ctx context.Context, ev kustomer.Event) error {
	switch {
	case ev.Message != nil:
		m := ev.Message
		msgs, err := b.store.Messages(ctx, ev.ConversationID, kustomer.MessageQuery{AfterSeq: m.Seq - 1, Max: 1, IncludePrivate: true})
		if err != nil || len(msgs) != 1 || msgs[0].ID != m.ID {
			b.t.Errorf("%s event for message %s (seq %d) published before it can be read back: %v %v", ev.Type, m.ID, m.Seq, msgs, err)
		}
	case ev.Conversation != nil:
		c, err := b.store.Conversation(ctx, ev.ConversationID)
		if err != nil || c.Ended != ev.Conversation.Ended || !c.UpdatedAt.Equal(ev.Conversation.UpdatedAt) || !attrsEqual(c.CustomAttributes, ev.Conversation.CustomAttributes) ||
			c.AssigneeID != ev.Conversation.AssigneeID || c.Skill != ev.Conversation.Skill || !satisfactionEqual(c.Satisfaction, ev.Conversation.Satisfaction) {
			b.t.Errorf("%s event for conversation %s published before it can be read back: stored %+v, event %+v, err %v", ev.Type, ev.ConversationID, c, ev.Conversation, err)
		}
	case ev.Agent != nil:
		a, err := b.store.Agent(ctx, ev.Agent.ID)
		if err != nil || a.Name != ev.Agent.Name || a.Role != ev.Agent.Role || a.Disabled != ev.Agent.Disabled || !a.UpdatedAt.Equal(ev.Agent.UpdatedAt) {
			b.t.Errorf("%s event for agent %s published before it can be read back: stored %+v, event %+v, err %v", ev.Type, ev.Agent.ID, a, ev.Agent, err)
		}
	}
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	return b.hub.Publish(ctx, ev)
}

func (b *commitCheckingBroker) Subscribe(conversationID string) kustomer.Subscription {
	return b.hub.Subscribe(conversationID)
}

func (b *commitCheckingBroker) SubscribeFunc(conversationID string, notify func()) kustomer.QueuedSubscription {
	return b.hub.SubscribeFunc(conversationID, notify)
}

// published returns the events published so far.
func (b *commitCheckingBroker) published() []kustomer.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.events)
}

// count returns how many events of type typ were published.
func (b *commitCheckingBroker) count(typ kustomer.EventType) int {
	n := 0
	for _, ev := range b.published() {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// start creates a conversation through the Engine for a new customer and
// returns it with the customer's actor.
func (f *engineFixture) start(t testing.TB, body string) (kustomer.Conversation, kustomer.Actor) {
	t.Helper()
	c, created, err := f.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{
		CustomerName:  "Ada Lovelace",
		CustomerEmail: "Ada@Example.com",
		Message:       body,
		FormID:        "contact",
		AssistantID:   "greeter",
	})
	must(t, "CreateConversation", err)
	if !created {
		t.Fatalf("CreateConversation: created = false")
	}
	return c, kustomer.CustomerActor(c.CustomerID)
}

// send sends body as actor and fails the test unless it was created.
func (f *engineFixture) send(t testing.TB, actor kustomer.Actor, convID, clientID, body string) kustomer.Message {
	t.Helper()
	m, created, err := f.engine.SendMessage(t.Context(), actor, kustomer.SendMessageInput{ConversationID: convID, ClientMessageID: clientID, Body: body})
	must(t, "SendMessage", err)
	if !created {
		t.Fatalf("SendMessage %q: created = false", clientID)
	}
	return m
}

func (f *engineFixture) conversation(t testing.TB, id string) kustomer.Conversation {
	t.Helper()
	return getConversation(t, f.store, id)
}

// storedConversations is how many conversations the store holds.
func (f *engineFixture) storedConversations(t testing.TB) int {
	t.Helper()
	_, total, err := f.store.Conversations(t.Context(), kustomer.ConversationFilter{}, 0, 1)
	must(t, "Conversations", err)
	return total
}

func testEngineCreate(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()

	c, created, err := f.engine.CreateConversation(ctx, kustomer.CreateConversationInput{
		CustomerName:     "  Ada Lovelace ",
		CustomerEmail:    "Ada@Example.com",
		Message:          "Hello\r\nI need a quote.  \n",
		ClientMessageID:  "form-abc",
		FormID:           "contact",
		AssistantID:      "greeter",
		CustomAttributes: kustomer.Attributes{"topicStr": " sales ", "teamSizeNum": 12.0, "dueAt": "2026-02-01T10:00:00+01:00", "siteUrl": nil},
		Context:          kustomer.PageContext{Referrer: "https://www.example.com/", UserAgent: "UA", Locale: "en-GB"},
	})
	must(t, "CreateConversation", err)
	if !created {
		t.Errorf("created = false")
	}
	if !kustomer.ValidID(c.ID) || !kustomer.ValidID(c.CustomerID) {
		t.Errorf("ids %q, %q are not ids", c.ID, c.CustomerID)
	}
	if !c.IsInAssistantMode || c.AssistantID != "greeter" || c.FormID != "contact" || c.Ended || c.LastSeq != 1 {
		t.Errorf("conversation = %+v, want assistant mode with greeter, form contact, not ended, LastSeq 1", c)
	}
	wantAttrs := kustomer.Attributes{"topicStr": "sales", "teamSizeNum": 12.0, "dueAt": "2026-02-01T09:00:00.000Z"}
	if !attrsEqual(c.CustomAttributes, wantAttrs) {
		t.Errorf("attributes = %v, want normalised %v", c.CustomAttributes, wantAttrs)
	}
	if c.Preview != "Hello I need a quote." {
		t.Errorf("preview = %q", c.Preview)
	}
	msgs, err := f.engine.GetMessages(ctx, kustomer.CustomerActor(c.CustomerID), c.ID, kustomer.MessageQuery{})
	must(t, "GetMessages", err)
	if len(msgs) != 1 || msgs[0].Body != "Hello\nI need a quote." || msgs[0].Direction != kustomer.DirectionIn || msgs[0].Seq != 1 ||
		msgs[0].SentBy.Type != kustomer.AuthorCustomer || msgs[0].SentBy.ID != c.CustomerID {
		t.Errorf("messages = %+v, want the normalised first message, in, seq 1, by the customer", msgs)
	}
	cu, err := f.engine.Customer(ctx, kustomer.CustomerActor(c.CustomerID), c.CustomerID)
	must(t, "Customer", err)
	if cu.Name != "Ada Lovelace" || !slices.Equal(cu.Emails, []string{"ada@example.com"}) {
		t.Errorf("customer = %+v, want trimmed name and lowercased email", cu)
	}

	ev := nextEvent(t, all)
	if ev.Type != kustomer.EventConversationCreated || ev.Conversation == nil || ev.Conversation.ID != c.ID {
		t.Errorf("first event = %+v, want conversation.created for %s", ev, c.ID)
	}
	ev = nextEvent(t, all)
	if ev.Type != kustomer.EventMessageCreated || ev.Message == nil || ev.Message.Seq != 1 || ev.ConversationID != c.ID {
		t.Errorf("second event = %+v, want message.created seq 1", ev)
	}

	// The same customer starts another: same customer, email kept once.
	c2, _, err := f.engine.CreateConversation(ctx, kustomer.CreateConversationInput{CustomerID: c.CustomerID, CustomerEmail: "ada@example.com", Message: "again"})
	must(t, "CreateConversation for an existing customer", err)
	if c2.CustomerID != c.CustomerID || c2.IsInAssistantMode {
		t.Errorf("second conversation: customer %s assistant mode %v, want %s and false", c2.CustomerID, c2.IsInAssistantMode, c.CustomerID)
	}
	cu, err = f.store.Customer(ctx, c.CustomerID)
	must(t, "Customer", err)
	if !slices.Equal(cu.Emails, []string{"ada@example.com"}) || cu.Name != "Ada Lovelace" {
		t.Errorf("customer after a second conversation = %+v", cu)
	}

	// A session whose customer no longer exists gets a new customer.
	gone := kustomer.NewID()
	c3, _, err := f.engine.CreateConversation(ctx, kustomer.CreateConversationInput{CustomerID: gone, Message: "hi"})
	must(t, "CreateConversation for an unknown customer", err)
	if c3.CustomerID == gone || c3.CustomerID == c.CustomerID || !kustomer.ValidID(c3.CustomerID) {
		t.Errorf("unknown customer id: conversation has customer %q", c3.CustomerID)
	}
}

func testEngineCreateIdempotent(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	in := kustomer.CreateConversationInput{CustomerEmail: "ada@example.com", Message: "hello", ClientMessageID: "submit-1", FormID: "contact"}
	c1, created, err := f.engine.CreateConversation(ctx, in)
	must(t, "CreateConversation", err)
	if !created {
		t.Fatalf("created = false")
	}
	other, _ := f.start(t, "someone else")
	published := len(f.broker.published())

	// A retry before the client learnt its customer id.
	c2, created, err := f.engine.CreateConversation(ctx, in)
	must(t, "retry", err)
	if created || c2.ID != c1.ID {
		t.Errorf("retry: id %s created %v, want %s and false", c2.ID, created, c1.ID)
	}
	// A retry from the same customer.
	in.CustomerID = c1.CustomerID
	c3, created, err := f.engine.CreateConversation(ctx, in)
	must(t, "retry by the customer", err)
	if created || c3.ID != c1.ID {
		t.Errorf("retry by the customer: id %s created %v, want %s and false", c3.ID, created, c1.ID)
	}
	// Another customer cannot claim it.
	in.CustomerID = other.CustomerID
	_, _, err = f.engine.CreateConversation(ctx, in)
	wantErr(t, "reused clientMessageId by another customer", err, kustomer.ErrConflict)

	if n := len(f.broker.published()); n != published {
		t.Errorf("%d events published, want %d: retries publish nothing", n, published)
	}
	if n := f.storedConversations(t); n != 2 {
		t.Errorf("%d conversations stored, want 2", n)
	}
}

func testEngineCreateValidation(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	tests := []struct {
		name   string
		in     kustomer.CreateConversationInput
		fields []string
	}{
		{
			name: "every attribute wrong and no message",
			in: kustomer.CreateConversationInput{
				Message: " \n ",
				CustomAttributes: kustomer.Attributes{
					"undefinedStr":   "x",
					"topicStr":       42.0,
					"notesTxt":       true,
					"teamSizeNum":    "five",
					"newsletterBool": "yes",
					"dueAt":          "next tuesday",
					"siteUrl":        "ftp://example.com/file",
				},
			},
			fields: []string{
				"message",
				"customAttributes.undefinedStr",
				"customAttributes.topicStr",
				"customAttributes.notesTxt",
				"customAttributes.teamSizeNum",
				"customAttributes.newsletterBool",
				"customAttributes.dueAt",
				"customAttributes.siteUrl",
			},
		},
		{
			name:   "message over 8000 characters",
			in:     kustomer.CreateConversationInput{Message: strings.Repeat("é", kustomer.MaxBodyLen+1)},
			fields: []string{"message"},
		},
		{
			name: "customer and form fields",
			in: kustomer.CreateConversationInput{
				Message: "hi", CustomerEmail: "not-an-email", CustomerName: strings.Repeat("n", kustomer.MaxAuthorNameLen+1),
				FormID: "no-such-form", AssistantID: "bad id!", ClientMessageID: "has space",
			},
			fields: []string{"email", "name", "formId", "assistantId", "clientMessageId"},
		},
		{
			name:   "a Str attribute over 256 characters",
			in:     kustomer.CreateConversationInput{Message: "hi", CustomAttributes: kustomer.Attributes{"topicStr": strings.Repeat("s", kustomer.MaxStrLen+1)}},
			fields: []string{"customAttributes.topicStr"},
		},
	}
	for _, tt := range tests {
		_, _, err := f.engine.CreateConversation(ctx, tt.in)
		wantValidation(t, tt.name, err, tt.fields...)
	}
	if n := f.storedConversations(t); n != 0 {
		t.Errorf("%d conversations stored after rejected calls, want 0", n)
	}
	if evs := f.broker.published(); len(evs) != 0 {
		t.Errorf("%d events published after rejected calls, want 0", len(evs))
	}

	// Exactly at the limit is accepted.
	_, _, err := f.engine.CreateConversation(ctx, kustomer.CreateConversationInput{Message: strings.Repeat("é", kustomer.MaxBodyLen)})
	must(t, "a message of exactly 8000 characters", err)
}

func testEngineSendValidation(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	before := len(f.broker.published())
	tests := []struct {
		name   string
		actor  kustomer.Actor
		in     kustomer.SendMessageInput
		fields []string
	}{
		{"empty body", cust, kustomer.SendMessageInput{Body: ""}, []string{"body"}},
		{"blank body", cust, kustomer.SendMessageInput{Body: " \r\n\t "}, []string{"body"}},
		{"body over 8000 characters", cust, kustomer.SendMessageInput{Body: strings.Repeat("x", kustomer.MaxBodyLen+1)}, []string{"body"}},
		{"NUL in body", cust, kustomer.SendMessageInput{Body: "a\x00b"}, []string{"body"}},
		{"invalid UTF-8", cust, kustomer.SendMessageInput{Body: "a\xffb"}, []string{"body"}},
		{"several at once", agent, kustomer.SendMessageInput{
			Body: strings.Repeat("x", kustomer.MaxBodyLen+1), ClientMessageID: "has space",
			Payload: json.RawMessage(`{`), AuthorName: strings.Repeat("n", kustomer.MaxAuthorNameLen+1),
		}, []string{"body", "clientMessageId", "payload", "authorName"}},
		{"clientMessageId too long", cust, kustomer.SendMessageInput{Body: "ok", ClientMessageID: strings.Repeat("c", kustomer.MaxClientIDLen+1)}, []string{"clientMessageId"}},
		{"payload too big", cust, kustomer.SendMessageInput{Payload: json.RawMessage(`"` + strings.Repeat("p", kustomer.MaxPayloadBytes) + `"`)}, []string{"payload"}},
		{"attachments", cust, kustomer.SendMessageInput{Body: "see file", Attachments: []kustomer.Attachment{{Name: "a.pdf"}}}, []string{"attachments[0]"}},
		{"unknown actor type", kustomer.Actor{Type: "robot", ID: "r"}, kustomer.SendMessageInput{Body: "beep"}, []string{"authorType"}},
	}
	for _, tt := range tests {
		tt.in.ConversationID = c.ID
		_, _, err := f.engine.SendMessage(ctx, tt.actor, tt.in)
		wantValidation(t, tt.name, err, tt.fields...)
	}
	if got := f.conversation(t, c.ID); got.LastSeq != 1 {
		t.Errorf("LastSeq = %d after rejected sends, want 1", got.LastSeq)
	}
	if n := len(f.broker.published()); n != before {
		t.Errorf("%d events published by rejected sends", n-before)
	}

	// The limit itself, and a payload without a body, are accepted.
	f.send(t, cust, c.ID, "", strings.Repeat("x", kustomer.MaxBodyLen))
	_, _, err := f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: c.ID, Payload: json.RawMessage(`{"choice":"yes"}`)})
	must(t, "a payload without a body", err)
}

func testEngineDescribeValidation(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	c, err := f.engine.DescribeConversation(ctx, cust, c.ID, kustomer.Attributes{"topicStr": "sales"})
	must(t, "DescribeConversation", err)
	before := len(f.broker.published())

	_, err = f.engine.DescribeConversation(ctx, cust, c.ID, kustomer.Attributes{
		"topicStr":   "line\nbreak",
		"siteUrl":    "mailto:ada@example.com",
		"nopeNum":    1.0,
		"dueAt":      "2026-13-01T00:00:00Z",
		"notesTxt":   "fine",
		"newsletter": true,
	})
	wantValidation(t, "DescribeConversation", err,
		"customAttributes.topicStr", "customAttributes.siteUrl", "customAttributes.nopeNum", "customAttributes.dueAt", "customAttributes.newsletter")
	checkConversation(t, "after a rejected describe", f.conversation(t, c.ID), c)
	if n := len(f.broker.published()); n != before {
		t.Errorf("%d events published by a rejected describe", n-before)
	}

	tooMany := kustomer.Attributes{}
	for i := range kustomer.MaxAttributes + 1 {
		tooMany[fmt.Sprintf("a%dStr", i)] = "x"
	}
	_, err = f.engine.DescribeConversation(ctx, cust, c.ID, tooMany)
	wantValidation(t, "more than 100 attributes", err, "customAttributes")

	_, err = f.engine.DescribeCustomer(ctx, cust, c.CustomerID, kustomer.DescribeCustomerInput{
		Emails:           []string{"ok@example.com", "nope"},
		Phones:           []string{"call me"},
		Socials:          []kustomer.Social{{Username: "ok", Type: "twitter"}, {Username: "", Type: "twitter"}, {Username: "x", Type: "My Space!"}},
		CustomAttributes: kustomer.Attributes{"planStr": 3.0},
	})
	wantValidation(t, "DescribeCustomer", err, "attributes.emails[1]", "attributes.phones[0]", "attributes.socials[1].username",
		"attributes.socials[2].type", "customAttributes.planStr")
	cu, err := f.store.Customer(ctx, c.CustomerID)
	must(t, "Customer", err)
	if len(cu.Emails) != 1 || len(cu.Phones) != 0 || len(cu.CustomAttributes) != 0 {
		t.Errorf("customer changed by a rejected describe: %+v", cu)
	}
}

func testEngineGetMessagesValidation(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	_, err := f.engine.GetMessages(ctx, cust, c.ID, kustomer.MessageQuery{AfterSeq: -1, BeforeSeq: -1, Max: kustomer.MaxMessages + 1})
	wantValidation(t, "GetMessages", err, "afterSeq", "beforeSeq", "max")
	msgs, err := f.engine.GetMessages(ctx, cust, c.ID, kustomer.MessageQuery{AfterSeq: 1})
	must(t, "GetMessages after the last", err)
	if msgs == nil || len(msgs) != 0 {
		t.Errorf("GetMessages after the last = %#v, want an empty, non-nil slice", msgs)
	}
}

func testEngineForbidden(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, owner := f.start(t, "mine")
	_, mallory := f.start(t, "someone else's")
	before := len(f.broker.published())

	_, err := f.engine.Conversation(ctx, mallory, c.ID)
	wantErr(t, "Conversation", err, kustomer.ErrForbidden)
	_, err = f.engine.GetMessages(ctx, mallory, c.ID, kustomer.MessageQuery{})
	wantErr(t, "GetMessages", err, kustomer.ErrForbidden)
	_, created, err := f.engine.SendMessage(ctx, mallory, kustomer.SendMessageInput{ConversationID: c.ID, Body: "let me in"})
	wantErr(t, "SendMessage", err, kustomer.ErrForbidden)
	if created {
		t.Errorf("SendMessage to another's conversation: created = true")
	}
	err = f.engine.MarkRead(ctx, mallory, c.ID, 1)
	wantErr(t, "MarkRead", err, kustomer.ErrForbidden)
	sub, err := f.engine.Subscribe(ctx, mallory, c.ID)
	wantErr(t, "Subscribe", err, kustomer.ErrForbidden)
	if sub != nil {
		t.Errorf("Subscribe to another's conversation returned a subscription")
		sub.Close()
	}
	qsub, err := f.engine.SubscribeFunc(ctx, mallory, c.ID, func() {})
	wantErr(t, "SubscribeFunc", err, kustomer.ErrForbidden)
	if qsub != nil {
		t.Errorf("SubscribeFunc to another's conversation returned a subscription")
		qsub.Close()
	}
	_, err = f.engine.SubscribeAllFunc(ctx, mallory, func() {})
	wantErr(t, "SubscribeAllFunc", err, kustomer.ErrForbidden)
	_, err = f.engine.EndConversation(ctx, mallory, c.ID)
	wantErr(t, "EndConversation", err, kustomer.ErrForbidden)
	_, err = f.engine.DescribeConversation(ctx, mallory, c.ID, kustomer.Attributes{"topicStr": "hijacked"})
	wantErr(t, "DescribeConversation", err, kustomer.ErrForbidden)
	err = f.engine.SetTyping(ctx, mallory, c.ID, true)
	wantErr(t, "SetTyping", err, kustomer.ErrForbidden)
	_, err = f.engine.GetConversations(ctx, mallory, owner.ID, 1, 10)
	wantErr(t, "GetConversations of another customer", err, kustomer.ErrForbidden)
	_, err = f.engine.GetConversations(ctx, mallory, "", 1, 10)
	wantErr(t, "GetConversations of everyone", err, kustomer.ErrForbidden)
	_, err = f.engine.Customer(ctx, mallory, owner.ID)
	wantErr(t, "Customer", err, kustomer.ErrForbidden)
	name := "Mallory"
	_, err = f.engine.DescribeCustomer(ctx, mallory, owner.ID, kustomer.DescribeCustomerInput{Name: &name})
	wantErr(t, "DescribeCustomer", err, kustomer.ErrForbidden)

	got := f.conversation(t, c.ID)
	if got.LastSeq != 1 || got.Ended || len(got.CustomAttributes) != 0 || got.CustomerUnread != 0 {
		t.Errorf("conversation changed by forbidden calls: %+v", got)
	}
	cu, err := f.store.Customer(ctx, owner.ID)
	must(t, "Customer", err)
	if cu.Name != "Ada Lovelace" {
		t.Errorf("customer renamed by a forbidden call: %q", cu.Name)
	}
	if n := len(f.broker.published()); n != before {
		t.Errorf("%d events published by forbidden calls", n-before)
	}

	// The owner and the organization may do all of it.
	for _, actor := range []kustomer.Actor{owner, agent} {
		_, err := f.engine.Conversation(ctx, actor, c.ID)
		must(t, fmt.Sprintf("Conversation as %s", actor.Type), err)
		sub, err := f.engine.Subscribe(ctx, actor, c.ID)
		must(t, fmt.Sprintf("Subscribe as %s", actor.Type), err)
		sub.Close()
		qsub, err := f.engine.SubscribeFunc(ctx, actor, c.ID, func() {})
		must(t, fmt.Sprintf("SubscribeFunc as %s", actor.Type), err)
		qsub.Close()
	}
	_, err = f.engine.GetConversations(ctx, agent, owner.ID, 1, 10)
	must(t, "GetConversations as an agent", err)
}

func testEngineNotFound(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	_, cust := f.start(t, "hello")
	for _, id := range []string{kustomer.NewID(), "not-an-id", "", "../../etc/passwd"} {
		_, err := f.engine.Conversation(ctx, agent, id)
		wantErr(t, fmt.Sprintf("Conversation(%q)", id), err, kustomer.ErrNotFound)
		_, _, err = f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: id, Body: "hi"})
		wantErr(t, fmt.Sprintf("SendMessage(%q)", id), err, kustomer.ErrNotFound)
		// An agent's send is refused by the write itself (nothing reads
		// the conversation first); a note too.
		for _, private := range []bool{false, true} {
			m, created, err := f.engine.SendMessage(ctx, agent, kustomer.SendMessageInput{ConversationID: id, Body: "hi", Private: private})
			wantErr(t, fmt.Sprintf("agent's SendMessage(%q, private %v)", id, private), err, kustomer.ErrNotFound)
			if created || m.ID != "" {
				t.Errorf("agent's SendMessage(%q): created %v, message %q", id, created, m.ID)
			}
		}
		_, err = f.engine.Subscribe(ctx, agent, id)
		wantErr(t, fmt.Sprintf("Subscribe(%q)", id), err, kustomer.ErrNotFound)
		_, err = f.engine.SubscribeFunc(ctx, agent, id, func() {})
		wantErr(t, fmt.Sprintf("SubscribeFunc(%q)", id), err, kustomer.ErrNotFound)
	}
	_, err := f.engine.Customer(ctx, agent, kustomer.NewID())
	wantErr(t, "Customer", err, kustomer.ErrNotFound)
}

func testEngineDirection(t *testing.T, f *engineFixture) {
	c, cust := f.start(t, "hello")
	m := f.send(t, cust, c.ID, "c-1", "from the customer")
	if m.Direction != kustomer.DirectionIn || m.SentBy.Type != kustomer.AuthorCustomer || m.SentBy.ID != cust.ID || m.SentBy.DisplayName != "Ada Lovelace" || m.Seq != 2 {
		t.Errorf("customer's message = %+v, want in, by the customer, seq 2", m)
	}
	m = f.send(t, agent, c.ID, "a-1", "from the agent")
	if m.Direction != kustomer.DirectionOut || m.SentBy.Type != kustomer.AuthorAgent || m.SentBy.ID != agent.ID || m.SentBy.DisplayName != "Grace" || m.Seq != 3 {
		t.Errorf("agent's message = %+v, want out, by Grace, seq 3", m)
	}
	m = f.send(t, assistant, c.ID, "b-1", "from the assistant")
	if m.Direction != kustomer.DirectionOut || m.SentBy.Type != kustomer.AuthorAssistant {
		t.Errorf("assistant's message = %+v, want out, by the assistant", m)
	}
	got := f.conversation(t, c.ID)
	if got.LastSeq != 4 || got.CustomerUnread != 2 || got.Preview != "from the assistant" {
		t.Errorf("conversation: LastSeq=%d CustomerUnread=%d Preview=%q, want 4, 2, from the assistant", got.LastSeq, got.CustomerUnread, got.Preview)
	}
}

func testEngineSendIdempotent(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	sub, err := f.engine.Subscribe(ctx, cust, c.ID)
	must(t, "Subscribe", err)
	defer sub.Close()

	in := kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: "m-1", Body: "are you there?", Payload: json.RawMessage(`{"a": 1}`)}
	m1, created, err := f.engine.SendMessage(ctx, cust, in)
	must(t, "SendMessage", err)
	if !created {
		t.Fatalf("first send: created = false")
	}
	if ev := nextEvent(t, sub); ev.Type != kustomer.EventMessageCreated || ev.Message.ID != m1.ID {
		t.Fatalf("event = %+v, want message.created for %s", ev, m1.ID)
	}

	in.Body = "are you there?  \r\n" // the same message after normalising
	in.Payload = json.RawMessage(`{"a":1}`)
	m2, created, err := f.engine.SendMessage(ctx, cust, in)
	must(t, "retry", err)
	if created || m2.ID != m1.ID || m2.Seq != m1.Seq {
		t.Errorf("retry: id %s seq %d created %v, want %s, %d, false", m2.ID, m2.Seq, created, m1.ID, m1.Seq)
	}

	for _, tt := range []struct {
		name  string
		actor kustomer.Actor
		in    kustomer.SendMessageInput
	}{
		{"a different body", cust, kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: "m-1", Body: "something else", Payload: json.RawMessage(`{"a":1}`)}},
		{"a different payload", cust, kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: "m-1", Body: "are you there?", Payload: json.RawMessage(`{"a":2}`)}},
		{"a different author", agent, kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: "m-1", Body: "are you there?", Payload: json.RawMessage(`{"a":1}`)}},
	} {
		_, created, err := f.engine.SendMessage(ctx, tt.actor, tt.in)
		wantErr(t, "reused clientMessageId with "+tt.name, err, kustomer.ErrConflict)
		if created {
			t.Errorf("reused clientMessageId with %s: created = true", tt.name)
		}
	}

	// The next event is the next message: the retry published nothing.
	m3 := f.send(t, cust, c.ID, "m-2", "hello?")
	if ev := nextEvent(t, sub); ev.Type != kustomer.EventMessageCreated || ev.Message.ID != m3.ID {
		t.Errorf("event after the retry = %+v, want message.created for %s", ev, m3.ID)
	}
	if got := seqs(allMessages(t, f.store, c.ID)); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("seqs = %v, want [1 2 3]", got)
	}
}

func testEngineSendEnded(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	f.send(t, cust, c.ID, "before", "before the end")
	_, err := f.engine.EndConversation(ctx, agent, c.ID)
	must(t, "EndConversation", err)
	for _, actor := range []kustomer.Actor{cust, agent} {
		_, created, err := f.engine.SendMessage(ctx, actor, kustomer.SendMessageInput{ConversationID: c.ID, Body: "after the end"})
		wantErr(t, fmt.Sprintf("%s sends to an ended conversation", actor.Type), err, kustomer.ErrConflict)
		if created {
			t.Errorf("send to an ended conversation: created = true")
		}
	}
	// A retry of what was sent before the end is still answered.
	m, created, err := f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: "before", Body: "before the end"})
	must(t, "retry after the end", err)
	if created || m.Seq != 2 {
		t.Errorf("retry after the end: seq %d created %v, want 2 and false", m.Seq, created)
	}
}

func testEngineEventsAfterCommit(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	sub, err := f.engine.Subscribe(ctx, cust, c.ID)
	must(t, "Subscribe", err)
	defer sub.Close()
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()

	const n = 20
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actor := cust
			if i%2 == 1 {
				actor = agent
			}
			if _, _, err := f.engine.SendMessage(ctx, actor, kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: fmt.Sprint("c-", i), Body: fmt.Sprint("message ", i)}); err != nil {
				t.Errorf("SendMessage %d: %v", i, err)
			}
		}()
	}
	seen := map[int64]bool{}
	for range n {
		ev := nextEvent(t, sub)
		if ev.Type != kustomer.EventMessageCreated || ev.Message == nil {
			t.Fatalf("event = %+v, want message.created", ev)
		}
		// Whatever an event announces can be read back at once.
		msgs, err := f.store.Messages(ctx, c.ID, kustomer.MessageQuery{AfterSeq: ev.Message.Seq - 1, Max: 1})
		must(t, "Messages", err)
		if len(msgs) != 1 {
			t.Fatalf("message seq %d announced but not stored", ev.Message.Seq)
		}
		checkMessage(t, "announced message read back", msgs[0], *ev.Message)
		if seen[ev.Message.Seq] {
			t.Errorf("seq %d announced twice", ev.Message.Seq)
		}
		seen[ev.Message.Seq] = true
		if ae := nextEvent(t, all); ae.Type != kustomer.EventMessageCreated || ae.ConversationID != c.ID {
			t.Errorf("AllConversations event = %+v", ae)
		}
	}
	wg.Wait()
	for s := int64(2); s <= n+1; s++ {
		if !seen[s] {
			t.Errorf("seq %d never announced", s)
		}
	}
}

func testEnginePages(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	first, cust := f.start(t, "conversation 0")
	ids := []string{first.ID}
	for i := 1; i < 5; i++ {
		c, _, err := f.engine.CreateConversation(ctx, kustomer.CreateConversationInput{CustomerID: cust.ID, Message: fmt.Sprint("conversation ", i)})
		must(t, "CreateConversation", err)
		ids = append(ids, c.ID)
	}
	f.start(t, "another customer's")
	slices.Reverse(ids) // newest activity first

	intp := func(n int) *int { return &n }
	tests := []struct {
		page, size int
		want       []string
		pages      kustomer.Pages
	}{
		{1, 2, ids[0:2], kustomer.Pages{Current: 1, First: 1, Next: intp(2)}},
		{2, 2, ids[2:4], kustomer.Pages{Current: 2, First: 1, Next: intp(3), Previous: intp(1)}},
		{3, 2, ids[4:5], kustomer.Pages{Current: 3, First: 1, Previous: intp(2)}},
		{4, 2, []string{}, kustomer.Pages{Current: 4, First: 1, Previous: intp(3)}},
		{1, 5, ids, kustomer.Pages{Current: 1, First: 1}},
		{0, 0, ids, kustomer.Pages{Current: 1, First: 1}}, // defaults: page 1, pageSize 100
		{1, 100, ids, kustomer.Pages{Current: 1, First: 1}},
	}
	for _, tt := range tests {
		what := fmt.Sprintf("page %d of %d", tt.page, tt.size)
		p, err := f.engine.GetConversations(ctx, cust, cust.ID, tt.page, tt.size)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if got := convIDs(p.Conversations); !slices.Equal(got, tt.want) {
			t.Errorf("%s: conversations %v, want %v", what, got, tt.want)
		}
		if p.Conversations == nil {
			t.Errorf("%s: nil conversations, want an empty list", what)
		}
		if p.Total != 5 {
			t.Errorf("%s: total %d, want 5", what, p.Total)
		}
		if !pagesEqual(p.Pages, tt.pages) {
			t.Errorf("%s: pages %s, want %s", what, fmtPages(p.Pages), fmtPages(tt.pages))
		}
	}

	for _, tt := range []struct {
		page, size int
		fields     []string
	}{
		{1, 101, []string{"pageSize"}},
		{1, -1, []string{"pageSize"}},
		{-1, 10, []string{"page"}},
		{-2, 1000, []string{"page", "pageSize"}},
	} {
		_, err := f.engine.GetConversations(ctx, cust, cust.ID, tt.page, tt.size)
		wantValidation(t, fmt.Sprintf("page %d of %d", tt.page, tt.size), err, tt.fields...)
	}

	p, err := f.engine.GetConversations(ctx, agent, "", 1, 100)
	must(t, "GetConversations of everyone", err)
	if p.Total != 6 || len(p.Conversations) != 6 {
		t.Errorf("everyone's: %d listed, total %d; want 6 and 6", len(p.Conversations), p.Total)
	}
}

func pagesEqual(a, b kustomer.Pages) bool {
	eq := func(x, y *int) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Current == b.Current && a.First == b.First && eq(a.Next, b.Next) && eq(a.Previous, b.Previous)
}

func fmtPages(p kustomer.Pages) string {
	s := func(x *int) string {
		if x == nil {
			return "nil"
		}
		return fmt.Sprint(*x)
	}
	return fmt.Sprintf("{current %d, first %d, next %s, previous %s}", p.Current, p.First, s(p.Next), s(p.Previous))
}

func testEngineEnd(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	if !c.IsInAssistantMode {
		t.Fatalf("conversation with an assistant is not in assistant mode")
	}
	sub, err := f.engine.Subscribe(ctx, cust, c.ID)
	must(t, "Subscribe", err)
	defer sub.Close()

	ended, err := f.engine.EndConversation(ctx, cust, c.ID)
	must(t, "EndConversation", err)
	if !ended.Ended || ended.EndedAt == nil || ended.EndedBy == nil || ended.EndedBy.Type != kustomer.AuthorCustomer || ended.EndedBy.ID != cust.ID || ended.IsInAssistantMode {
		t.Errorf("ended conversation = %+v, want ended by the customer, out of assistant mode", ended)
	}
	// The end is recorded in the transcript, then announced.
	ev := nextEvent(t, sub)
	if ev.Type != kustomer.EventMessageCreated || ev.Message == nil || ev.Message.SentBy.Type != kustomer.AuthorSystem || ev.Message.Seq != ended.LastSeq {
		t.Errorf("event = %+v, want the system message of the end", ev)
	}
	ev = nextEvent(t, sub)
	if ev.Type != kustomer.EventConversationUpdated || ev.Conversation == nil || !ev.Conversation.Ended {
		t.Errorf("event = %+v, want conversation.updated with ended", ev)
	}

	again, err := f.engine.EndConversation(ctx, agent, c.ID)
	must(t, "EndConversation again", err)
	if !again.Ended || again.EndedBy == nil || again.EndedBy.Type != kustomer.AuthorCustomer || !timePtrEqual(again.EndedAt, ended.EndedAt) {
		t.Errorf("ending again changed the end: %+v", again)
	}
	// The next event is the typing marker: the second end published nothing.
	must(t, "SetTyping", f.engine.SetTyping(ctx, agent, c.ID, true))
	if ev := nextEvent(t, sub); ev.Type != kustomer.EventTyping || ev.Typing == nil || !ev.Typing.Typing || ev.Typing.Author.ID != agent.ID {
		t.Errorf("event after the second end = %+v, want typing by the agent", ev)
	}
	if n := f.broker.count(kustomer.EventConversationUpdated); n != 1 {
		t.Errorf("%d conversation.updated events, want 1", n)
	}

	// A conversation whose form does not let customers end it (here: no
	// form at all) is ended by agents only.
	formless, _, err := f.engine.CreateConversation(ctx, kustomer.CreateConversationInput{CustomerID: cust.ID, Message: "no form"})
	must(t, "CreateConversation without a form", err)
	_, err = f.engine.EndConversation(ctx, cust, formless.ID)
	var forbidden *kustomer.ForbiddenError
	if !errors.As(err, &forbidden) || !errors.Is(err, kustomer.ErrForbidden) || forbidden.Code != "customer_end_not_allowed" {
		t.Errorf("customer ends a conversation its form does not let them: %v, want customer_end_not_allowed", err)
	}
	if got := f.conversation(t, formless.ID); got.Ended {
		t.Error("the refused end ended the conversation")
	}
	_, err = f.engine.EndConversation(ctx, agent, formless.ID)
	must(t, "EndConversation by an agent", err)
}

func testEngineMarkRead(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	f.send(t, agent, c.ID, "", "one")
	f.send(t, agent, c.ID, "", "two")
	if got := f.conversation(t, c.ID).CustomerUnread; got != 2 {
		t.Fatalf("CustomerUnread = %d, want 2", got)
	}
	sub, err := f.engine.Subscribe(ctx, cust, c.ID)
	must(t, "Subscribe", err)
	defer sub.Close()

	wantValidation(t, "MarkRead past the last seq", f.engine.MarkRead(ctx, cust, c.ID, 4), "seq")
	wantValidation(t, "MarkRead of a negative seq", f.engine.MarkRead(ctx, cust, c.ID, -1), "seq")
	must(t, "MarkRead", f.engine.MarkRead(ctx, cust, c.ID, 2))
	ev := nextEvent(t, sub)
	if ev.Type != kustomer.EventRead || ev.Read == nil || ev.Read.Reader != kustomer.ReaderCustomer || ev.Read.Seq != 2 {
		t.Errorf("event = %+v, want read by the customer at 2", ev)
	}
	if got := f.conversation(t, c.ID).CustomerUnread; got != 1 {
		t.Errorf("CustomerUnread = %d after reading up to 2, want 1", got)
	}
	must(t, "MarkRead by the agent", f.engine.MarkRead(ctx, agent, c.ID, 3))
	if ev := nextEvent(t, sub); ev.Type != kustomer.EventRead || ev.Read.Reader == kustomer.ReaderCustomer {
		t.Errorf("agent's read event = %+v, want a reader other than the customer", ev)
	}
	if got := f.conversation(t, c.ID).CustomerUnread; got != 1 {
		t.Errorf("CustomerUnread = %d after the agent read, want 1", got)
	}
}

func testEngineDescribe(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	sub, err := f.engine.Subscribe(ctx, cust, c.ID)
	must(t, "Subscribe", err)
	defer sub.Close()

	got, err := f.engine.DescribeConversation(ctx, cust, c.ID, kustomer.Attributes{"topicStr": "support", "newsletterBool": true, "siteUrl": "https://example.com"})
	must(t, "DescribeConversation", err)
	got, err = f.engine.DescribeConversation(ctx, agent, c.ID, kustomer.Attributes{"siteUrl": nil, "teamSizeNum": json.Number("7")})
	must(t, "DescribeConversation", err)
	want := kustomer.Attributes{"topicStr": "support", "newsletterBool": true, "teamSizeNum": 7.0}
	if !attrsEqual(got.CustomAttributes, want) {
		t.Errorf("attributes = %v, want %v", got.CustomAttributes, want)
	}
	if read := f.conversation(t, c.ID); !attrsEqual(read.CustomAttributes, want) {
		t.Errorf("attributes read back = %v, want %v", read.CustomAttributes, want)
	}
	for range 2 {
		if ev := nextEvent(t, sub); ev.Type != kustomer.EventConversationUpdated || ev.Conversation == nil {
			t.Errorf("event = %+v, want conversation.updated", ev)
		}
	}

	name := "Ada King"
	cu, err := f.engine.DescribeCustomer(ctx, cust, cust.ID, kustomer.DescribeCustomerInput{
		Name: &name, Emails: []string{"ADA@example.org"}, Phones: []string{"+1 (555) 010-0100"}, CustomAttributes: kustomer.Attributes{"planStr": "team"},
	})
	must(t, "DescribeCustomer", err)
	if cu.Name != "Ada King" || !slices.Equal(cu.Emails, []string{"ada@example.com", "ada@example.org"}) || len(cu.Phones) != 1 || cu.CustomAttributes["planStr"] != "team" {
		t.Errorf("customer = %+v", cu)
	}
}

// testEngineLang: a conversation keeps the language it was created in, in
// its canonical form; a tag that is not one is refused, naming lang.
func testEngineLang(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	in := kustomer.CreateConversationInput{CustomerName: "Ana", Message: "hola", FormID: "contact", Lang: "es-mx"}
	c, _, err := f.engine.CreateConversation(ctx, in)
	must(t, "CreateConversation", err)
	if c.Lang != "es-MX" {
		t.Errorf("created: lang %q, want es-MX", c.Lang)
	}
	got, err := f.store.Conversation(ctx, c.ID)
	must(t, "Conversation", err)
	if got.Lang != "es-MX" {
		t.Errorf("stored: lang %q, want es-MX", got.Lang)
	}
	plain, _ := f.start(t, "no language")
	if plain.Lang != "" {
		t.Errorf("without a language: lang %q, want empty", plain.Lang)
	}
	for _, bad := range []string{"not a language!", strings.Repeat("x", 40), "123"} {
		in.Lang = bad
		_, _, err := f.engine.CreateConversation(ctx, in)
		var verr *kustomer.ValidationError
		if !errors.As(err, &verr) || verr.Fields["lang"] == "" {
			t.Errorf("lang %q: %v, want a validation error on lang", bad, err)
		}
	}

	// A message keeps the language its sender said it is in (the SDK's
	// sendMessage lang), canonicalised, through the store.
	m, _, err := f.engine.SendMessage(ctx, kustomer.CustomerActor(c.CustomerID), kustomer.SendMessageInput{ConversationID: c.ID, Body: "obrigado", Lang: "pt-br"})
	must(t, "SendMessage", err)
	if m.Lang != "pt-BR" {
		t.Errorf("sent: lang %q, want pt-BR", m.Lang)
	}
	msgs, err := f.store.Messages(ctx, c.ID, kustomer.MessageQuery{AfterSeq: m.Seq - 1, Max: 1})
	must(t, "Messages", err)
	if len(msgs) != 1 || msgs[0].Lang != "pt-BR" {
		t.Errorf("stored message: %+v, want lang pt-BR", msgs)
	}
	_, _, err = f.engine.SendMessage(ctx, kustomer.CustomerActor(c.CustomerID), kustomer.SendMessageInput{ConversationID: c.ID, Body: "x", Lang: "not a language!"})
	var verr *kustomer.ValidationError
	if !errors.As(err, &verr) || verr.Fields["lang"] == "" {
		t.Errorf("a message's bad lang: %v, want a validation error on lang", err)
	}
}

// testEngineMarkMessagesRead: the SDK's markRead names messages; the
// conversation is read up to the latest of them, whatever their order. An
// id of another conversation, an agents' note (for the customer), or not
// an id at all is refused, naming it, and moves nothing.
func testEngineMarkMessagesRead(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	one := f.send(t, agent, c.ID, "", "one")
	two := f.send(t, agent, c.ID, "", "two")
	note, _, err := f.engine.SendMessage(ctx, agent, kustomer.SendMessageInput{ConversationID: c.ID, Body: "a note", Private: true})
	must(t, "SendMessage note", err)
	three := f.send(t, agent, c.ID, "", "three")
	other, _ := f.start(t, "another")
	otherMsgs, err := f.engine.GetMessages(ctx, kustomer.CustomerActor(other.CustomerID), other.ID, kustomer.MessageQuery{})
	must(t, "GetMessages", err)

	_, err = f.engine.MarkMessagesRead(ctx, cust, c.ID, []string{one.ID, otherMsgs[0].ID, note.ID, "nope"})
	wantValidation(t, "MarkMessagesRead of others' messages", err, "messageIds[1]", "messageIds[2]", "messageIds[3]")
	_, err = f.engine.MarkMessagesRead(ctx, cust, c.ID, nil)
	wantValidation(t, "MarkMessagesRead of nothing", err, "messageIds")
	if got := f.conversation(t, c.ID).CustomerUnread; got != 3 {
		t.Fatalf("CustomerUnread = %d after refused reads, want 3", got)
	}
	seq, err := f.engine.MarkMessagesRead(ctx, cust, c.ID, []string{two.ID, one.ID})
	must(t, "MarkMessagesRead", err)
	if seq != two.Seq {
		t.Errorf("read up to %d, want %d (the latest named)", seq, two.Seq)
	}
	if got := f.conversation(t, c.ID).CustomerUnread; got != 1 {
		t.Errorf("CustomerUnread = %d, want 1 (three is unread)", got)
	}
	// The agent may name the note; reading never goes backwards.
	_, err = f.engine.MarkMessagesRead(ctx, agent, c.ID, []string{note.ID, three.ID})
	must(t, "MarkMessagesRead by the agent", err)
	_, err = f.engine.MarkMessagesRead(ctx, cust, c.ID, []string{one.ID})
	must(t, "MarkMessagesRead of an older message", err)
	if got := f.conversation(t, c.ID).CustomerUnread; got != 1 {
		t.Errorf("CustomerUnread = %d after re-reading an older message, want 1", got)
	}
}

// testEngineAgentNote: an agent's note on the conversation keeps the
// earlier ones, is truncated past MaxAgentNoteLen (and says so), and is
// neither written nor read by the customer.
func testEngineAgentNote(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	_, truncated, err := f.engine.SetAgentNote(ctx, agent, c.ID, "  Wants a call back  ")
	must(t, "SetAgentNote", err)
	if truncated {
		t.Error("a short note reported truncated")
	}
	long := strings.Repeat("é", kustomer.MaxAgentNoteLen+10)
	n, truncated, err := f.engine.SetAgentNote(ctx, agent, c.ID, long)
	must(t, "SetAgentNote long", err)
	if !truncated || utf8.RuneCountInString(n.Text) != kustomer.MaxAgentNoteLen || n.AgentID != agent.ID || n.AgentName != agent.Name {
		t.Errorf("long note: truncated %v, %d characters, by %q %q", truncated, utf8.RuneCountInString(n.Text), n.AgentID, n.AgentName)
	}
	notes, err := f.engine.AgentNotes(ctx, agent, c.ID)
	must(t, "AgentNotes", err)
	if len(notes) != 2 || notes[0].ID != n.ID || notes[1].Text != "Wants a call back" {
		t.Errorf("notes %+v, want the long one, then the first (trimmed)", notes)
	}
	_, _, err = f.engine.SetAgentNote(ctx, cust, c.ID, "let me in")
	wantErr(t, "SetAgentNote by the customer", err, kustomer.ErrForbidden)
	_, err = f.engine.AgentNotes(ctx, cust, c.ID)
	wantErr(t, "AgentNotes by the customer", err, kustomer.ErrForbidden)
	_, _, err = f.engine.SetAgentNote(ctx, agent, kustomer.NewID(), "x")
	wantErr(t, "SetAgentNote on an unknown conversation", err, kustomer.ErrNotFound)
}

// testEngineUnreadByParticipant: each participant's unread count, by user
// id: the customer's (the organization's replies), an agent's who read
// part of it, and the assignee's who read nothing yet (every customer
// message). Notes and system events count for nobody.
func testEngineUnreadByParticipant(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, cust := f.startForAgents(t, "hello", "contact")
	f.send(t, cust, c.ID, "", "anyone?")
	must(t, "MarkRead by Dana", f.engine.MarkRead(ctx, agent, c.ID, 1))
	_, err := f.engine.TransferToAgent(ctx, agent, c.ID, grace.ID)
	must(t, "TransferToAgent", err)
	f.send(t, agent, c.ID, "", "Grace will help")
	_, _, err = f.engine.SendMessage(ctx, agent, kustomer.SendMessageInput{ConversationID: c.ID, Body: "note", Private: true})
	must(t, "SendMessage note", err)
	got, err := f.engine.UnreadByParticipant(ctx, agent, f.conversation(t, c.ID))
	must(t, "UnreadByParticipant", err)
	want := map[string]int{c.CustomerID: 1, agent.ID: 1, grace.ID: 2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("unread by participant %v, want %v", got, want)
	}
	_, err = f.engine.UnreadByParticipant(ctx, cust, c)
	wantErr(t, "UnreadByParticipant by the customer", err, kustomer.ErrForbidden)
}

// testEngineWakeOnlyForWebhooks checks that a change wakes the outbox's
// dispatchers only while a webhook endpoint is enabled (each wake costs
// them a look at the outbox): none without one, at once after one is
// registered, none again once it is disabled.
func testEngineWakeOnlyForWebhooks(t *testing.T, f *engineFixture) {
	wake := f.engine.ChangeWake()
	woken := func() bool {
		select {
		case <-wake:
			return true
		default:
			return false
		}
	}
	c, cust := f.start(t, "hello")
	woken()
	f.send(t, cust, c.ID, "m1", "no endpoint yet")
	if woken() {
		t.Errorf("a send woke the dispatchers with no webhook endpoint")
	}
	admin := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	url, events := "https://hooks.example.com/handoff", []string{"message.created"}
	w, err := f.engine.CreateWebhook(t.Context(), admin.Actor(), kustomer.WebhookInput{URL: &url, Events: &events})
	must(t, "CreateWebhook", err)
	f.send(t, cust, c.ID, "m2", "with an endpoint")
	if !woken() {
		t.Errorf("a send did not wake the dispatchers with an endpoint enabled")
	}
	off := false
	_, err = f.engine.UpdateWebhook(t.Context(), admin.Actor(), w.ID, kustomer.WebhookInput{Enabled: &off})
	must(t, "UpdateWebhook", err)
	f.send(t, cust, c.ID, "m3", "endpoint disabled")
	if woken() {
		t.Errorf("a send woke the dispatchers with the only endpoint disabled")
	}
}
