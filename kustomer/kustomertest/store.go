package kustomertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// RunStore runs the conformance suite: every kustomer.Store method against
// its contract in kustomer/store.go. open must return a fresh, empty store
// for each subtest and arrange (with t.Cleanup) to close it.
func RunStore(t *testing.T, open func(t *testing.T) kustomer.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kustomer.Store)
	}{
		{"CreateConversation/NewCustomer", testCreateNewCustomer},
		{"CreateConversation/ExistingCustomer", testCreateExistingCustomer},
		{"CreateConversation/ClientRef", testCreateClientRef},
		{"CreateConversation/ClientRefConcurrent", testCreateClientRefConcurrent},
		{"NotFound", testNotFound},
		{"ConversationHead", testConversationHead},
		{"AppendMessage/Fields", testAppendFields},
		{"AppendMessage/ConcurrentSeqs", testAppendConcurrent},
		{"AppendMessage/Idempotent", testAppendIdempotent},
		{"AppendMessage/IdempotentConcurrent", testAppendIdempotentConcurrent},
		{"AppendMessage/Ended", testAppendEnded},
		{"AppendMessage/Owner", testAppendOwner},
		{"Messages/Windows", testMessagesWindows},
		{"Conversations/Paging", testConversationsPaging},
		{"UpdateConversationAttributes", testUpdateAttributes},
		{"EndConversation", testEndConversation},
		{"EndConversation/Concurrent", testEndConcurrent},
		{"MarkRead", testMarkRead},
		{"UpdateCustomer", testUpdateCustomer},
		{"UpdateAssignment", testUpdateAssignment},
		{"ReopenConversation", testReopenConversation},
		{"RateConversation", testRateConversation},
		{"Agents", testAgents},
		{"AgentSessions", testAgentSessions},
		{"Conversations/Queues", testConversationQueues},
		{"Conversations/Filters", testConversationFilters},
		{"Conversations/Lean", testConversationsLean},
		{"Conversations/Summary", testConversationsSummary},
		{"Conversations/Search", testConversationsSearch},
		{"ApplyAssistantTurn", testApplyAssistantTurn},
		{"AgentNotes", testAgentNotes},
		{"FormSettings", testFormSettings},
		{"FormOrigins", testFormOrigins},
		{"UseOnce", testUseOnce},
		{"Conversations/AgentUnread", testAgentUnread},
		{"AppendMessage/Private", testAppendPrivate},
		{"AppendMessage/System", testAppendSystem},
		{"AppendMessage/AwaitingSince", testAwaiting},
		{"Outbox/WithMessage", testOutboxWithMessage},
		{"Outbox/Lifecycle", testOutboxLifecycle},
		{"Outbox/Batch", testOutboxBatch},
		{"Outbox/ClaimConcurrent", testOutboxClaimConcurrent},
		{"Outbox/Dispatcher", testOutboxDispatcher},
		{"Outbox/CountsAndPrune", testOutboxCountsAndPrune},
		{"Outbox/Subscribed", testOutboxSubscribed},
		{"Outbox/Ordering", testOutboxOrdering},
		{"Webhooks", testWebhooks},
		{"AuditLog", testAuditLog},
		{"SavedReplies", testSavedReplies},
		{"Labels", testLabels},
		{"Agents/Presence", testAgentPresence},
		{"UpdateAssignment/Load", testAssignmentLoad},
		{"ReportFacts", testReportFacts},
		{"Conversations/SkillsUnread", testConversationsSkillsUnread},
		{"Webhooks/Attempts", testWebhookAttempts},
		{"ExternalRefs", testExternalRefs},
		{"StopFollowUps", testStopFollowUps},
		{"Attachments/Content", testAttachmentContent},
		{"Attachments/Quota", testAttachmentQuota},
		{"Attachments/Send", testAttachmentSend},
		{"Attachments/DeleteUnsent", testAttachmentDeleteUnsent},
		{"Ping", func(t *testing.T, s kustomer.Store) { must(t, "Ping", s.Ping(t.Context())) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.fn(t, s)
		})
	}
}

// fullAttributes has a value of every attribute type, in canonical form.
func fullAttributes() kustomer.Attributes {
	return kustomer.Attributes{
		"topicStr":       "billing “quotes” ✓",
		"teamSizeNum":    12.5,
		"newsletterBool": true,
		"dueAt":          "2026-01-31T07:30:00.000Z",
		"siteUrl":        "https://www.example.com/pricing?plan=team",
		"notesTxt":       "line one\nline two",
	}
}

// newConversation returns what the Engine would hand the store for a new
// conversation of customerID started at when with the first message body.
func newConversation(customerID string, when time.Time, body string) kustomer.NewConversation {
	convID := kustomer.NewID()
	author := kustomer.Author{Type: kustomer.AuthorCustomer, ID: customerID, DisplayName: "Ada Lovelace"}
	return kustomer.NewConversation{
		Customer: kustomer.Customer{ID: customerID, Name: "Ada Lovelace", Emails: []string{"ada@example.com"}, CreatedAt: when, UpdatedAt: when},
		Conversation: kustomer.Conversation{
			ID:               convID,
			CustomerID:       customerID,
			FormID:           "contact",
			CreatedAt:        when,
			UpdatedAt:        when,
			LastMessageAt:    when,
			Preview:          body,
			CustomAttributes: kustomer.Attributes{},
		},
		First: kustomer.Message{
			ID:             kustomer.NewID(),
			ConversationID: convID,
			Body:           body,
			Direction:      kustomer.DirectionIn,
			CreatedAt:      when,
			Attachments:    []kustomer.Attachment{},
			SentBy:         author,
		},
	}
}

// create stores nc and fails the test unless a conversation was created.
func create(t testing.TB, s kustomer.Store, nc kustomer.NewConversation) (kustomer.Conversation, kustomer.Message) {
	t.Helper()
	c, m, created, err := s.CreateConversation(t.Context(), nc)
	must(t, "CreateConversation", err)
	if !created {
		t.Fatalf("CreateConversation: created = false for a new conversation")
	}
	return c, m
}

// newMessage returns a message of conversationID in direction dir.
// systemEvent is a system message recording an operation.
func systemEvent(conversationID, text string, when time.Time) kustomer.NewMessage {
	return kustomer.NewMessage{Message: kustomer.Message{
		ID: kustomer.NewID(), ConversationID: conversationID, Body: text, Direction: kustomer.DirectionOut,
		CreatedAt: when, Attachments: []kustomer.Attachment{}, SentBy: kustomer.Author{Type: kustomer.AuthorSystem, ID: "agent-1"},
	}}
}

func newMessage(conversationID string, dir kustomer.Direction, body string, when time.Time) kustomer.NewMessage {
	author := kustomer.Author{Type: kustomer.AuthorCustomer, ID: "cust"}
	if dir == kustomer.DirectionOut {
		author = kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1", DisplayName: "Grace", AvatarURL: "https://example.com/grace.png"}
	}
	return kustomer.NewMessage{
		Message: kustomer.Message{
			ID:             kustomer.NewID(),
			ConversationID: conversationID,
			Body:           body,
			Direction:      dir,
			CreatedAt:      when,
			Attachments:    []kustomer.Attachment{},
			SentBy:         author,
		},
		Preview: body,
	}
}

// appendMsg appends a message and fails the test unless it was created.
func appendMsg(t testing.TB, s kustomer.Store, nm kustomer.NewMessage) kustomer.Message {
	t.Helper()
	m, created, err := s.AppendMessage(t.Context(), nm)
	must(t, "AppendMessage", err)
	if !created {
		t.Fatalf("AppendMessage: created = false for a new message")
	}
	return m
}

func getConversation(t testing.TB, s kustomer.Store, id string) kustomer.Conversation {
	t.Helper()
	c, err := s.Conversation(t.Context(), id)
	must(t, "Conversation", err)
	return c
}

func allMessages(t testing.TB, s kustomer.Store, id string) []kustomer.Message {
	t.Helper()
	msgs, err := s.Messages(t.Context(), id, kustomer.MessageQuery{Max: kustomer.MaxMessages})
	must(t, "Messages", err)
	return msgs
}

func testCreateNewCustomer(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	custID := kustomer.NewID()
	nc := newConversation(custID, at(0), "Hello — can I get a quote? 🙂")
	nc.Conversation.AssistantID = "greeter"
	nc.Conversation.IsInAssistantMode = true
	nc.Conversation.CustomAttributes = fullAttributes()
	nc.Conversation.Context = kustomer.PageContext{Referrer: "https://www.example.com/pricing", UserAgent: "Mozilla/5.0 (X11)", Locale: "fr-CA"}
	nc.First.ClientMessageID = "form-1"

	c, first, created, err := s.CreateConversation(ctx, nc)
	must(t, "CreateConversation", err)
	if !created {
		t.Errorf("created = false, want true")
	}
	want := nc.Conversation
	want.LastSeq = 1
	want.AwaitingSince = timep(at(0)) // the customer's first message waits for an answer
	checkConversation(t, "created conversation", c, want)

	wantFirst := nc.First
	wantFirst.Seq = 1
	checkMessage(t, "first message", first, wantFirst)
	if first.Direction != kustomer.DirectionIn {
		t.Errorf("first message direction = %q, want in", first.Direction)
	}

	checkConversation(t, "read back", getConversation(t, s, c.ID), want)
	msgs := allMessages(t, s, c.ID)
	if len(msgs) != 1 {
		t.Fatalf("Messages: %d messages, want 1", len(msgs))
	}
	checkMessage(t, "first message read back", msgs[0], wantFirst)

	cu, err := s.Customer(ctx, custID)
	must(t, "Customer", err)
	checkCustomer(t, "customer", cu, kustomer.Customer{ID: custID, Name: "Ada Lovelace", Emails: []string{"ada@example.com"}, Phones: []string{}, CreatedAt: at(0), UpdatedAt: at(0)})
}

func testCreateExistingCustomer(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	custID := kustomer.NewID()
	create(t, s, newConversation(custID, at(0), "first"))

	nc := newConversation(custID, at(10), "second")
	nc.Customer.Name = "Ada King"
	nc.Customer.Emails = []string{"ada@example.org"}
	create(t, s, nc)

	// The same email again and no name: nothing duplicated, name kept.
	nc = newConversation(custID, at(20), "third")
	nc.Customer.Name = ""
	nc.Customer.Emails = []string{"ada@example.com"}
	create(t, s, nc)

	cu, err := s.Customer(ctx, custID)
	must(t, "Customer", err)
	checkCustomer(t, "customer after three conversations", cu, kustomer.Customer{
		ID: custID, Name: "Ada King", Emails: []string{"ada@example.com", "ada@example.org"}, Phones: []string{},
		CreatedAt: at(0), UpdatedAt: at(20),
	})
	_, total, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: custID}, 0, 10)
	must(t, "Conversations", err)
	if total != 3 {
		t.Errorf("customer has %d conversations, want 3", total)
	}
}

func testCreateClientRef(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	custID := kustomer.NewID()
	nc := newConversation(custID, at(0), "original")
	nc.ClientRef = "submit-42"
	nc.First.ClientMessageID = "submit-42"
	c1, first1 := create(t, s, nc)

	retry := newConversation(custID, at(5), "a retry with a new body")
	retry.ClientRef = "submit-42"
	retry.First.ClientMessageID = "submit-42"
	c2, first2, created, err := s.CreateConversation(ctx, retry)
	must(t, "CreateConversation retry", err)
	if created {
		t.Errorf("retry: created = true, want false")
	}
	checkConversation(t, "retry returns the first conversation", c2, c1)
	checkMessage(t, "retry returns the first message", first2, first1)

	// An empty ClientRef never matches: two submissions, two conversations.
	create(t, s, newConversation(custID, at(6), "no ref"))
	create(t, s, newConversation(custID, at(7), "no ref"))

	_, total, err := s.Conversations(ctx, kustomer.ConversationFilter{}, 0, 10)
	must(t, "Conversations", err)
	if total != 3 {
		t.Errorf("%d conversations stored, want 3", total)
	}
	if got := allMessages(t, s, c1.ID); len(got) != 1 || got[0].Body != "original" {
		t.Errorf("first conversation's messages = %+v, want only the original", got)
	}
}

func testCreateClientRefConcurrent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	custID := kustomer.NewID()
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		created int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc := newConversation(custID, at(i), fmt.Sprintf("attempt %d", i))
			nc.ClientRef = "double-click"
			nc.First.ClientMessageID = "double-click"
			c, _, ok, err := s.CreateConversation(ctx, nc)
			if err != nil {
				t.Errorf("CreateConversation attempt %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[c.ID]++
			if ok {
				created++
			}
		}()
	}
	wg.Wait()
	if len(ids) != 1 || created != 1 {
		t.Errorf("%d concurrent identical creates returned %d conversations, %d created; want 1 and 1", n, len(ids), created)
	}
	_, total, err := s.Conversations(ctx, kustomer.ConversationFilter{}, 0, 10)
	must(t, "Conversations", err)
	if total != 1 {
		t.Errorf("%d conversations stored, want 1", total)
	}
}

func testNotFound(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	// A real conversation, so that "not found" is not just "empty store".
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	missing := kustomer.NewID()

	conv, err := s.Conversation(ctx, missing)
	wantErr(t, "Conversation", err, kustomer.ErrNotFound)
	if err == nil && conv.ID == "" {
		t.Errorf("Conversation: zero value with a nil error")
	}
	_, err = s.Customer(ctx, missing)
	wantErr(t, "Customer", err, kustomer.ErrNotFound)
	_, err = s.UpdateConversationAttributes(ctx, missing, kustomer.Attributes{"topicStr": "x"}, at(1))
	wantErr(t, "UpdateConversationAttributes", err, kustomer.ErrNotFound)
	_, _, changed, err := s.EndConversation(ctx, missing, kustomer.Author{Type: kustomer.AuthorAgent, ID: "a"}, at(1), systemEvent(missing, "ended", at(1)))
	wantErr(t, "EndConversation", err, kustomer.ErrNotFound)
	if changed {
		t.Errorf("EndConversation of a missing conversation: changed = true")
	}
	_, created, err := s.AppendMessage(ctx, newMessage(missing, kustomer.DirectionIn, "hi", at(1)))
	wantErr(t, "AppendMessage", err, kustomer.ErrNotFound)
	if created {
		t.Errorf("AppendMessage to a missing conversation: created = true")
	}
	_, err = s.Messages(ctx, missing, kustomer.MessageQuery{Max: 10})
	wantErr(t, "Messages", err, kustomer.ErrNotFound)
	name := "Nobody"
	_, err = s.UpdateCustomer(ctx, missing, kustomer.DescribeCustomerInput{Name: &name}, at(1))
	wantErr(t, "UpdateCustomer", err, kustomer.ErrNotFound)
	err = s.MarkRead(ctx, missing, kustomer.ReaderCustomer, 1)
	wantErr(t, "MarkRead", err, kustomer.ErrNotFound)
	_, _, err = s.UpdateAssignment(ctx, missing, kustomer.Assignment{Skill: "billing"}, at(1), systemEvent(missing, "assigned", at(1)))
	wantErr(t, "UpdateAssignment", err, kustomer.ErrNotFound)
	_, _, changed, err = s.ReopenConversation(ctx, missing, at(1), systemEvent(missing, "reopened", at(1)))
	wantErr(t, "ReopenConversation", err, kustomer.ErrNotFound)
	if changed {
		t.Errorf("ReopenConversation of a missing conversation: changed = true")
	}
	_, err = s.RateConversation(ctx, missing, kustomer.Satisfaction{Rating: 5, CreatedAt: at(1)})
	wantErr(t, "RateConversation", err, kustomer.ErrNotFound)
	_, err = s.Agent(ctx, missing)
	wantErr(t, "Agent", err, kustomer.ErrNotFound)
	_, err = s.AgentByEmail(ctx, "missing@example.com")
	wantErr(t, "AgentByEmail", err, kustomer.ErrNotFound)

	// Nothing above touched the real conversation.
	if got := getConversation(t, s, c.ID); got.LastSeq != 1 || got.Ended {
		t.Errorf("existing conversation changed: LastSeq=%d Ended=%v", got.LastSeq, got.Ended)
	}
}

func testAppendFields(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))

	nm := newMessage(c.ID, kustomer.DirectionOut, "Hi Ada, here is the quote.", at(10))
	nm.ClientMessageID = "agent-msg-1"
	nm.Payload = json.RawMessage(`{"quickReplies":["yes","no"],"n":1}`)
	att := uploadAttachment(t, s, c.ID, "quote.pdf", 12345, at(5))
	att.Attachment.URL = "https://files.example.com/quote.pdf"
	nm.Attachments = []kustomer.Attachment{att.Attachment}
	m, created, err := s.AppendMessage(ctx, nm)
	must(t, "AppendMessage", err)
	if !created {
		t.Errorf("created = false, want true")
	}
	want := nm.Message
	want.Seq = 2
	checkMessage(t, "appended", m, want)
	msgs := allMessages(t, s, c.ID)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	checkMessage(t, "appended read back", msgs[1], want)

	wantConv := c
	wantConv.LastSeq, wantConv.LastMessageAt, wantConv.UpdatedAt = 2, at(10), at(10)
	wantConv.Preview = "Hi Ada, here is the quote."
	wantConv.CustomerUnread = 1
	wantConv.AwaitingSince, wantConv.FirstResponseAt = nil, timep(at(10)) // an agent answered
	checkConversation(t, "after an out message", getConversation(t, s, c.ID), wantConv)

	// An empty Preview keeps the previous one; LastMessageAt still moves.
	nm = newMessage(c.ID, kustomer.DirectionIn, "", at(20))
	nm.Payload = json.RawMessage(`{"choice":"yes"}`)
	nm.Preview = ""
	m = appendMsg(t, s, nm)
	if m.Seq != 3 {
		t.Errorf("third message seq = %d, want 3", m.Seq)
	}
	wantConv.LastSeq, wantConv.LastMessageAt, wantConv.UpdatedAt = 3, at(20), at(20)
	wantConv.AwaitingSince = timep(at(20)) // the customer wrote again
	checkConversation(t, "after a message without preview", getConversation(t, s, c.ID), wantConv)
}

func testAppendConcurrent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	const workers, each = 8, 25
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got []int64
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				nm := newMessage(c.ID, kustomer.DirectionIn, fmt.Sprintf("w%d-%d", w, i), at(1+w*each+i))
				nm.ClientMessageID = fmt.Sprintf("w%d-%d", w, i)
				m, created, err := s.AppendMessage(ctx, nm)
				if err != nil || !created {
					t.Errorf("AppendMessage w%d-%d: created=%v err=%v", w, i, created, err)
					return
				}
				mu.Lock()
				got = append(got, m.Seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	last := int64(workers*each + 1)
	slices.Sort(got)
	if want := seqRange(2, last); !slices.Equal(got, want) {
		t.Errorf("returned seqs are not exactly 2..%d: %d seqs, first/last %v", last, len(got), ends(got))
	}
	msgs := allMessages(t, s, c.ID)
	if want := seqRange(1, last); !slices.Equal(seqs(msgs), want) {
		t.Errorf("stored seqs are not exactly 1..%d in order: %d messages, first/last %v", last, len(msgs), ends(seqs(msgs)))
	}
	bodies := map[string]bool{}
	for _, m := range msgs {
		if bodies[m.Body] {
			t.Errorf("message %q stored twice", m.Body)
		}
		bodies[m.Body] = true
	}
	if c := getConversation(t, s, c.ID); c.LastSeq != last {
		t.Errorf("LastSeq = %d, want %d", c.LastSeq, last)
	}
}

func ends(s []int64) []int64 {
	if len(s) < 2 {
		return s
	}
	return []int64{s[0], s[len(s)-1]}
}

func testAppendIdempotent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	other, _ := create(t, s, newConversation(kustomer.NewID(), at(1), "other"))

	nm := newMessage(c.ID, kustomer.DirectionIn, "are you there?", at(10))
	nm.ClientMessageID = "cm-1"
	m1 := appendMsg(t, s, nm)

	retry := newMessage(c.ID, kustomer.DirectionIn, "are you there?", at(11))
	retry.ClientMessageID = "cm-1"
	m2, created, err := s.AppendMessage(ctx, retry)
	must(t, "AppendMessage retry", err)
	if created {
		t.Errorf("retry: created = true, want false")
	}
	checkMessage(t, "retry returns the first message", m2, m1)
	if got := getConversation(t, s, c.ID); got.LastSeq != 2 || !got.LastMessageAt.Equal(at(10)) {
		t.Errorf("after a retry: LastSeq=%d LastMessageAt=%v, want 2 and %v", got.LastSeq, got.LastMessageAt, at(10))
	}

	// ClientMessageIDs are scoped to a conversation.
	nm = newMessage(other.ID, kustomer.DirectionIn, "are you there?", at(12))
	nm.ClientMessageID = "cm-1"
	m3 := appendMsg(t, s, nm)
	if m3.ID == m1.ID || m3.Seq != 2 {
		t.Errorf("same clientMessageId in another conversation: got id %s seq %d, want a new message with seq 2", m3.ID, m3.Seq)
	}

	// Messages without a ClientMessageID are never deduplicated.
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "same", at(13)))
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "same", at(14)))
	if got := seqs(allMessages(t, s, c.ID)); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Errorf("seqs = %v, want [1 2 3 4]", got)
	}
}

func testAppendIdempotentConcurrent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		created int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nm := newMessage(c.ID, kustomer.DirectionIn, "retry me", at(1+i))
			nm.ClientMessageID = "flaky-network"
			m, ok, err := s.AppendMessage(ctx, nm)
			if err != nil {
				t.Errorf("AppendMessage attempt %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[m.ID]++
			if ok {
				created++
			}
		}()
	}
	wg.Wait()
	if len(ids) != 1 || created != 1 {
		t.Errorf("%d concurrent identical sends returned %d messages, %d created; want 1 and 1", n, len(ids), created)
	}
	if got := seqs(allMessages(t, s, c.ID)); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("seqs = %v, want [1 2]: one stored", got)
	}
}

func testAppendEnded(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	nm := newMessage(c.ID, kustomer.DirectionIn, "before the end", at(1))
	nm.ClientMessageID = "before-end"
	before := appendMsg(t, s, nm)
	_, _, _, err := s.EndConversation(ctx, c.ID, kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1"}, at(2), systemEvent(c.ID, "ended", at(2)))
	must(t, "EndConversation", err)

	_, created, err := s.AppendMessage(ctx, newMessage(c.ID, kustomer.DirectionIn, "after the end", at(3)))
	wantErr(t, "AppendMessage to an ended conversation", err, kustomer.ErrConflict)
	if created {
		t.Errorf("AppendMessage to an ended conversation: created = true")
	}
	// A retry of a message stored before the end still gets it back.
	retry := newMessage(c.ID, kustomer.DirectionIn, "before the end", at(4))
	retry.ClientMessageID = "before-end"
	m, created, err := s.AppendMessage(ctx, retry)
	must(t, "retry after the end", err)
	if created || m.ID != before.ID {
		t.Errorf("retry after the end: id %s created %v, want %s and false", m.ID, created, before.ID)
	}
	// Seq 3 is the end's own system message; nothing came after it.
	if got := getConversation(t, s, c.ID); got.LastSeq != 3 {
		t.Errorf("LastSeq = %d after the end, want 3", got.LastSeq)
	}
}

func testMessagesWindows(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "m1"))
	other, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "other"))
	for i := 2; i <= 10; i++ {
		appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, fmt.Sprintf("m%d", i), at(i)))
		appendMsg(t, s, newMessage(other.ID, kustomer.DirectionIn, "noise", at(i)))
	}
	tests := []struct {
		name string
		q    kustomer.MessageQuery
		want []int64
	}{
		{"all", kustomer.MessageQuery{Max: 100}, seqRange(1, 10)},
		{"default max", kustomer.MessageQuery{}, seqRange(1, 10)},
		{"after", kustomer.MessageQuery{AfterSeq: 3, Max: 4}, []int64{4, 5, 6, 7}},
		{"after the last", kustomer.MessageQuery{AfterSeq: 10, Max: 10}, []int64{}},
		{"before", kustomer.MessageQuery{BeforeSeq: 5, Max: 10}, []int64{1, 2, 3, 4}},
		{"between", kustomer.MessageQuery{AfterSeq: 2, BeforeSeq: 6, Max: 10}, []int64{3, 4, 5}},
		{"between, max", kustomer.MessageQuery{AfterSeq: 2, BeforeSeq: 9, Max: 2}, []int64{3, 4}},
		{"max 1", kustomer.MessageQuery{Max: 1}, []int64{1}},
		{"last", kustomer.MessageQuery{Max: 3, Last: true}, []int64{8, 9, 10}},
		{"last before", kustomer.MessageQuery{BeforeSeq: 5, Max: 2, Last: true}, []int64{3, 4}},
		{"last after", kustomer.MessageQuery{AfterSeq: 6, Max: 10, Last: true}, []int64{7, 8, 9, 10}},
		{"last, more than there are", kustomer.MessageQuery{Max: 50, Last: true}, seqRange(1, 10)},
		{"empty window", kustomer.MessageQuery{AfterSeq: 4, BeforeSeq: 5, Max: 10}, []int64{}},
	}
	for _, tt := range tests {
		msgs, err := s.Messages(ctx, c.ID, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := seqs(msgs); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Messages(%+v) seqs = %v, want %v", tt.name, tt.q, got, tt.want)
		}
		for _, m := range msgs {
			if m.ConversationID != c.ID || m.Body != fmt.Sprintf("m%d", m.Seq) {
				t.Errorf("%s: message seq %d is %q of %s", tt.name, m.Seq, m.Body, m.ConversationID)
			}
		}
	}
}

func testConversationsPaging(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	alice, bob := kustomer.NewID(), kustomer.NewID()
	var aliceConvs []kustomer.Conversation
	for i := range 4 {
		c, _ := create(t, s, newConversation(alice, at(i*10), fmt.Sprintf("alice %d", i)))
		aliceConvs = append(aliceConvs, c)
		create(t, s, newConversation(bob, at(i*10+1), fmt.Sprintf("bob %d", i)))
	}
	// New activity on Alice's oldest conversation moves it to the front.
	appendMsg(t, s, newMessage(aliceConvs[0].ID, kustomer.DirectionOut, "reply", at(100)))

	wantAlice := []string{aliceConvs[0].ID, aliceConvs[3].ID, aliceConvs[2].ID, aliceConvs[1].ID}
	list, total, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: alice}, 0, 10)
	must(t, "Conversations", err)
	if total != 4 {
		t.Errorf("Alice's total = %d, want 4", total)
	}
	if got := convIDs(list); !slices.Equal(got, wantAlice) {
		t.Errorf("Alice's conversations = %v, want newest activity first %v", got, wantAlice)
	}
	for _, c := range list {
		if c.CustomerID != alice {
			t.Errorf("filter by customer returned %s of customer %s", c.ID, c.CustomerID)
		}
	}
	if len(list) > 0 {
		if list[0].Preview != "reply" || list[0].LastSeq != 2 || list[0].CustomerUnread != 1 {
			t.Errorf("listed conversation: Preview=%q LastSeq=%d CustomerUnread=%d, want reply, 2, 1", list[0].Preview, list[0].LastSeq, list[0].CustomerUnread)
		}
	}

	var paged []string
	for offset := 0; offset < 6; offset += 3 {
		page, total, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: alice}, offset, 3)
		must(t, "Conversations page", err)
		if total != 4 {
			t.Errorf("offset %d: total = %d, want 4", offset, total)
		}
		paged = append(paged, convIDs(page)...)
	}
	if !slices.Equal(paged, wantAlice) {
		t.Errorf("paged by 3 = %v, want %v", paged, wantAlice)
	}

	beyond, total, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: alice}, 10, 3)
	must(t, "Conversations beyond the end", err)
	if len(beyond) != 0 || total != 4 {
		t.Errorf("beyond the end: %d conversations, total %d; want 0 and 4", len(beyond), total)
	}

	all, total, err := s.Conversations(ctx, kustomer.ConversationFilter{}, 0, 100)
	must(t, "Conversations of everyone", err)
	if total != 8 || len(all) != 8 {
		t.Errorf("everyone: %d conversations, total %d; want 8 and 8", len(all), total)
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].LastMessageAt.After(all[j].LastMessageAt) }) {
		t.Errorf("everyone's conversations are not newest activity first")
	}
	if len(all) > 0 && all[0].ID != aliceConvs[0].ID {
		t.Errorf("first of everyone's = %s, want the one with the newest message %s", all[0].ID, aliceConvs[0].ID)
	}

	none, total, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: kustomer.NewID()}, 0, 10)
	must(t, "Conversations of a customer without any", err)
	if len(none) != 0 || total != 0 {
		t.Errorf("customer without conversations: %d listed, total %d", len(none), total)
	}
}

func convIDs(cs []kustomer.Conversation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testUpdateAttributes(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	nc := newConversation(kustomer.NewID(), at(0), "hello")
	nc.Conversation.CustomAttributes = kustomer.Attributes{"topicStr": "sales", "teamSizeNum": 3.0, "notesTxt": "keep me"}
	c, _ := create(t, s, nc)

	got, err := s.UpdateConversationAttributes(ctx, c.ID, kustomer.Attributes{
		"teamSizeNum":    50.0,
		"newsletterBool": false,
		"topicStr":       nil,
		"siteUrl":        nil, // removing an unset attribute is fine
	}, at(30))
	must(t, "UpdateConversationAttributes", err)
	want := c
	want.UpdatedAt = at(30)
	want.CustomAttributes = kustomer.Attributes{"teamSizeNum": 50.0, "newsletterBool": false, "notesTxt": "keep me"}
	checkConversation(t, "returned", got, want)
	checkConversation(t, "read back", getConversation(t, s, c.ID), want)

	got, err = s.UpdateConversationAttributes(ctx, c.ID, nil, at(40))
	must(t, "UpdateConversationAttributes(nil)", err)
	if !attrsEqual(got.CustomAttributes, want.CustomAttributes) {
		t.Errorf("an empty update changed attributes to %v", got.CustomAttributes)
	}
}

func testEndConversation(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	nc := newConversation(kustomer.NewID(), at(0), "hello")
	nc.Conversation.AssistantID = "greeter"
	nc.Conversation.IsInAssistantMode = true
	c, _ := create(t, s, nc)

	by := kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1", DisplayName: "Grace"}
	got, event, changed, err := s.EndConversation(ctx, c.ID, by, at(50), systemEvent(c.ID, "The conversation has ended.", at(50)))
	must(t, "EndConversation", err)
	if !changed {
		t.Errorf("first end: changed = false")
	}
	if event.Seq != c.LastSeq+1 || event.Body != "The conversation has ended." || event.SentBy.Type != kustomer.AuthorSystem {
		t.Errorf("end event %+v, want the next seq", event)
	}
	endedAt := at(50)
	want := c
	want.Ended, want.EndedAt, want.EndedBy = true, &endedAt, &by
	want.IsInAssistantMode = false
	want.UpdatedAt = at(50)
	want.LastSeq = c.LastSeq + 1
	want.AwaitingSince = nil
	checkConversation(t, "ended", got, want)
	checkConversation(t, "ended, read back", getConversation(t, s, c.ID), want)

	got, _, changed, err = s.EndConversation(ctx, c.ID, kustomer.Author{Type: kustomer.AuthorCustomer, ID: c.CustomerID}, at(60), systemEvent(c.ID, "ended", at(60)))
	must(t, "EndConversation again", err)
	if changed {
		t.Errorf("second end: changed = true")
	}
	checkConversation(t, "ended twice", got, want)
}

func testEndConcurrent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		changed int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, ok, err := s.EndConversation(ctx, c.ID, kustomer.Author{Type: kustomer.AuthorAgent, ID: fmt.Sprint(i)}, at(1+i), systemEvent(c.ID, "ended", at(1+i)))
			if err != nil {
				t.Errorf("EndConversation %d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				changed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if changed != 1 {
		t.Errorf("%d concurrent ends reported changed %d times, want once", n, changed)
	}
}

func testMarkRead(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello")) // seq 1, in
	for i, dir := range []kustomer.Direction{
		kustomer.DirectionOut, kustomer.DirectionOut, kustomer.DirectionOut, // 2, 3, 4
		kustomer.DirectionIn,  // 5
		kustomer.DirectionOut, // 6
	} {
		appendMsg(t, s, newMessage(c.ID, dir, fmt.Sprint("m", i+2), at(i+1)))
	}
	unread := func(what string, want int) {
		t.Helper()
		if got := getConversation(t, s, c.ID).CustomerUnread; got != want {
			t.Errorf("%s: CustomerUnread = %d, want %d", what, got, want)
		}
		list, _, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: c.CustomerID}, 0, 10)
		must(t, "Conversations", err)
		if len(list) != 1 || list[0].CustomerUnread != want {
			t.Errorf("%s: listed CustomerUnread = %v, want %d", what, list, want)
		}
	}
	unread("nothing read", 4)
	must(t, "MarkRead 3", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 3))
	unread("read up to 3", 2)
	must(t, "MarkRead 1", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 1))
	unread("read position never moves backwards", 2)
	must(t, "MarkRead 3 again", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 3))
	unread("the same position again", 2)
	// Other readers are tracked separately and do not touch the customer's.
	must(t, "MarkRead agent", s.MarkRead(ctx, c.ID, "agent:agent-1", 6))
	unread("an agent read everything", 2)
	must(t, "MarkRead 5", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 5))
	unread("read up to 5", 1)
	must(t, "MarkRead 6", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 6))
	unread("read everything", 0)
	must(t, "MarkRead 0", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 0))
	unread("still read everything", 0)
	// Each reader's position, as the other side's "Seen" reads it.
	pos, err := s.ReadPositions(ctx, c.ID)
	must(t, "ReadPositions", err)
	if len(pos) != 2 || pos[kustomer.ReaderCustomer] != 6 || pos["agent:agent-1"] != 6 {
		t.Errorf("ReadPositions = %v, want the customer and agent-1 at 6", pos)
	}
	if pos, err := s.ReadPositions(ctx, kustomer.NewID()); err != nil || len(pos) != 0 {
		t.Errorf("ReadPositions of an unread conversation = %v, %v; want none", pos, err)
	}

	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "new", at(10)))
	unread("a new out message", 1)
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "mine", at(11)))
	unread("the customer's own message", 1)
}

func testUpdateCustomer(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	custID := kustomer.NewID()
	create(t, s, newConversation(custID, at(0), "hello"))

	name := "Ada King"
	got, err := s.UpdateCustomer(ctx, custID, kustomer.DescribeCustomerInput{
		Name:             &name,
		Emails:           []string{"ada@example.org", "ada@example.com"},
		Phones:           []string{"+44 20 7946 0000"},
		Socials:          []kustomer.Social{{Username: "ada", Type: "twitter"}},
		CustomAttributes: kustomer.Attributes{"planStr": "team", "seatsNum": 5.0},
	}, at(10))
	must(t, "UpdateCustomer", err)
	want := kustomer.Customer{
		ID: custID, Name: "Ada King",
		Emails:           []string{"ada@example.com", "ada@example.org"},
		Phones:           []string{"+44 20 7946 0000"},
		Socials:          []kustomer.Social{{Username: "ada", Type: "twitter"}},
		CustomAttributes: kustomer.Attributes{"planStr": "team", "seatsNum": 5.0},
		CreatedAt:        at(0), UpdatedAt: at(10),
	}
	checkCustomer(t, "returned", got, want)
	cu, err := s.Customer(ctx, custID)
	must(t, "Customer", err)
	checkCustomer(t, "read back", cu, want)

	// No name leaves the name; nil removes an attribute; duplicates are kept once.
	got, err = s.UpdateCustomer(ctx, custID, kustomer.DescribeCustomerInput{
		Phones:           []string{"+44 20 7946 0000", "+1 555 0100"},
		Socials:          []kustomer.Social{{Username: "ada", Type: "twitter"}, {Username: "ada.codes", Type: "instagram"}},
		CustomAttributes: kustomer.Attributes{"planStr": nil, "vipBool": true},
	}, at(20))
	must(t, "UpdateCustomer again", err)
	want.Phones = []string{"+44 20 7946 0000", "+1 555 0100"}
	want.Socials = []kustomer.Social{{Username: "ada", Type: "twitter"}, {Username: "ada.codes", Type: "instagram"}}
	want.CustomAttributes = kustomer.Attributes{"seatsNum": 5.0, "vipBool": true}
	want.UpdatedAt = at(20)
	checkCustomer(t, "second update", got, want)
	cu, err = s.Customer(ctx, custID)
	must(t, "Customer", err)
	checkCustomer(t, "second update read back", cu, want)

}

func testConversationsLean(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	nc := newConversation(kustomer.NewID(), at(0), "hello")
	nc.Conversation.CustomAttributes = kustomer.Attributes{"topicStr": "billing"}
	nc.Conversation.Context = kustomer.PageContext{Referrer: "https://example.com/", Locale: "de"}
	c, _ := create(t, s, nc)
	full, _, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: c.CustomerID}, 0, 10)
	must(t, "Conversations", err)
	lean, _, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: c.CustomerID, Lean: true}, 0, 10)
	must(t, "Conversations lean", err)
	if len(full) != 1 || len(lean) != 1 {
		t.Fatalf("got %d and %d conversations, want 1", len(full), len(lean))
	}
	if full[0].CustomAttributes["topicStr"] != "billing" || full[0].Context.Locale != "de" {
		t.Errorf("full list lost attributes or context: %+v", full[0])
	}
	if len(lean[0].CustomAttributes) != 0 || lean[0].Context != (kustomer.PageContext{}) {
		t.Errorf("lean list carries attributes or context: %+v", lean[0])
	}
	want := full[0]
	want.CustomAttributes, want.Context = kustomer.Attributes{}, kustomer.PageContext{}
	checkConversation(t, "lean", lean[0], want)
}

// testAppendOwner checks a customer's send guarded by its owner
// (NewMessage.OwnerID): stored in their own open conversation, refused in
// another customer's, an ended one or one the assistant answers, and then
// nothing is stored.
func testAppendOwner(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	mine, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	owner := mine.CustomerID
	guarded := func(convID, body string, n int) kustomer.NewMessage {
		m := newMessage(convID, kustomer.DirectionIn, body, at(n))
		m.SentBy.ID, m.OwnerID, m.ClientMessageID = owner, owner, kustomer.NewID()
		return m
	}
	lastSeq := func(id string) int64 {
		t.Helper()
		c, err := s.Conversation(ctx, id)
		must(t, "Conversation", err)
		return c.LastSeq
	}

	got, created, err := s.AppendMessage(ctx, guarded(mine.ID, "mine", 1))
	must(t, "AppendMessage to their own conversation", err)
	if !created || got.Seq != 2 || lastSeq(mine.ID) != 2 {
		t.Errorf("their own conversation: created %v, seq %d, last seq %d; want a new message 2", created, got.Seq, lastSeq(mine.ID))
	}

	theirs, _ := create(t, s, newConversation(kustomer.NewID(), at(2), "theirs"))
	_, _, err = s.AppendMessage(ctx, guarded(theirs.ID, "not yours", 3))
	wantErr(t, "AppendMessage to another customer's conversation", err, kustomer.ErrForbidden)
	if n := lastSeq(theirs.ID); n != 1 {
		t.Errorf("another customer's conversation: last seq %d after a refused send, want 1", n)
	}
	_, _, err = s.AppendMessage(ctx, guarded(kustomer.NewID(), "nowhere", 4))
	wantErr(t, "AppendMessage to no conversation", err, kustomer.ErrNotFound)

	nc := newConversation(owner, at(5), "hi")
	nc.Conversation.AssistantID, nc.Conversation.IsInAssistantMode = "greeter", true
	bot, _ := create(t, s, nc)
	toBot := guarded(bot.ID, "to the assistant", 6)
	_, _, err = s.AppendMessage(ctx, toBot)
	wantErr(t, "AppendMessage to the assistant's conversation", err, kustomer.ErrAssistantMode)
	if n := lastSeq(bot.ID); n != 1 {
		t.Errorf("the assistant's conversation: last seq %d after a refused send, want 1", n)
	}
	// Its sender sends it again unguarded, the assistant's way; a retry
	// that comes guarded is refused the same, and goes the same way.
	unguarded := toBot
	unguarded.OwnerID = ""
	appendMsg(t, s, unguarded)
	_, _, err = s.AppendMessage(ctx, toBot)
	wantErr(t, "a guarded retry to the assistant's conversation", err, kustomer.ErrAssistantMode)

	endAt(t, s, mine.ID, 8)
	_, _, err = s.AppendMessage(ctx, guarded(mine.ID, "after the end", 9))
	wantErr(t, "AppendMessage to their ended conversation", err, kustomer.ErrConflict)
	if n := lastSeq(mine.ID); n != 3 {
		t.Errorf("their ended conversation: last seq %d, want 3 (the end's event)", n)
	}
}

func testConversationsSummary(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	grace := saveAgent(t, s, newAgent("Grace", "grace@example.com", kustomer.RoleAgent))
	nc := newConversation(kustomer.NewID(), at(0), "hello")
	nc.Conversation.CustomAttributes = kustomer.Attributes{"topicStr": "billing"}
	nc.Conversation.Lang, nc.Conversation.AssistantID = "de", "greeter"
	open, _ := create(t, s, nc)
	assignTo(t, s, open.ID, kustomer.Assignment{AssigneeID: grace.ID, Skill: "billing"}, 1)
	appendMsg(t, s, newMessage(open.ID, kustomer.DirectionOut, "an answer", at(2)))
	ended, _ := create(t, s, newConversation(open.CustomerID, at(3), "second"))
	_, _, _, err := s.EndConversation(ctx, ended.ID, kustomer.Author{Type: kustomer.AuthorAgent, ID: grace.ID}, at(4), systemEvent(ended.ID, "ended", at(4)))
	must(t, "EndConversation", err)

	full, n, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: open.CustomerID}, 0, 10)
	must(t, "Conversations", err)
	sum, m, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: open.CustomerID, Summary: true}, 0, 10)
	must(t, "Conversations summary", err)
	if len(full) != 2 || len(sum) != 2 || n != 2 || m != 2 {
		t.Fatalf("got %d (total %d) and %d (total %d) conversations, want 2", len(full), n, len(sum), m)
	}
	for i, f := range full {
		// The summary's fields, as the full row has them; the rest zero.
		want := kustomer.Conversation{
			ID: f.ID, CustomerID: f.CustomerID, FormID: f.FormID, Lang: f.Lang,
			CreatedAt: f.CreatedAt, LastMessageAt: f.LastMessageAt, Preview: f.Preview, LastSeq: f.LastSeq,
			Ended: f.Ended, EndedAt: f.EndedAt, IsInAssistantMode: f.IsInAssistantMode,
			AssigneeID: f.AssigneeID, AssigneeName: f.AssigneeName, CustomerUnread: f.CustomerUnread,
			CustomAttributes: kustomer.Attributes{},
		}
		got := sum[i]
		if !got.CreatedAt.Equal(want.CreatedAt) || !got.LastMessageAt.Equal(want.LastMessageAt) || !timePtrEqual(got.EndedAt, want.EndedAt) {
			t.Errorf("summary %d times: created %v, last %v, ended %v; want %v, %v, %v", i,
				got.CreatedAt, got.LastMessageAt, fmtTimePtr(got.EndedAt), want.CreatedAt, want.LastMessageAt, fmtTimePtr(want.EndedAt))
		}
		got.CreatedAt, got.LastMessageAt, got.EndedAt = want.CreatedAt, want.LastMessageAt, want.EndedAt
		if !reflect.DeepEqual(got, want) {
			t.Errorf("summary %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if full[1].AssigneeName != "Grace" || full[1].Lang != "de" || full[1].CustomerUnread != 1 || !full[0].Ended {
		t.Errorf("the full rows lack what the summary is checked against: %+v", full)
	}
}

func testApplyAssistantTurn(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	nc := newConversation(kustomer.NewID(), at(0), "hello")
	nc.Conversation.AssistantID, nc.Conversation.IsInAssistantMode = "greeter", true
	c, _ := create(t, s, nc)
	say := func(text string, when int) kustomer.NewMessage {
		m := newMessage(c.ID, kustomer.DirectionOut, text, at(when))
		m.SentBy = kustomer.Author{Type: kustomer.AuthorAssistant, ID: "greeter", DisplayName: "Sam"}
		m.Meta = json.RawMessage(`{"question":{"step":"q1"}}`)
		return m
	}
	first := kustomer.AssistantApply{State: json.RawMessage(`{"step":"q1"}`), Messages: []kustomer.NewMessage{say("Hi", 1), say("Which team?", 1)},
		Set: kustomer.Attributes{"topicStr": "sales"}, At: at(1)}
	got, msgs, err := s.ApplyAssistantTurn(ctx, c.ID, first)
	must(t, "ApplyAssistantTurn", err)
	if len(msgs) != 2 || msgs[0].Seq != 2 || msgs[1].Seq != 3 || string(msgs[1].Meta) != `{"question":{"step":"q1"}}` {
		t.Fatalf("messages %+v", msgs)
	}
	if string(got.AssistantState) != `{"step":"q1"}` || got.CustomAttributes["topicStr"] != "sales" || !got.IsInAssistantMode {
		t.Errorf("after the first turn: %+v", got)
	}
	back := getConversation(t, s, c.ID)
	if string(back.AssistantState) != `{"step":"q1"}` {
		t.Errorf("state read back %s", back.AssistantState)
	}
	// A turn computed from an older state is refused and stores nothing.
	_, _, err = s.ApplyAssistantTurn(ctx, c.ID, kustomer.AssistantApply{State: json.RawMessage(`{"step":"x"}`), Messages: []kustomer.NewMessage{say("late", 2)}, At: at(2)})
	wantErr(t, "ApplyAssistantTurn from no state", err, kustomer.ErrStaleAnswer)
	if back := getConversation(t, s, c.ID); back.LastSeq != 3 || string(back.AssistantState) != `{"step":"q1"}` {
		t.Errorf("a refused turn changed the conversation: %+v", back)
	}
	// Handing off ends assistant mode into the skill's queue.
	got, _, err = s.ApplyAssistantTurn(ctx, c.ID, kustomer.AssistantApply{ExpectState: json.RawMessage(`{"step":"q1"}`), State: json.RawMessage(`{"done":true}`),
		LeaveAssistant: true, Skill: "billing", At: at(3)})
	must(t, "ApplyAssistantTurn hand-off", err)
	if got.IsInAssistantMode || got.Skill != "billing" || got.Ended {
		t.Errorf("after the hand-off: %+v", got)
	}
	// Ending ends the conversation.
	by := kustomer.Author{Type: kustomer.AuthorAssistant, ID: "greeter"}
	got, _, err = s.ApplyAssistantTurn(ctx, c.ID, kustomer.AssistantApply{ExpectState: json.RawMessage(`{"done":true}`), State: json.RawMessage(`{"done":true,"ended":true}`), End: &by, At: at(4)})
	must(t, "ApplyAssistantTurn end", err)
	if !got.Ended || got.EndedBy == nil || got.EndedBy.Type != kustomer.AuthorAssistant {
		t.Errorf("after the end: %+v", got)
	}
	_, _, err = s.ApplyAssistantTurn(ctx, kustomer.NewID(), first)
	wantErr(t, "ApplyAssistantTurn of an unknown conversation", err, kustomer.ErrNotFound)

	// Begin starts an assistant on a conversation that had none (the
	// SDK's initAssistantPayload), once.
	plain, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "no assistant"))
	begin := kustomer.AssistantApply{Begin: "greeter", State: json.RawMessage(`{"step":"q1"}`), At: at(5),
		Messages: []kustomer.NewMessage{{Message: newMessage(plain.ID, kustomer.DirectionOut, "Hi, I am Sam", at(5)).Message}}}
	begin.Messages[0].SentBy = kustomer.Author{Type: kustomer.AuthorAssistant, ID: "greeter"}
	got, msgs, err = s.ApplyAssistantTurn(ctx, plain.ID, begin)
	must(t, "ApplyAssistantTurn begin", err)
	if got.AssistantID != "greeter" || !got.IsInAssistantMode || len(msgs) != 1 || msgs[0].Seq != 2 {
		t.Errorf("after begin: %+v, %d messages", got, len(msgs))
	}
	if back := getConversation(t, s, plain.ID); back.AssistantID != "greeter" || !back.IsInAssistantMode || string(back.AssistantState) != `{"step":"q1"}` {
		t.Errorf("begin read back: %+v", back)
	}
	begin.ExpectState = json.RawMessage(`{"step":"q1"}`)
	begin.Begin = "other"
	_, _, err = s.ApplyAssistantTurn(ctx, plain.ID, begin)
	wantErr(t, "ApplyAssistantTurn begin on a conversation with an assistant", err, kustomer.ErrStaleAnswer)
	// An assistant that hands off at once leaves the conversation out of
	// assistant mode, with the assistant recorded.
	other, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "straight to a person"))
	got, _, err = s.ApplyAssistantTurn(ctx, other.ID, kustomer.AssistantApply{Begin: "greeter", State: json.RawMessage(`{"done":true}`),
		LeaveAssistant: true, Skill: "billing", At: at(6)})
	must(t, "ApplyAssistantTurn begin and hand off", err)
	if got.AssistantID != "greeter" || got.IsInAssistantMode || got.Skill != "billing" {
		t.Errorf("after begin and hand-off: %+v", got)
	}
}

func testFormSettings(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	got, err := s.FormAssistants(ctx)
	must(t, "FormAssistants", err)
	if len(got) != 0 {
		t.Errorf("a new store has form settings: %v", got)
	}
	for i, e := range []kustomer.FormAuditEntry{
		{ID: kustomer.NewID(), FormID: "contact", AgentID: "a1", AgentName: "Ada", From: "", To: "greeter", At: at(1)},
		{ID: kustomer.NewID(), FormID: "contact", AgentID: "a1", AgentName: "Ada", From: "greeter", To: "", At: at(2)},
		{ID: kustomer.NewID(), FormID: "sales", AgentID: "a2", AgentName: "Grace", From: "", To: "greeter", At: at(3)},
	} {
		must(t, fmt.Sprint("SetFormAssistant ", i), s.SetFormAssistant(ctx, e))
	}
	got, err = s.FormAssistants(ctx)
	must(t, "FormAssistants", err)
	if len(got) != 2 || got["contact"] != "" || got["sales"] != "greeter" {
		t.Errorf("settings %v: want contact chosen as none, sales greeter", got)
	}
	if _, ok := got["contact"]; !ok {
		t.Errorf("choosing none is not stored as a choice")
	}
	audit, err := s.FormAudit(ctx, 2)
	must(t, "FormAudit", err)
	if len(audit) != 2 || audit[0].FormID != "sales" || audit[0].AgentName != "Grace" || audit[1].From != "greeter" || !audit[1].At.Equal(at(2)) {
		t.Errorf("audit newest first, limited: %+v", audit)
	}
	for _, e := range audit {
		if e.Setting != kustomer.FormSettingAssistant {
			t.Errorf("audit entry %s: setting %q, want %q", e.ID, e.Setting, kustomer.FormSettingAssistant)
		}
	}
}

// testAgentNotes: notes on a conversation come back the latest first,
// even when written in the same millisecond; a conversation without notes
// has none, an unknown one is ErrNotFound.
func testAgentNotes(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	notes, err := s.AgentNotes(ctx, c.ID, 10)
	must(t, "AgentNotes of none", err)
	if notes == nil || len(notes) != 0 {
		t.Errorf("notes of a conversation without any: %#v, want an empty list", notes)
	}
	for i, text := range []string{"VIP customer", "Refund promised", "Refund done"} {
		n := kustomer.AgentNote{ID: kustomer.NewID(), ConversationID: c.ID, Text: text, AgentID: "agent-1", AgentName: "Grace", CreatedAt: at(1 + i/2)}
		must(t, "AddAgentNote", s.AddAgentNote(ctx, n))
	}
	notes, err = s.AgentNotes(ctx, c.ID, 10)
	must(t, "AgentNotes", err)
	var texts []string
	for _, n := range notes {
		texts = append(texts, n.Text)
	}
	if strings.Join(texts, "|") != "Refund done|Refund promised|VIP customer" || notes[0].AgentName != "Grace" || !notes[0].CreatedAt.Equal(at(2)) || notes[0].ConversationID != c.ID {
		t.Errorf("notes %+v, want the latest first", notes)
	}
	if notes, _ := s.AgentNotes(ctx, c.ID, 2); len(notes) != 2 || notes[0].Text != "Refund done" {
		t.Errorf("limited to 2: %+v", notes)
	}
	err = s.AddAgentNote(ctx, kustomer.AgentNote{ID: kustomer.NewID(), ConversationID: kustomer.NewID(), Text: "x", CreatedAt: at(3)})
	wantErr(t, "AddAgentNote to an unknown conversation", err, kustomer.ErrNotFound)
	_, err = s.AgentNotes(ctx, kustomer.NewID(), 10)
	wantErr(t, "AgentNotes of an unknown conversation", err, kustomer.ErrNotFound)
}

// testConversationHead checks that a conversation's head agrees with the
// whole conversation on every field it carries, open and ended, and leaves
// the others zero.
func testConversationHead(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	nc := newConversation(kustomer.NewID(), at(0), "hello")
	nc.Conversation.AssistantID = "greeter"
	nc.Conversation.IsInAssistantMode = true
	nc.Conversation.Lang = "de"
	nc.Conversation.CustomAttributes = kustomer.Attributes{"topicStr": "sales"}
	c, _ := create(t, s, nc)
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "an answer", at(5)))
	head := func(label string) {
		t.Helper()
		full := getConversation(t, s, c.ID)
		got, err := s.ConversationHead(ctx, c.ID)
		must(t, "ConversationHead", err)
		want := kustomer.Conversation{ID: full.ID, CustomerID: full.CustomerID, FormID: full.FormID, AssistantID: full.AssistantID,
			IsInAssistantMode: full.IsInAssistantMode, Ended: full.Ended, EndedAt: full.EndedAt, FirstResponseAt: full.FirstResponseAt,
			Lang: full.Lang, LastSeq: full.LastSeq}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ConversationHead = %+v, want %+v", label, got, want)
		}
		if got.FirstResponseAt == nil || got.LastSeq < 2 || got.CustomerID == "" || got.Lang != "de" {
			t.Errorf("%s: ConversationHead = %+v: fields missing", label, got)
		}
	}
	head("open")
	by := kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1", DisplayName: "Grace"}
	_, _, _, err := s.EndConversation(ctx, c.ID, by, at(50), systemEvent(c.ID, "The conversation has ended.", at(50)))
	must(t, "EndConversation", err)
	head("ended")
	if _, err := s.ConversationHead(ctx, kustomer.NewID()); !errors.Is(err, kustomer.ErrNotFound) {
		t.Errorf("ConversationHead of an unknown id: %v, want ErrNotFound", err)
	}
}

// marked is a match's text with its marked words in brackets.
func marked(m kustomer.SearchMatch) string {
	return strings.NewReplacer(kustomer.MatchStart, "[", kustomer.MatchEnd, "]").Replace(m.Text)
}

// testConversationsSearch: every term must begin a word of a message
// (notes too), of the customer's name or addresses, or of an attribute's
// value, not necessarily the same one; the other filters still apply; the
// matches say where, newest message first, with the words marked; a
// renamed customer and changed attributes are found by their new words
// only.
func testConversationsSearch(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	search := func(f kustomer.ConversationFilter, q string) []string {
		t.Helper()
		terms, err := kustomer.SearchTerms(q, "q")
		must(t, "SearchTerms", err)
		f.Terms = terms
		list, n, err := s.Conversations(ctx, f, 0, 50)
		must(t, "Conversations", err)
		if n != len(list) {
			t.Errorf("%q: total %d for %d rows", q, n, len(list))
		}
		ids := make([]string, len(list))
		for i, c := range list {
			ids[i] = c.ID
		}
		return ids
	}
	refund := newConversation(kustomer.NewID(), at(0), "I would like a refund for order 4242")
	refund.Conversation.CustomAttributes = kustomer.Attributes{"topicStr": "Billing questions", "orderNum": 4242}
	a, _ := create(t, s, refund)
	appendMsg(t, s, newMessage(a.ID, kustomer.DirectionOut, "Your refund is on its way: https://shop.example/orders/4242", at(1)))
	note := newMessage(a.ID, kustomer.DirectionOut, "Checked with finance, zebra code", at(2))
	note.Private = true
	appendMsg(t, s, note)
	other := newConversation(kustomer.NewID(), at(3), "Where is my parcel?")
	other.Customer.Name, other.Customer.Emails = "Charles Babbage", []string{"charles@engine.example"}
	b, _ := create(t, s, other)
	ended, _ := create(t, s, newConversation(a.CustomerID, at(4), "Another refund please"))
	_, _, _, err := s.EndConversation(ctx, ended.ID, kustomer.Author{Type: kustomer.AuthorSystem}, at(5), systemEvent(ended.ID, "ended", at(5)))
	must(t, "EndConversation", err)

	for _, c := range []struct {
		q    string
		f    kustomer.ConversationFilter
		want []string
	}{
		{"refund", kustomer.ConversationFilter{}, []string{ended.ID, a.ID}},
		{"REF", kustomer.ConversationFilter{}, []string{ended.ID, a.ID}},                   // a prefix, any case
		{"refund", kustomer.ConversationFilter{Queue: kustomer.QueueOpen}, []string{a.ID}}, // with a queue
		{"zebra", kustomer.ConversationFilter{}, []string{a.ID}},                           // a note
		{"parcel", kustomer.ConversationFilter{}, []string{b.ID}},
		{"babbage", kustomer.ConversationFilter{}, []string{b.ID}},                // the customer's name
		{"charles@engine.example", kustomer.ConversationFilter{}, []string{b.ID}}, // an address
		{"billing", kustomer.ConversationFilter{}, []string{a.ID}},                // an attribute's value
		{"4242", kustomer.ConversationFilter{}, []string{a.ID}},
		{"topicstr", kustomer.ConversationFilter{}, nil},                        // not the attribute's name
		{"ada refund", kustomer.ConversationFilter{}, []string{ended.ID, a.ID}}, // the customer and a message
		{"ada parcel", kustomer.ConversationFilter{}, nil},                      // every term must match
		{"efund", kustomer.ConversationFilter{}, nil},                           // words begin with the term
		{"refund", kustomer.ConversationFilter{CustomerID: b.CustomerID}, nil},
	} {
		if got := search(c.f, c.q); !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("search %q %+v = %v, want %v", c.q, c.f, got, c.want)
		}
	}

	terms, _ := kustomer.SearchTerms("refund babbage billing zebra", "q")
	m, err := s.SearchMatches(ctx, terms, []string{a.ID, b.ID, ended.ID, kustomer.NewID(), "not an id"})
	must(t, "SearchMatches", err)
	if len(m) != 3 {
		t.Errorf("matches for %d conversations, want 3: %v", len(m), m)
	}
	// The newest matching message: the note.
	if got := m[a.ID]; got.Field != kustomer.MatchMessage || !strings.Contains(marked(got), "[zebra]") {
		t.Errorf("match of %s = %+v (%s), want the note with [zebra]", a.ID, got, marked(got))
	}
	if got := m[b.ID]; got.Field != kustomer.MatchCustomer || !strings.Contains(marked(got), "[Babbage]") || !strings.Contains(marked(got), "charles@engine.example") {
		t.Errorf("match of %s = %+v (%s), want the customer with [Babbage]", b.ID, got, marked(got))
	}
	if got := m[ended.ID]; got.Field != kustomer.MatchMessage || marked(got) != "Another [refund] please" {
		t.Errorf("match of %s = %+v (%s), want %q", ended.ID, got, marked(got), "Another [refund] please")
	}
	terms, _ = kustomer.SearchTerms("questions", "q")
	m, err = s.SearchMatches(ctx, terms, []string{a.ID})
	must(t, "SearchMatches", err)
	if got := m[a.ID]; got.Field != kustomer.MatchAttributes || !strings.Contains(marked(got), "[questions]") {
		t.Errorf("attribute match = %+v (%s), want [questions]", got, marked(got))
	}

	// New words replace the old.
	name := "Charlotte Brontë"
	_, err = s.UpdateCustomer(ctx, b.CustomerID, kustomer.DescribeCustomerInput{Name: &name}, at(6))
	must(t, "UpdateCustomer", err)
	_, err = s.UpdateConversationAttributes(ctx, a.ID, kustomer.Attributes{"topicStr": "Shipping"}, at(7))
	must(t, "UpdateConversationAttributes", err)
	for q, want := range map[string][]string{"babbage": nil, "charlotte": {b.ID}, "billing": nil, "shipping": {a.ID}, "4242": {a.ID}} {
		if got := search(kustomer.ConversationFilter{}, q); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("after the changes, search %q = %v, want %v", q, got, want)
		}
	}
}
