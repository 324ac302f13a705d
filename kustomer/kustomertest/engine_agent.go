package kustomertest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/handoff/handoff/kustomer"
)

// password is a valid password for the accounts the tests create.
const password = "correct horse battery"

// newAgent creates an account through the Engine with password.
func (f *engineFixture) newAgent(t testing.TB, name, email string, role kustomer.Role, skills ...string) kustomer.Agent {
	t.Helper()
	a, err := f.engine.CreateAgent(t.Context(), kustomer.Actor{Type: kustomer.AuthorSystem}, kustomer.NewAgentInput{Email: email, Name: name, Password: password, Role: role, Skills: skills})
	must(t, "CreateAgent "+name, err)
	return a
}

// startForAgents creates a conversation without an assistant, so that it
// waits in the unassigned queue, for a new customer.
func (f *engineFixture) startForAgents(t testing.TB, body, formID string) (kustomer.Conversation, kustomer.Actor) {
	t.Helper()
	c, created, err := f.engine.CreateConversation(t.Context(), kustomer.CreateConversationInput{
		CustomerName: "Ada Lovelace", CustomerEmail: "ada@example.com", Message: body, FormID: formID,
	})
	must(t, "CreateConversation", err)
	if !created || c.IsInAssistantMode {
		t.Fatalf("CreateConversation: created %v, assistant mode %v; want true and false", created, c.IsInAssistantMode)
	}
	return c, kustomer.CustomerActor(c.CustomerID)
}

// subscribe subscribes actor to the conversation's events and closes the
// subscription when the test ends.
func (f *engineFixture) subscribe(t testing.TB, actor kustomer.Actor, convID string) kustomer.Subscription {
	t.Helper()
	sub, err := f.engine.Subscribe(t.Context(), actor, convID)
	must(t, "Subscribe", err)
	t.Cleanup(sub.Close)
	return sub
}

// wantRecorded checks the two events an operation recorded in the
// transcript publishes, in order: message.created for its system message,
// whose body names mentions and no id in ids, then conversation.updated
// with the conversation as got. It returns the system message.
func wantRecorded(t testing.TB, sub kustomer.Subscription, got kustomer.Conversation, mentions string, ids ...string) kustomer.Message {
	t.Helper()
	ev := nextEvent(t, sub)
	if ev.Type != kustomer.EventMessageCreated || ev.Message == nil || ev.ConversationID != got.ID {
		t.Fatalf("first event = %+v, want message.created of %s", ev, got.ID)
	}
	m := *ev.Message
	if m.SentBy.Type != kustomer.AuthorSystem || m.Direction != kustomer.DirectionOut || m.Private || m.Seq != got.LastSeq {
		t.Errorf("system message = %+v, want out, by the system, public, seq %d", m, got.LastSeq)
	}
	if !strings.Contains(m.Body, mentions) {
		t.Errorf("system message %q does not name %q", m.Body, mentions)
	}
	for _, id := range ids {
		if id != "" && strings.Contains(m.Body, id) {
			t.Errorf("system message %q shows the id %s", m.Body, id)
		}
	}
	ev = nextEvent(t, sub)
	if ev.Type != kustomer.EventConversationUpdated || ev.Conversation == nil {
		t.Fatalf("second event = %+v, want conversation.updated", ev)
	}
	checkConversation(t, "conversation.updated", *ev.Conversation, got)
	return m
}

// noEvents fails the test when events were published since the broker had
// published before of them.
func noEvents(t testing.TB, f *engineFixture, what string, before int) {
	t.Helper()
	if evs := f.broker.published(); len(evs) != before {
		t.Errorf("%s published %d events: %+v", what, len(evs)-before, evs[before:])
	}
}

func testEngineJoin(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAgent)
	c, _ := f.startForAgents(t, "hello", "contact")
	sub := f.subscribe(t, grace.Actor(), c.ID)

	got, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	if got.AssigneeID != grace.ID || got.AssigneeName != "Grace Hopper" || got.Skill != "" || got.LastSeq != 2 {
		t.Errorf("joined: assignee %q (%q) skill %q LastSeq %d, want Grace, general queue, 2", got.AssigneeID, got.AssigneeName, got.Skill, got.LastSeq)
	}
	checkConversation(t, "joined, read back", f.conversation(t, c.ID), got)
	wantRecorded(t, sub, got, "Grace Hopper", grace.ID, c.ID)

	before := len(f.broker.published())
	again, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join again", err)
	checkConversation(t, "joined twice", again, got)
	noEvents(t, f, "joining twice", before)

	// Another agent joining takes the conversation over.
	got, err = f.engine.Join(ctx, alan.Actor(), c.ID)
	must(t, "Join by another agent", err)
	if got.AssigneeID != alan.ID || got.AssigneeName != "Alan Turing" || got.LastSeq != 3 {
		t.Errorf("taken over: assignee %q (%q) LastSeq %d, want Alan, 3", got.AssigneeID, got.AssigneeName, got.LastSeq)
	}
	wantRecorded(t, sub, got, "Alan Turing", alan.ID, grace.ID)

	// Only agents join: not the assistant, not an integration.
	before = len(f.broker.published())
	_, err = f.engine.Join(ctx, assistant, c.ID)
	wantErr(t, "Join by the assistant", err, kustomer.ErrForbidden)
	noEvents(t, f, "a refused join", before)
}

func testEngineTransferToAgent(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAgent)
	gone := f.newAgent(t, "Gone Girl", "gone@example.com", kustomer.RoleAgent)
	disabled := true
	_, err := f.engine.UpdateAgent(ctx, grace.Actor(), gone.ID, kustomer.UpdateAgentInput{Disabled: &disabled})
	must(t, "UpdateAgent", err)
	c, _ := f.startForAgents(t, "hello", "contact")
	_, err = f.engine.TransferToSkill(ctx, grace.Actor(), c.ID, "billing")
	must(t, "TransferToSkill", err)
	_, err = f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	sub := f.subscribe(t, grace.Actor(), c.ID)

	got, err := f.engine.TransferToAgent(ctx, grace.Actor(), c.ID, alan.ID)
	must(t, "TransferToAgent", err)
	if got.AssigneeID != alan.ID || got.AssigneeName != "Alan Turing" || got.Skill != "billing" || got.LastSeq != 4 {
		t.Errorf("transferred: assignee %q (%q) skill %q LastSeq %d, want Alan, billing kept, 4", got.AssigneeID, got.AssigneeName, got.Skill, got.LastSeq)
	}
	checkConversation(t, "transferred, read back", f.conversation(t, c.ID), got)
	wantRecorded(t, sub, got, "Alan Turing", alan.ID, grace.ID, c.ID)

	before := len(f.broker.published())
	again, err := f.engine.TransferToAgent(ctx, grace.Actor(), c.ID, alan.ID)
	must(t, "TransferToAgent again", err)
	checkConversation(t, "transferred twice", again, got)
	noEvents(t, f, "transferring to the assignee", before)

	for _, tt := range []struct{ name, id string }{
		{"an unknown agent", kustomer.NewID()},
		{"no agent", ""},
		{"not an id", "alan@example.com"},
		{"a disabled agent", gone.ID},
	} {
		_, err := f.engine.TransferToAgent(ctx, alan.Actor(), c.ID, tt.id)
		wantValidation(t, "TransferToAgent to "+tt.name, err, "agentId")
	}
	checkConversation(t, "after refused transfers", f.conversation(t, c.ID), got)
	noEvents(t, f, "refused transfers", before)
}

func testEngineTransferToSkill(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, _ := f.startForAgents(t, "hello", "contact")
	_, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	sub := f.subscribe(t, grace.Actor(), c.ID)

	got, err := f.engine.TransferToSkill(ctx, grace.Actor(), c.ID, "billing")
	must(t, "TransferToSkill", err)
	if got.AssigneeID != "" || got.AssigneeName != "" || got.Skill != "billing" || got.LastSeq != 3 {
		t.Errorf("transferred: assignee %q skill %q LastSeq %d, want nobody, billing, 3", got.AssigneeID, got.Skill, got.LastSeq)
	}
	checkConversation(t, "transferred, read back", f.conversation(t, c.ID), got)
	wantRecorded(t, sub, got, "Billing and invoices", grace.ID, c.ID)
	page, err := f.engine.Inbox(ctx, grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned, Skill: "billing"}, 1, 10)
	must(t, "Inbox", err)
	if ids := convIDs(page.Conversations); !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("billing queue = %v, want [%s]", ids, c.ID)
	}

	before := len(f.broker.published())
	again, err := f.engine.TransferToSkill(ctx, grace.Actor(), c.ID, "billing")
	must(t, "TransferToSkill again", err)
	checkConversation(t, "transferred twice", again, got)
	noEvents(t, f, "transferring to the same queue", before)

	for _, skill := range []string{"cooking", "", "Billing"} {
		_, err := f.engine.TransferToSkill(ctx, grace.Actor(), c.ID, skill)
		wantValidation(t, fmt.Sprintf("TransferToSkill(%q)", skill), err, "skill")
	}
	noEvents(t, f, "refused transfers", before)

	// From one queue to another.
	got, err = f.engine.TransferToSkill(ctx, grace.Actor(), c.ID, "tech")
	must(t, "TransferToSkill to another skill", err)
	if got.Skill != "tech" || got.AssigneeID != "" {
		t.Errorf("second transfer: skill %q assignee %q, want tech and nobody", got.Skill, got.AssigneeID)
	}
	wantRecorded(t, sub, got, "Technical support")
}

func testEngineUnassign(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, _ := f.startForAgents(t, "hello", "contact")
	_, err := f.engine.TransferToSkill(ctx, grace.Actor(), c.ID, "billing")
	must(t, "TransferToSkill", err)
	_, err = f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	sub := f.subscribe(t, grace.Actor(), c.ID)

	got, err := f.engine.Unassign(ctx, grace.Actor(), c.ID)
	must(t, "Unassign", err)
	if got.AssigneeID != "" || got.AssigneeName != "" || got.Skill != "billing" || got.LastSeq != 4 {
		t.Errorf("unassigned: assignee %q skill %q LastSeq %d, want nobody, billing kept, 4", got.AssigneeID, got.Skill, got.LastSeq)
	}
	checkConversation(t, "unassigned, read back", f.conversation(t, c.ID), got)
	wantRecorded(t, sub, got, "queue", grace.ID, c.ID)

	before := len(f.broker.published())
	again, err := f.engine.Unassign(ctx, grace.Actor(), c.ID)
	must(t, "Unassign again", err)
	checkConversation(t, "unassigned twice", again, got)
	noEvents(t, f, "unassigning an unassigned conversation", before)
}

func testEngineAssignmentRefused(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAgent)
	c, owner := f.startForAgents(t, "hello", "contact")
	_, mallory := f.startForAgents(t, "someone else", "contact")
	ops := []struct {
		name string
		do   func(actor kustomer.Actor, convID string) (kustomer.Conversation, error)
	}{
		{"Join", func(a kustomer.Actor, id string) (kustomer.Conversation, error) { return f.engine.Join(ctx, a, id) }},
		{"TransferToAgent", func(a kustomer.Actor, id string) (kustomer.Conversation, error) {
			return f.engine.TransferToAgent(ctx, a, id, alan.ID)
		}},
		{"TransferToSkill", func(a kustomer.Actor, id string) (kustomer.Conversation, error) {
			return f.engine.TransferToSkill(ctx, a, id, "billing")
		}},
		{"Unassign", func(a kustomer.Actor, id string) (kustomer.Conversation, error) { return f.engine.Unassign(ctx, a, id) }},
	}
	// Unassign needs someone assigned to do anything.
	_, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	want := f.conversation(t, c.ID)
	before := len(f.broker.published())

	// Customers are refused before anything else is checked, even on their
	// own conversation, even with arguments that are invalid anyway.
	for _, actor := range []kustomer.Actor{owner, mallory} {
		for _, op := range ops {
			_, err := op.do(actor, c.ID)
			wantErr(t, op.name+" by a customer", err, kustomer.ErrForbidden)
		}
		_, err := f.engine.TransferToSkill(ctx, actor, c.ID, "cooking")
		wantErr(t, "TransferToSkill to an undefined skill by a customer", err, kustomer.ErrForbidden)
		_, err = f.engine.TransferToAgent(ctx, actor, c.ID, kustomer.NewID())
		wantErr(t, "TransferToAgent to an unknown agent by a customer", err, kustomer.ErrForbidden)
		_, err = f.engine.ReopenConversation(ctx, actor, c.ID)
		wantErr(t, "ReopenConversation by a customer", err, kustomer.ErrForbidden)
	}
	for _, op := range ops {
		_, err := op.do(grace.Actor(), kustomer.NewID())
		wantErr(t, op.name+" of an unknown conversation", err, kustomer.ErrNotFound)
	}
	checkConversation(t, "after refused operations", f.conversation(t, c.ID), want)
	noEvents(t, f, "refused operations", before)

	// An ended conversation must be reopened first.
	_, err = f.engine.EndConversation(ctx, grace.Actor(), c.ID)
	must(t, "EndConversation", err)
	want = f.conversation(t, c.ID)
	before = len(f.broker.published())
	for _, op := range ops {
		_, err := op.do(alan.Actor(), c.ID)
		wantErr(t, op.name+" of an ended conversation", err, kustomer.ErrConflict)
	}
	checkConversation(t, "ended, after refused operations", f.conversation(t, c.ID), want)
	noEvents(t, f, "operations on an ended conversation", before)
}

func testEngineReopen(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, cust := f.startForAgents(t, "hello", "contact")
	f.send(t, grace.Actor(), c.ID, "", "Hi Ada")
	_, err := f.engine.EndConversation(ctx, cust, c.ID)
	must(t, "EndConversation", err)
	rated, err := f.engine.RateConversation(ctx, cust, c.ID, 5, "")
	must(t, "RateConversation", err)
	sub := f.subscribe(t, cust, c.ID)

	got, err := f.engine.ReopenConversation(ctx, grace.Actor(), c.ID)
	must(t, "ReopenConversation", err)
	if got.Ended || got.EndedAt != nil || got.EndedBy != nil || got.Satisfaction != nil || got.LastSeq != rated.LastSeq+1 {
		t.Errorf("reopened = %+v, want open, unrated, one more message", got)
	}
	checkConversation(t, "reopened, read back", f.conversation(t, c.ID), got)
	wantRecorded(t, sub, got, "reopened", grace.ID, c.ID)

	before := len(f.broker.published())
	again, err := f.engine.ReopenConversation(ctx, grace.Actor(), c.ID)
	must(t, "ReopenConversation of an open conversation", err)
	checkConversation(t, "reopened twice", again, got)
	noEvents(t, f, "reopening an open conversation", before)

	m := f.send(t, cust, c.ID, "", "one more thing")
	if m.Seq != got.LastSeq+1 {
		t.Errorf("customer's message after reopening: seq %d, want %d", m.Seq, got.LastSeq+1)
	}
	_, err = f.engine.ReopenConversation(ctx, grace.Actor(), kustomer.NewID())
	wantErr(t, "ReopenConversation of an unknown conversation", err, kustomer.ErrNotFound)
}

func testEngineRate(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, cust := f.startForAgents(t, "hello", "contact")
	_, mallory := f.startForAgents(t, "someone else", "contact")

	_, err := f.engine.RateConversation(ctx, cust, c.ID, 5, "")
	wantErr(t, "RateConversation of an open conversation", err, kustomer.ErrConflict)
	_, err = f.engine.EndConversation(ctx, grace.Actor(), c.ID)
	must(t, "EndConversation", err)
	ended := f.conversation(t, c.ID)
	before := len(f.broker.published())

	tests := []struct {
		name    string
		rating  int
		comment string
		fields  []string
	}{
		{"rating 0", 0, "", []string{"rating"}},
		{"rating 6", 6, "great", []string{"rating"}},
		{"a negative rating", -1, "", []string{"rating"}},
		{"a comment over 1000 characters", 3, strings.Repeat("é", kustomer.MaxCSATCommentLen+1), []string{"comment"}},
		{"a comment of invalid UTF-8", 3, "bad \xff", []string{"comment"}},
		{"both", 9, strings.Repeat("x", kustomer.MaxCSATCommentLen+1), []string{"rating", "comment"}},
	}
	for _, tt := range tests {
		_, err := f.engine.RateConversation(ctx, cust, c.ID, tt.rating, tt.comment)
		wantValidation(t, tt.name, err, tt.fields...)
	}
	for _, actor := range []kustomer.Actor{grace.Actor(), assistant, mallory} {
		_, err := f.engine.RateConversation(ctx, actor, c.ID, 5, "")
		wantErr(t, fmt.Sprintf("RateConversation by %s %s", actor.Type, actor.ID), err, kustomer.ErrForbidden)
	}
	checkConversation(t, "after refused ratings", f.conversation(t, c.ID), ended)
	noEvents(t, f, "refused ratings", before)

	// Exactly 1000 characters once trimmed.
	comment := strings.Repeat("é", kustomer.MaxCSATCommentLen)
	sub := f.subscribe(t, cust, c.ID)
	got, err := f.engine.RateConversation(ctx, cust, c.ID, 1, "  "+comment+"\r\n")
	must(t, "RateConversation", err)
	if got.Satisfaction == nil || got.Satisfaction.Rating != 1 || got.Satisfaction.Comment != comment || got.Satisfaction.CreatedAt.IsZero() {
		t.Fatalf("satisfaction = %s, want 1 with the trimmed comment", fmtSatisfaction(got.Satisfaction))
	}
	checkConversation(t, "rated, read back", f.conversation(t, c.ID), got)
	if ev := nextEvent(t, sub); ev.Type != kustomer.EventConversationUpdated || ev.Conversation == nil || !satisfactionEqual(ev.Conversation.Satisfaction, got.Satisfaction) {
		t.Errorf("event = %+v, want conversation.updated with the rating", ev)
	}

	before = len(f.broker.published())
	_, err = f.engine.RateConversation(ctx, cust, c.ID, 5, "changed my mind")
	wantErr(t, "RateConversation twice", err, kustomer.ErrConflict)
	checkConversation(t, "after a second rating", f.conversation(t, c.ID), got)
	noEvents(t, f, "a second rating", before)
}

func testEnginePrivateNotes(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, cust := f.startForAgents(t, "hello", "contact")
	custSub := f.subscribe(t, cust, c.ID)

	_, created, err := f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: c.ID, Body: "psst", Private: true})
	wantValidation(t, "a private note by the customer", err, "private")
	if created {
		t.Errorf("a private note by the customer: created = true")
	}

	in := kustomer.SendMessageInput{ConversationID: c.ID, ClientMessageID: "note-1", Body: "VIP, be nice", Private: true}
	note, created, err := f.engine.SendMessage(ctx, grace.Actor(), in)
	must(t, "SendMessage private", err)
	if !created || !note.Private || note.Seq != 2 || note.Direction != kustomer.DirectionOut || note.SentBy.ID != grace.ID {
		t.Errorf("note = %+v created %v, want a private out message by Grace, seq 2", note, created)
	}
	// The Engine does not filter live events by reader: the note is
	// published on the conversation's topic, marked Private, and reaches a
	// customer's subscription too. The transport serving a customer (the
	// chat socket) must drop it; what the Engine guarantees is that reads
	// never return it to a customer.
	if ev := nextEvent(t, custSub); ev.Type != kustomer.EventMessageCreated || ev.Message == nil || ev.Message.ID != note.ID || !ev.Message.Private {
		t.Errorf("event = %+v, want message.created of the note, marked private", ev)
	}
	got := f.conversation(t, c.ID)
	if got.Preview != "hello" || got.CustomerUnread != 0 || !got.LastMessageAt.Equal(c.LastMessageAt) || got.FirstResponseAt != nil || got.LastSeq != 2 {
		t.Errorf("after a note: preview %q unread %d last activity %v first response %s LastSeq %d; want unchanged but LastSeq 2",
			got.Preview, got.CustomerUnread, got.LastMessageAt, fmtTimePtr(got.FirstResponseAt), got.LastSeq)
	}

	// A retry gets the note back; the same id for a public message is a
	// conflict, not the note.
	again, created, err := f.engine.SendMessage(ctx, grace.Actor(), in)
	must(t, "retry of the note", err)
	if created || again.ID != note.ID {
		t.Errorf("retry of the note: id %s created %v, want %s and false", again.ID, created, note.ID)
	}
	public := in
	public.Private = false
	_, created, err = f.engine.SendMessage(ctx, grace.Actor(), public)
	wantErr(t, "the note's clientMessageId for a public message", err, kustomer.ErrConflict)
	if created {
		t.Errorf("the note's clientMessageId for a public message: created = true")
	}

	f.send(t, grace.Actor(), c.ID, "", "Hello Ada") // 3
	_, err = f.engine.EndConversation(ctx, grace.Actor(), c.ID)
	must(t, "EndConversation", err) // 4
	late, created, err := f.engine.SendMessage(ctx, grace.Actor(), kustomer.SendMessageInput{ConversationID: c.ID, Body: "follow up by email", Private: true})
	must(t, "a note after the end", err)
	if !created || late.Seq != 5 {
		t.Errorf("note after the end: seq %d created %v, want 5 and true", late.Seq, created)
	}
	_, _, err = f.engine.SendMessage(ctx, grace.Actor(), kustomer.SendMessageInput{ConversationID: c.ID, Body: "public after the end"})
	wantErr(t, "a public message after the end", err, kustomer.ErrConflict)

	for _, tt := range []struct {
		actor kustomer.Actor
		q     kustomer.MessageQuery
		want  []int64
	}{
		{cust, kustomer.MessageQuery{}, []int64{1, 3, 4}},
		{cust, kustomer.MessageQuery{AfterSeq: 1, Max: 1}, []int64{3}},
		{cust, kustomer.MessageQuery{Max: 1, Last: true}, []int64{4}},
		{grace.Actor(), kustomer.MessageQuery{}, []int64{1, 2, 3, 4, 5}},
		{assistant, kustomer.MessageQuery{Max: 1, Last: true}, []int64{5}},
	} {
		msgs, err := f.engine.GetMessages(ctx, tt.actor, c.ID, tt.q)
		must(t, "GetMessages", err)
		if got := seqs(msgs); !slices.Equal(got, tt.want) {
			t.Errorf("GetMessages as %s %+v: seqs %v, want %v", tt.actor.Type, tt.q, got, tt.want)
		}
	}
	if got := f.conversation(t, c.ID); got.CustomerUnread != 1 {
		t.Errorf("CustomerUnread = %d, want 1: only Grace's public answer", got.CustomerUnread)
	}
}

func testEngineInbox(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAdmin)
	gracesConv, cust := f.startForAgents(t, "mine", "contact")
	_, err := f.engine.Join(ctx, grace.Actor(), gracesConv.ID)
	must(t, "Join", err)
	waiting, _ := f.startForAgents(t, "waiting", "")
	billing, _ := f.startForAgents(t, "billing", "contact")
	_, err = f.engine.TransferToSkill(ctx, grace.Actor(), billing.ID, "billing")
	must(t, "TransferToSkill", err)
	ended, _ := f.startForAgents(t, "ended", "contact")
	_, err = f.engine.EndConversation(ctx, grace.Actor(), ended.ID)
	must(t, "EndConversation", err)
	bot, _ := f.start(t, "with the assistant")

	_, err = f.engine.Inbox(ctx, grace.Actor(), kustomer.ConversationFilter{Queue: "later", FormID: "nope", Skill: "cooking"}, 1, 10)
	wantValidation(t, "Inbox with an unknown queue, form and skill", err, "queue", "form", "skill")
	_, err = f.engine.Inbox(ctx, grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueOpen}, 1, 1000)
	wantValidation(t, "Inbox with a page too large", err, "pageSize")
	_, err = f.engine.Inbox(ctx, cust, kustomer.ConversationFilter{Queue: kustomer.QueueOpen}, 1, 10)
	wantErr(t, "Inbox as a customer", err, kustomer.ErrForbidden)

	tests := []struct {
		name  string
		actor kustomer.Actor
		f     kustomer.ConversationFilter
		want  []string
	}{
		{"mine", grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueMine}, []string{gracesConv.ID}},
		{"mine, of another agent", alan.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueMine}, []string{}},
		{"mine, of another agent's filter", alan.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueMine, AgentID: grace.ID}, []string{}},
		{"unassigned: oldest first", grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}, []string{waiting.ID, billing.ID}},
		{"unassigned of a skill", grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned, Skill: "billing"}, []string{billing.ID}},
		{"unassigned of a form", grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned, FormID: "contact"}, []string{billing.ID}},
		{"ended", alan.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueEnded}, []string{ended.ID}},
		{"open", alan.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueOpen}, []string{bot.ID, billing.ID, waiting.ID, gracesConv.ID}},
		{"every queue", assistant, kustomer.ConversationFilter{}, []string{bot.ID, ended.ID, billing.ID, waiting.ID, gracesConv.ID}},
	}
	for _, tt := range tests {
		p, err := f.engine.Inbox(ctx, tt.actor, tt.f, 1, 10)
		must(t, "Inbox "+tt.name, err)
		if got := convIDs(p.Conversations); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
			t.Errorf("Inbox %s: %v of %d, want %v", tt.name, got, p.Total, tt.want)
		}
	}
	p, err := f.engine.Inbox(ctx, alan.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueOpen}, 2, 3)
	must(t, "Inbox page 2", err)
	if got := convIDs(p.Conversations); !slices.Equal(got, []string{gracesConv.ID}) || p.Total != 4 || p.Pages.Previous == nil || p.Pages.Next != nil {
		t.Errorf("second page of 3: %v of %d, pages %s; want the last one of 4", got, p.Total, fmtPages(p.Pages))
	}

	// Unread counts are the viewing agent's own.
	last := f.conversation(t, gracesConv.ID).LastSeq
	must(t, "MarkRead", f.engine.MarkRead(ctx, grace.Actor(), gracesConv.ID, last))
	f.send(t, cust, gracesConv.ID, "", "are you there?")
	f.send(t, grace.Actor(), gracesConv.ID, "", "yes")
	f.send(t, cust, gracesConv.ID, "", "good")
	unread := func(actor kustomer.Actor, want int) {
		t.Helper()
		p, err := f.engine.Inbox(ctx, actor, kustomer.ConversationFilter{Queue: kustomer.QueueOpen, FormID: "contact"}, 1, 10)
		must(t, "Inbox", err)
		for _, c := range p.Conversations {
			if c.ID == gracesConv.ID {
				if c.AgentUnread != want {
					t.Errorf("AgentUnread for %s = %d, want %d", actor.Name, c.AgentUnread, want)
				}
				return
			}
		}
		t.Errorf("%s not listed for %s", gracesConv.ID, actor.Name)
	}
	unread(grace.Actor(), 2)
	unread(alan.Actor(), 3) // never read: the first message and both since
	must(t, "MarkRead", f.engine.MarkRead(ctx, alan.Actor(), gracesConv.ID, 2))
	unread(alan.Actor(), 2)
	unread(grace.Actor(), 2)
}

func testEngineCreateAgent(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	valid := kustomer.NewAgentInput{Email: "grace@example.com", Name: "Grace Hopper", Password: password}
	with := func(change func(in *kustomer.NewAgentInput)) kustomer.NewAgentInput {
		in := valid
		change(&in)
		return in
	}
	tests := []struct {
		name   string
		in     kustomer.NewAgentInput
		fields []string
	}{
		{"no email", with(func(in *kustomer.NewAgentInput) { in.Email = "" }), []string{"email"}},
		{"not an email", with(func(in *kustomer.NewAgentInput) { in.Email = "grace" }), []string{"email"}},
		{"a password of 11 characters", with(func(in *kustomer.NewAgentInput) { in.Password = "abcdefghijk" }), []string{"password"}},
		{"a password of 11 characters in 22 bytes", with(func(in *kustomer.NewAgentInput) { in.Password = strings.Repeat("é", 11) }), []string{"password"}},
		{"a password of 73 bytes", with(func(in *kustomer.NewAgentInput) { in.Password = strings.Repeat("p", 73) }), []string{"password"}},
		{"a password of 37 characters in 74 bytes", with(func(in *kustomer.NewAgentInput) { in.Password = strings.Repeat("é", 37) }), []string{"password"}},
		{"an unknown role", with(func(in *kustomer.NewAgentInput) { in.Role = "owner" }), []string{"role"}},
		{"an undefined skill", with(func(in *kustomer.NewAgentInput) { in.Skills = []string{"billing", "cooking"} }), []string{"skills"}},
		{"no name", with(func(in *kustomer.NewAgentInput) { in.Name = "  " }), []string{"name"}},
		{"a name over 100 characters", with(func(in *kustomer.NewAgentInput) { in.Name = strings.Repeat("n", 101) }), []string{"name"}},
		{"a name over 80 characters", with(func(in *kustomer.NewAgentInput) { in.Name = strings.Repeat("é", kustomer.MaxAgentNameLen+1) }), []string{"name"}},
		{"everything", kustomer.NewAgentInput{Email: "x", Password: "short", Role: "root", Skills: []string{"x"}}, []string{"email", "password", "role", "skills", "name"}},
	}
	for _, tt := range tests {
		_, err := f.engine.CreateAgent(ctx, kustomer.Actor{Type: kustomer.AuthorSystem}, tt.in)
		wantValidation(t, tt.name, err, tt.fields...)
	}
	if list, err := f.engine.Agents(ctx); err != nil || len(list) != 0 {
		t.Errorf("Agents after rejected creations: %d, %v; want none", len(list), err)
	}

	twelve := "twelve chars"
	grace, err := f.engine.CreateAgent(ctx, kustomer.Actor{Type: kustomer.AuthorSystem}, kustomer.NewAgentInput{
		Email: "  Grace@Example.COM ", Name: " Grace Hopper ", Password: twelve, Skills: []string{"tech", "billing", "tech"},
	})
	must(t, "CreateAgent", err)
	if !kustomer.ValidID(grace.ID) || grace.Email != "grace@example.com" || grace.Name != "Grace Hopper" || grace.Role != kustomer.RoleAgent ||
		!slices.Equal(grace.Skills, []string{"tech", "billing"}) || grace.Disabled || grace.CreatedAt.IsZero() {
		t.Errorf("created = %+v, want a valid id, lowercased email, trimmed name, role agent, skills once each, enabled", grace)
	}
	if grace.PasswordHash == "" || strings.Contains(grace.PasswordHash, twelve) || bcrypt.CompareHashAndPassword([]byte(grace.PasswordHash), []byte(twelve)) != nil {
		t.Errorf("password hash %q is not a bcrypt hash of the password", grace.PasswordHash)
	}
	if cost, err := bcrypt.Cost([]byte(grace.PasswordHash)); err != nil || cost != f.engine.PasswordCost {
		t.Errorf("bcrypt cost = %d (%v), want PasswordCost %d", cost, err, f.engine.PasswordCost)
	}
	got, err := f.engine.Agent(ctx, grace.ID)
	must(t, "Agent", err)
	checkAgent(t, "read back", got, grace)

	admin, err := f.engine.CreateAgent(ctx, kustomer.Actor{Type: kustomer.AuthorSystem}, kustomer.NewAgentInput{Email: "root@example.com", Name: "Root", Password: strings.Repeat("é", 36), Role: kustomer.RoleAdmin})
	must(t, "CreateAgent with a password of 72 bytes", err)
	if admin.Role != kustomer.RoleAdmin || len(admin.Skills) != 0 || admin.Skills == nil {
		t.Errorf("admin = %+v, want role admin and an empty skill list", admin)
	}

	_, err = f.engine.CreateAgent(ctx, kustomer.Actor{Type: kustomer.AuthorSystem}, with(func(in *kustomer.NewAgentInput) { in.Email = "GRACE@example.com"; in.Name = "Impostor" }))
	wantValidation(t, "CreateAgent with a taken email", err, "email")
	list, err := f.engine.Agents(ctx)
	must(t, "Agents", err)
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"Grace Hopper", "Root"}) {
		t.Errorf("Agents = %v, want [Grace Hopper Root]", names)
	}

	for _, id := range []string{kustomer.NewID(), "not-an-id", ""} {
		_, err := f.engine.Agent(ctx, id)
		wantErr(t, fmt.Sprintf("Agent(%q)", id), err, kustomer.ErrNotFound)
	}
}

func testEngineAuthenticate(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)

	got, err := f.engine.Authenticate(ctx, " Grace@Example.com ", password)
	must(t, "Authenticate", err)
	checkAgent(t, "authenticated", got, grace)

	for _, tt := range []struct{ name, email, password string }{
		{"a wrong password", "grace@example.com", password + "!"},
		{"the password in another case", "grace@example.com", strings.ToUpper(password)},
		{"no password", "grace@example.com", ""},
		{"a password over 72 bytes", "grace@example.com", password + strings.Repeat("!", 60)},
		{"an unknown email", "nobody@example.com", password},
	} {
		a, err := f.engine.Authenticate(ctx, tt.email, tt.password)
		if !errors.Is(err, kustomer.ErrBadCredentials) || a.ID != "" {
			t.Errorf("Authenticate with %s: %+v, %v; want ErrBadCredentials and no account", tt.name, a, err)
		}
	}

	disabled := true
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Disabled: &disabled})
	must(t, "UpdateAgent", err)
	a, err := f.engine.Authenticate(ctx, "grace@example.com", password)
	if !errors.Is(err, kustomer.ErrAccountDisabled) || a.ID != "" {
		t.Errorf("Authenticate a disabled account: %+v, %v; want ErrAccountDisabled and no account", a, err)
	}
	// Only the right password learns that the account is disabled.
	_, err = f.engine.Authenticate(ctx, "grace@example.com", "not the password")
	wantErr(t, "Authenticate a disabled account with a wrong password", err, kustomer.ErrBadCredentials)

	disabled = false
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Disabled: &disabled})
	must(t, "UpdateAgent", err)
	_, err = f.engine.Authenticate(ctx, "grace@example.com", password)
	must(t, "Authenticate after re-enabling", err)
}

func testEngineUpdateAgent(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent, "tech")
	c, _ := f.startForAgents(t, "hello", "contact")
	_, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()

	name := " Grace B. Hopper "
	skills := []string{"billing", "tech", "billing"}
	got, err := f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Name: &name, Skills: &skills})
	must(t, "UpdateAgent", err)
	want := grace
	want.Name, want.Skills, want.UpdatedAt = "Grace B. Hopper", []string{"billing", "tech"}, got.UpdatedAt
	if !got.UpdatedAt.After(grace.UpdatedAt) {
		t.Errorf("UpdatedAt %v, want after %v", got.UpdatedAt, grace.UpdatedAt)
	}
	checkAgent(t, "updated", got, want)
	read, err := f.engine.Agent(ctx, grace.ID)
	must(t, "Agent", err)
	checkAgent(t, "updated, read back", read, want)
	if ev := nextEvent(t, all); ev.Type != kustomer.EventAgentUpdated || ev.Agent == nil || ev.Agent.Name != "Grace B. Hopper" || ev.ConversationID != kustomer.AllConversations {
		t.Errorf("event = %+v, want agent.updated with the new name", ev)
	}
	if got := f.conversation(t, c.ID).AssigneeName; got != "Grace B. Hopper" {
		t.Errorf("assignee name = %q after the rename, want Grace B. Hopper", got)
	}

	// A new password replaces the old one.
	got, err = f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Password: "a new password"})
	must(t, "UpdateAgent password", err)
	if got.Name != "Grace B. Hopper" || !slices.Equal(got.Skills, want.Skills) {
		t.Errorf("changing the password changed more: %+v", got)
	}
	_, err = f.engine.Authenticate(ctx, "grace@example.com", "a new password")
	must(t, "Authenticate with the new password", err)
	_, err = f.engine.Authenticate(ctx, "grace@example.com", password)
	wantErr(t, "Authenticate with the old password", err, kustomer.ErrBadCredentials)
	nextEvent(t, all)
	want = got

	empty, role, undefined := "  ", kustomer.Role("owner"), []string{"cooking"}
	for _, tt := range []struct {
		name   string
		in     kustomer.UpdateAgentInput
		fields []string
	}{
		{"no name", kustomer.UpdateAgentInput{Name: &empty}, []string{"name"}},
		{"an unknown role", kustomer.UpdateAgentInput{Role: &role}, []string{"role"}},
		{"an undefined skill", kustomer.UpdateAgentInput{Skills: &undefined}, []string{"skills"}},
		{"a short password", kustomer.UpdateAgentInput{Password: "short"}, []string{"password"}},
		{"everything", kustomer.UpdateAgentInput{Name: &empty, Role: &role, Skills: &undefined, Password: strings.Repeat("p", 73)}, []string{"name", "role", "skills", "password"}},
	} {
		before := len(f.broker.published())
		_, err := f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, tt.in)
		wantValidation(t, "UpdateAgent with "+tt.name, err, tt.fields...)
		noEvents(t, f, "UpdateAgent with "+tt.name, before)
	}
	read, err = f.engine.Agent(ctx, grace.ID)
	must(t, "Agent", err)
	checkAgent(t, "after refused updates", read, want)
	// The input is checked, not rewritten: a form shows it back as typed.
	if empty != "  " || !slices.Equal(undefined, []string{"cooking"}) || name != " Grace B. Hopper " || !slices.Equal(skills, []string{"billing", "tech", "billing"}) {
		t.Errorf("UpdateAgent changed its input: name %q, skills %q, %q", name, skills, undefined)
	}

	_, err = f.engine.UpdateAgent(ctx, root.Actor(), kustomer.NewID(), kustomer.UpdateAgentInput{Name: &name})
	wantErr(t, "UpdateAgent of an unknown agent", err, kustomer.ErrNotFound)
}

func testEngineLastAdmin(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	yes, no := true, false
	agentRole, adminRole := kustomer.RoleAgent, kustomer.RoleAdmin
	before := len(f.broker.published())

	_, err := f.engine.UpdateAgent(ctx, grace.Actor(), root.ID, kustomer.UpdateAgentInput{Disabled: &yes})
	wantErr(t, "disabling the only admin", err, kustomer.ErrConflict)
	_, err = f.engine.UpdateAgent(ctx, grace.Actor(), root.ID, kustomer.UpdateAgentInput{Role: &agentRole})
	wantErr(t, "demoting the only admin", err, kustomer.ErrConflict)
	got, err := f.engine.Agent(ctx, root.ID)
	must(t, "Agent", err)
	checkAgent(t, "the only admin after refused changes", got, root)
	noEvents(t, f, "refused changes to the only admin", before)

	// A disabled admin does not count.
	ops := f.newAgent(t, "Ops", "ops@example.com", kustomer.RoleAdmin)
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), ops.ID, kustomer.UpdateAgentInput{Disabled: &yes})
	must(t, "disabling one of two admins", err)
	_, err = f.engine.UpdateAgent(ctx, grace.Actor(), root.ID, kustomer.UpdateAgentInput{Disabled: &yes})
	wantErr(t, "disabling the only active admin", err, kustomer.ErrConflict)
	opsName := "Ops team"
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), ops.ID, kustomer.UpdateAgentInput{Name: &opsName, Disabled: &yes})
	must(t, "changing a disabled admin while one is active", err)

	// With another active admin, either may go.
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), ops.ID, kustomer.UpdateAgentInput{Disabled: &no})
	must(t, "re-enabling an admin", err)
	_, err = f.engine.UpdateAgent(ctx, ops.Actor(), root.ID, kustomer.UpdateAgentInput{Role: &agentRole})
	must(t, "demoting one of two admins", err)
	_, err = f.engine.UpdateAgent(ctx, ops.Actor(), ops.ID, kustomer.UpdateAgentInput{Disabled: &yes})
	wantErr(t, "disabling the last admin left", err, kustomer.ErrConflict)
	// Promoting someone first makes room.
	_, err = f.engine.UpdateAgent(ctx, ops.Actor(), grace.ID, kustomer.UpdateAgentInput{Role: &adminRole})
	must(t, "promoting an agent", err)
	_, err = f.engine.UpdateAgent(ctx, grace.Actor(), ops.ID, kustomer.UpdateAgentInput{Disabled: &yes})
	must(t, "disabling an admin once another is active", err)
}

func testEngineDisableRequeues(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent, "billing")
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAgent)
	general, cust1 := f.startForAgents(t, "general", "contact")
	billing, _ := f.startForAgents(t, "billing", "contact")
	_, err := f.engine.TransferToSkill(ctx, root.Actor(), billing.ID, "billing")
	must(t, "TransferToSkill", err)
	endedConv, _ := f.startForAgents(t, "ended", "contact")
	alans, _ := f.startForAgents(t, "alan's", "contact")
	for _, id := range []string{general.ID, billing.ID, endedConv.ID} {
		_, err := f.engine.Join(ctx, grace.Actor(), id)
		must(t, "Join", err)
	}
	_, err = f.engine.Join(ctx, alan.Actor(), alans.ID)
	must(t, "Join", err)
	_, err = f.engine.EndConversation(ctx, grace.Actor(), endedConv.ID)
	must(t, "EndConversation", err)
	wantEnded, wantAlans := f.conversation(t, endedConv.ID), f.conversation(t, alans.ID)
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()

	yes := true
	got, err := f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Disabled: &yes})
	must(t, "UpdateAgent", err)
	if !got.Disabled {
		t.Errorf("updated agent is not disabled")
	}

	// Each open conversation gets its system message then its update; the
	// account's own event comes last, once its conversations are requeued.
	requeued := map[string]bool{}
	for range 2 {
		ev := nextEvent(t, all)
		if ev.Type != kustomer.EventMessageCreated || ev.Message == nil {
			t.Fatalf("event = %+v, want message.created", ev)
		}
		m := ev.Message
		if m.SentBy.Type != kustomer.AuthorSystem || !strings.Contains(m.Body, "Grace Hopper") || !strings.Contains(m.Body, "left") || strings.Contains(m.Body, grace.ID) {
			t.Errorf("system message %+v, want one by the system saying Grace Hopper left", m)
		}
		ev = nextEvent(t, all)
		if ev.Type != kustomer.EventConversationUpdated || ev.Conversation == nil || ev.ConversationID != m.ConversationID || ev.Conversation.AssigneeID != "" {
			t.Fatalf("event = %+v, want conversation.updated of %s with nobody assigned", ev, m.ConversationID)
		}
		requeued[m.ConversationID] = true
	}
	if !requeued[general.ID] || !requeued[billing.ID] {
		t.Errorf("requeued %v, want %s and %s", requeued, general.ID, billing.ID)
	}
	if ev := nextEvent(t, all); ev.Type != kustomer.EventAgentUpdated || ev.Agent == nil || ev.Agent.ID != grace.ID || !ev.Agent.Disabled {
		t.Errorf("last event = %+v, want agent.updated of Grace, disabled", ev)
	}

	p, err := f.engine.Inbox(ctx, root.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}, 1, 10)
	must(t, "Inbox", err)
	if got := convIDs(p.Conversations); !slices.Equal(got, []string{general.ID, billing.ID}) {
		t.Errorf("unassigned = %v, want [%s %s]", got, general.ID, billing.ID)
	}
	if c := f.conversation(t, billing.ID); c.Skill != "billing" {
		t.Errorf("requeued billing conversation is in queue %q, want billing", c.Skill)
	}
	p, err = f.engine.Inbox(ctx, grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueMine}, 1, 10)
	must(t, "Inbox", err)
	if len(p.Conversations) != 0 {
		t.Errorf("disabled agent still has %d open conversations", len(p.Conversations))
	}
	checkConversation(t, "ended conversation of the disabled agent", f.conversation(t, endedConv.ID), wantEnded)
	checkConversation(t, "another agent's conversation", f.conversation(t, alans.ID), wantAlans)
	// The customer reads why in the transcript.
	msgs, err := f.engine.GetMessages(ctx, cust1, general.ID, kustomer.MessageQuery{Max: 1, Last: true})
	must(t, "GetMessages", err)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "left") {
		t.Errorf("customer's last message = %+v, want the system message saying Grace left", msgs)
	}
}

func testEngineEnsureAdmin(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	count := func() int {
		t.Helper()
		list, err := f.engine.Agents(ctx)
		must(t, "Agents", err)
		return len(list)
	}
	for _, creds := range [][2]string{{"", ""}, {"admin@example.com", ""}, {"", password}} {
		created, err := f.engine.EnsureAdmin(ctx, kustomer.NewAgentInput{Email: creds[0], Name: "Dana Reyes", Password: creds[1]})
		if err != nil || created {
			t.Errorf("EnsureAdmin(%q, %q) without credentials: created %v, %v; want false, nil", creds[0], creds[1], created, err)
		}
	}
	// The name customers read is required: never the email's local part.
	for _, name := range []string{"", "  ", strings.Repeat("n", kustomer.MaxAgentNameLen+1)} {
		created, err := f.engine.EnsureAdmin(ctx, kustomer.NewAgentInput{Email: "admin@example.com", Name: name, Password: password})
		wantValidation(t, fmt.Sprintf("EnsureAdmin with the name %q", name), err, "name")
		if created {
			t.Errorf("EnsureAdmin with the name %q: created = true", name)
		}
	}
	if n := count(); n != 0 {
		t.Errorf("%d accounts after EnsureAdmin without credentials, want 0", n)
	}

	// An agent is no admin: the first admin is still created.
	f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	created, err := f.engine.EnsureAdmin(ctx, kustomer.NewAgentInput{Email: "Admin@Example.com", Name: " Dana Reyes ", Password: password, Role: kustomer.RoleAgent})
	must(t, "EnsureAdmin", err)
	if !created {
		t.Errorf("EnsureAdmin with no admin: created = false")
	}
	a, err := f.engine.Authenticate(ctx, "admin@example.com", password)
	must(t, "Authenticate the first admin", err)
	if a.Role != kustomer.RoleAdmin || a.Email != "admin@example.com" || a.Name != "Dana Reyes" || a.Disabled {
		t.Errorf("first admin = %+v, want an enabled admin named Dana Reyes", a)
	}

	created, err = f.engine.EnsureAdmin(ctx, kustomer.NewAgentInput{Email: "other@example.com", Name: "Other", Password: "another password"})
	if err != nil || created {
		t.Errorf("EnsureAdmin with an admin: created %v, %v; want false, nil", created, err)
	}
	if n := count(); n != 2 {
		t.Errorf("%d accounts, want 2", n)
	}
	_, err = f.engine.Authenticate(ctx, "other@example.com", "another password")
	wantErr(t, "Authenticate an account EnsureAdmin did not create", err, kustomer.ErrBadCredentials)
	_, err = f.engine.Authenticate(ctx, "admin@example.com", password)
	must(t, "the first admin's password is unchanged", err)
}

func testEngineTakeOverFromAssistant(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	for _, route := range []struct {
		name string
		do   func(id string) (kustomer.Conversation, error)
	}{
		{"join", func(id string) (kustomer.Conversation, error) { return f.engine.Join(ctx, grace.Actor(), id) }},
		{"transfer to skill", func(id string) (kustomer.Conversation, error) {
			return f.engine.TransferToSkill(ctx, grace.Actor(), id, "billing")
		}},
	} {
		c, _ := f.start(t, "hello") // with an assistant: in assistant mode
		if !c.IsInAssistantMode {
			t.Fatalf("%s: conversation with an assistant not in assistant mode", route.name)
		}
		got, err := route.do(c.ID)
		must(t, route.name, err)
		if got.IsInAssistantMode {
			t.Errorf("%s: still in assistant mode after an agent took over", route.name)
		}
		checkConversation(t, route.name+", read back", f.conversation(t, c.ID), got)
	}
}

func testEngineReopenDisabledAssignee(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	admin := f.newAgent(t, "Ada Admin", "admin@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	c, cust := f.startForAgents(t, "hello", "contact")
	_, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	_, err = f.engine.EndConversation(ctx, cust, c.ID)
	must(t, "EndConversation", err)
	disabled := true
	_, err = f.engine.UpdateAgent(ctx, admin.Actor(), grace.ID, kustomer.UpdateAgentInput{Disabled: &disabled})
	must(t, "UpdateAgent", err)

	got, err := f.engine.ReopenConversation(ctx, admin.Actor(), c.ID)
	must(t, "ReopenConversation", err)
	if got.Ended || got.AssigneeID != "" {
		t.Errorf("reopened with a disabled assignee: ended %v assignee %q, want open and back in the queue", got.Ended, got.AssigneeID)
	}
	checkConversation(t, "reopened, read back", f.conversation(t, c.ID), got)
	page, err := f.engine.Inbox(ctx, admin.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}, 1, 10)
	must(t, "Inbox", err)
	found := false
	for _, x := range page.Conversations {
		found = found || x.ID == c.ID
	}
	if !found {
		t.Errorf("reopened conversation of a disabled agent is not in the unassigned queue")
	}
}

func testEngineSessions(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAgent)
	start := func(a kustomer.Agent) kustomer.AgentSession {
		t.Helper()
		s, err := f.engine.StartAgentSession(ctx, a.ID)
		must(t, "StartAgentSession "+a.Name, err)
		return s
	}
	live := func(what string, a kustomer.Agent, s kustomer.AgentSession) {
		t.Helper()
		got, err := f.engine.AgentBySession(ctx, a.ID, s.ID)
		if err != nil || got.ID != a.ID {
			t.Errorf("%s: AgentBySession = %s, %v; want %s", what, got.ID, err, a.Name)
		}
	}
	ended := func(what string, a kustomer.Agent, s kustomer.AgentSession, want error) {
		t.Helper()
		got, err := f.engine.AgentBySession(ctx, a.ID, s.ID)
		wantErr(t, what, err, want)
		if got.ID != "" {
			t.Errorf("%s: an ended session returned the account %s", what, got.ID)
		}
	}
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()
	announced := func(what string, a kustomer.Agent) {
		t.Helper()
		if ev := nextEvent(t, all); ev.Type != kustomer.EventAgentUpdated || ev.Agent == nil || ev.Agent.ID != a.ID {
			t.Errorf("%s: event %+v, want agent.updated for %s", what, ev, a.Name)
		}
	}

	g1, g2, a1 := start(grace), start(grace), start(alan)
	if len(g1.ID) != 64 || g1.ID == g2.ID || g1.AgentID != grace.ID || !g1.ExpiresAt.Equal(g1.CreatedAt.Add(kustomer.AgentSessionLength)) {
		t.Errorf("session %+v: want a fresh 64-digit id, Grace's, lasting AgentSessionLength", g1)
	}
	live("a new session", grace, g1)
	ended("another agent's session", alan, g1, kustomer.ErrSessionEnded)
	ended("an unknown session", grace, kustomer.AgentSession{ID: strings.Repeat("a", 64)}, kustomer.ErrSessionEnded)
	ended("a malformed session id", grace, kustomer.AgentSession{ID: "x"}, kustomer.ErrSessionEnded)
	ended("an unknown agent", kustomer.Agent{ID: kustomer.NewID()}, g1, kustomer.ErrSessionEnded)

	// Signing out ends one session.
	must(t, "EndAgentSession", f.engine.EndAgentSession(ctx, grace.ID, g1.ID))
	announced("EndAgentSession", grace)
	ended("a signed-out session", grace, g1, kustomer.ErrSessionEnded)
	live("Grace's other session", grace, g2)

	// A change of name keeps the sessions; a new password ends them, all but
	// the one named to keep.
	name := "Grace B. Hopper"
	_, err := f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Name: &name})
	must(t, "UpdateAgent name", err)
	announced("rename", grace)
	live("after a rename", grace, g2)
	if got, _ := f.engine.AgentBySession(ctx, grace.ID, g2.ID); got.Name != name {
		t.Errorf("AgentBySession after a rename: name %q, want %q", got.Name, name)
	}
	g3 := start(grace)
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Password: "a new password", KeepSessionID: g3.ID})
	must(t, "UpdateAgent password", err)
	announced("password change", grace)
	ended("after the password changed", grace, g2, kustomer.ErrSessionEnded)
	live("the session kept through the password change", grace, g3)
	live("another agent's session", alan, a1)

	// The agent's own change checks the current password.
	err = f.engine.ChangePassword(ctx, grace.ID, g3.ID, "not the password", "another new password")
	wantValidation(t, "ChangePassword with a wrong current password", err, "current")
	err = f.engine.ChangePassword(ctx, grace.ID, g3.ID, "a new password", "short")
	wantValidation(t, "ChangePassword to a short password", err, "password")
	live("after refused password changes", grace, g3)
	g4 := start(grace)
	must(t, "ChangePassword", f.engine.ChangePassword(ctx, grace.ID, g3.ID, "a new password", "another new password"))
	announced("ChangePassword", grace)
	live("the session that changed the password", grace, g3)
	ended("another session after ChangePassword", grace, g4, kustomer.ErrSessionEnded)
	_, err = f.engine.Authenticate(ctx, "grace@example.com", "another new password")
	must(t, "Authenticate with the changed password", err)

	// Signing out everywhere ends every session of the agent.
	g5 := start(grace)
	wantErr(t, "EndAgentSessions by a customer", f.engine.EndAgentSessions(ctx, kustomer.CustomerActor(kustomer.NewID()), grace.ID), kustomer.ErrForbidden)
	live("after a refused EndAgentSessions", grace, g5)
	wantErr(t, "EndAgentSessions of an unknown agent", f.engine.EndAgentSessions(ctx, root.Actor(), kustomer.NewID()), kustomer.ErrNotFound)
	must(t, "EndAgentSessions", f.engine.EndAgentSessions(ctx, grace.Actor(), grace.ID))
	announced("EndAgentSessions", grace)
	ended("after signing out everywhere", grace, g3, kustomer.ErrSessionEnded)
	ended("after signing out everywhere", grace, g5, kustomer.ErrSessionEnded)
	live("another agent's session", alan, a1)

	// Disabling ends the sessions, and says why; enabling does not bring
	// them back.
	a2 := start(alan)
	disabled := true
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), alan.ID, kustomer.UpdateAgentInput{Disabled: &disabled, KeepSessionID: a2.ID})
	must(t, "disable", err)
	announced("disable", alan)
	ended("a disabled agent's session", alan, a1, kustomer.ErrAccountDisabled)
	ended("a disabled agent's kept session", alan, a2, kustomer.ErrAccountDisabled)
	disabled = false
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), alan.ID, kustomer.UpdateAgentInput{Disabled: &disabled})
	must(t, "enable", err)
	ended("a session from before the account was disabled", alan, a1, kustomer.ErrSessionEnded)

	// A session expires after AgentSessionLength.
	clock := &steppingClock{now: t0}
	f.engine.Now = clock.Now
	g6 := start(grace)
	live("a fresh session", grace, g6)
	clock.mu.Lock()
	clock.now = clock.now.Add(kustomer.AgentSessionLength)
	clock.mu.Unlock()
	ended("an expired session", grace, g6, kustomer.ErrSessionEnded)
}

// testEngineTransferForms: the agent side's transfer takes an agent and a
// skill together (the agent answers, in that queue), neither (back to the
// queue), or suggests an agent, who finds the conversation in their queue
// and accepts it; nobody else can accept it.
func testEngineTransferForms(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	alan := f.newAgent(t, "Alan Turing", "alan@example.com", kustomer.RoleAgent)
	c, _ := f.startForAgents(t, "hello", "contact")

	got, err := f.engine.Transfer(ctx, grace.Actor(), c.ID, kustomer.TransferInput{AgentID: alan.ID, Skill: "billing"})
	must(t, "Transfer to an agent and a skill", err)
	if got.AssigneeID != alan.ID || got.Skill != "billing" {
		t.Errorf("agent and skill: assignee %q skill %q, want alan and billing", got.AssigneeID, got.Skill)
	}
	got, err = f.engine.Transfer(ctx, grace.Actor(), c.ID, kustomer.TransferInput{})
	must(t, "Transfer to neither", err)
	if got.AssigneeID != "" || got.Skill != "billing" {
		t.Errorf("neither: assignee %q skill %q, want nobody, still billing", got.AssigneeID, got.Skill)
	}
	_, err = f.engine.Transfer(ctx, grace.Actor(), c.ID, kustomer.TransferInput{Suggest: true})
	wantValidation(t, "a suggestion without an agent", err, "agentId")
	_, err = f.engine.Transfer(ctx, grace.Actor(), c.ID, kustomer.TransferInput{AgentID: "nobody", Skill: "billing"})
	wantValidation(t, "Transfer to an unknown agent", err, "agentId")
	_, err = f.engine.Transfer(ctx, grace.Actor(), c.ID, kustomer.TransferInput{AgentID: alan.ID, Skill: "cooking"})
	wantValidation(t, "Transfer to an unknown skill", err, "skill")

	got, err = f.engine.Transfer(ctx, grace.Actor(), c.ID, kustomer.TransferInput{AgentID: alan.ID, Suggest: true})
	must(t, "Transfer suggested", err)
	if got.AssigneeID != "" || got.SuggestedAgentID != alan.ID {
		t.Errorf("suggested: assignee %q suggested %q, want nobody and alan", got.AssigneeID, got.SuggestedAgentID)
	}
	checkConversation(t, "suggested, read back", f.conversation(t, c.ID), got)
	mine, err := f.engine.Inbox(ctx, alan.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueMine}, 1, 10)
	must(t, "Inbox", err)
	if ids := convIDs(mine.Conversations); !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("alan's queue = %v, want the suggested conversation", ids)
	}
	_, err = f.engine.AcceptSuggestion(ctx, grace.Actor(), c.ID)
	var conflict *kustomer.ConflictError
	if !errors.As(err, &conflict) || conflict.Code != "not_suggested" {
		t.Errorf("accepted by another agent: %v, want not_suggested", err)
	}
	got, err = f.engine.AcceptSuggestion(ctx, alan.Actor(), c.ID)
	must(t, "AcceptSuggestion", err)
	if got.AssigneeID != alan.ID || got.SuggestedAgentID != "" {
		t.Errorf("accepted: assignee %q suggested %q, want alan and none", got.AssigneeID, got.SuggestedAgentID)
	}
	_, err = f.engine.AcceptSuggestion(ctx, alan.Actor(), c.ID)
	if !errors.As(err, &conflict) {
		t.Errorf("accepted twice: %v, want a conflict", err)
	}
}

// testEngineTTR: a conversation's time to respond follows its type (the
// form's target, halved for PRIORITIZED, quartered for URGENT, or CUSTOM
// seconds) from the customer's oldest unanswered message, a manual
// expected time overrides it, and the unassigned queue puts the answer
// due first first.
func testEngineTTR(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace Hopper", "grace@example.com", kustomer.RoleAgent)
	first, _ := f.startForAgents(t, "first", "contact")
	second, _ := f.startForAgents(t, "second", "contact")
	queue := func() []string {
		t.Helper()
		p, err := f.engine.Inbox(ctx, grace.Actor(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}, 1, 10)
		must(t, "Inbox", err)
		return convIDs(p.Conversations)
	}
	if got := f.conversation(t, first.ID); got.TTR.Type != kustomer.TTRNormal || got.TTREffective == nil ||
		!got.TTREffective.Equal(got.AwaitingSince.Add(kustomer.DefaultTTRTarget)) {
		t.Errorf("a new conversation: ttr %+v due %v, want NORMAL due the form's target after it started waiting", got.TTR, got.TTREffective)
	}
	if q := queue(); !slices.Equal(q, []string{first.ID, second.ID}) {
		t.Errorf("queue %v, want first come first served", q)
	}
	got, err := f.engine.SetTTR(ctx, grace.Actor(), second.ID, kustomer.TTRUrgent, 0)
	must(t, "SetTTR URGENT", err)
	if got.TTR.Type != kustomer.TTRUrgent || got.TTREffective == nil || !got.TTREffective.Equal(got.AwaitingSince.Add(kustomer.DefaultTTRTarget/4)) {
		t.Errorf("urgent: ttr %+v due %v, want a quarter of the target", got.TTR, got.TTREffective)
	}
	checkConversation(t, "urgent, read back", f.conversation(t, second.ID), got)
	if q := queue(); !slices.Equal(q, []string{second.ID, first.ID}) {
		t.Errorf("queue %v, want the urgent one first", q)
	}
	got, err = f.engine.SetTTR(ctx, grace.Actor(), second.ID, kustomer.TTRCustom, 3600)
	must(t, "SetTTR CUSTOM", err)
	if got.TTR.Value != 3600 || !got.TTREffective.Equal(got.AwaitingSince.Add(time.Hour)) {
		t.Errorf("custom: ttr %+v due %v, want an hour", got.TTR, got.TTREffective)
	}
	if q := queue(); !slices.Equal(q, []string{first.ID, second.ID}) {
		t.Errorf("queue %v, want the one due in an hour last", q)
	}
	soon := f.engine.Now().Add(30 * time.Second)
	got, err = f.engine.SetManualETTR(ctx, grace.Actor(), second.ID, &soon)
	must(t, "SetManualETTR", err)
	if got.TTR.ManualETTR == nil || !got.TTREffective.Equal(soon.Truncate(time.Millisecond)) || got.TTR.Type != kustomer.TTRCustom {
		t.Errorf("manual: ttr %+v due %v, want %v, the type kept", got.TTR, got.TTREffective, soon)
	}
	if q := queue(); !slices.Equal(q, []string{second.ID, first.ID}) {
		t.Errorf("queue %v, want the manually expected one first", q)
	}
	got, err = f.engine.SetManualETTR(ctx, grace.Actor(), second.ID, nil)
	must(t, "SetManualETTR clear", err)
	if got.TTR.ManualETTR != nil || !got.TTREffective.Equal(got.AwaitingSince.Add(time.Hour)) {
		t.Errorf("cleared: ttr %+v due %v", got.TTR, got.TTREffective)
	}

	_, err = f.engine.SetTTR(ctx, grace.Actor(), first.ID, kustomer.TTRCustom, 0)
	wantValidation(t, "CUSTOM without seconds", err, "value")
	_, err = f.engine.SetTTR(ctx, grace.Actor(), first.ID, "SOON", 0)
	wantValidation(t, "an unknown type", err, "ttrType")
	past := f.engine.Now().Add(-time.Minute)
	_, err = f.engine.SetManualETTR(ctx, grace.Actor(), first.ID, &past)
	wantValidation(t, "a manual time in the past", err, "time")
	_, err = f.engine.SetTTR(ctx, kustomer.CustomerActor(first.CustomerID), first.ID, kustomer.TTRUrgent, 0)
	wantErr(t, "SetTTR by the customer", err, kustomer.ErrForbidden)
	_, err = f.engine.EndConversation(ctx, grace.Actor(), first.ID)
	must(t, "EndConversation", err)
	_, err = f.engine.SetTTR(ctx, grace.Actor(), first.ID, kustomer.TTRUrgent, 0)
	var conflict *kustomer.ConflictError
	if !errors.As(err, &conflict) {
		t.Errorf("SetTTR on an ended conversation: %v, want a conflict", err)
	}
	if got := f.conversation(t, first.ID); got.TTREffective != nil {
		t.Errorf("an ended conversation is due %v, want never", got.TTREffective)
	}
}
