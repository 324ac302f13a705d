package kustomertest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// newAgent returns an account as the Engine would hand it to the store.
func newAgent(name, email string, role kustomer.Role, skills ...string) kustomer.Agent {
	if skills == nil {
		skills = []string{}
	}
	return kustomer.Agent{
		ID: kustomer.NewID(), Email: email, Name: name, Role: role, Skills: skills,
		CreatedAt: at(0), UpdatedAt: at(0),
		PasswordHash: "$2a$04$" + name, // any opaque string: the store does not interpret it
	}
}

// saveAgent stores a and fails the test on error.
func saveAgent(t testing.TB, s kustomer.Store, a kustomer.Agent) kustomer.Agent {
	t.Helper()
	must(t, "SaveAgent "+a.Name, s.SaveAgent(t.Context(), a))
	return a
}

// assignTo stores an assignment with its system message and fails the test
// on error.
func assignTo(t testing.TB, s kustomer.Store, convID string, a kustomer.Assignment, n int) (kustomer.Conversation, kustomer.Message) {
	t.Helper()
	c, m, err := s.UpdateAssignment(t.Context(), convID, a, at(n), systemEvent(convID, "assigned", at(n)))
	must(t, "UpdateAssignment", err)
	return c, m
}

// endAt ends a conversation at at(n) and fails the test on error.
func endAt(t testing.TB, s kustomer.Store, convID string, n int) kustomer.Conversation {
	t.Helper()
	c, _, _, err := s.EndConversation(t.Context(), convID, kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1"}, at(n), systemEvent(convID, "ended", at(n)))
	must(t, "EndConversation", err)
	return c
}

// privateNote is an agents' note on conversationID. Its Preview is set, as a
// careless caller might: the store must ignore it.
func privateNote(conversationID, body string, n int) kustomer.NewMessage {
	nm := newMessage(conversationID, kustomer.DirectionOut, body, at(n))
	nm.Private = true
	return nm
}

// listIDs lists the ids of the conversations matching f and fails the test
// unless total agrees with the list.
func listIDs(t testing.TB, s kustomer.Store, f kustomer.ConversationFilter) []string {
	t.Helper()
	list, total, err := s.Conversations(t.Context(), f, 0, 100)
	must(t, fmt.Sprintf("Conversations(%+v)", f), err)
	if total != len(list) {
		t.Errorf("Conversations(%+v): total %d, %d listed", f, total, len(list))
	}
	return convIDs(list)
}

func testUpdateAssignment(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	grace := saveAgent(t, s, newAgent("Grace Hopper", "grace@example.com", kustomer.RoleAgent))
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))

	ev := systemEvent(c.ID, "Grace Hopper joined the conversation.", at(10))
	got, m, err := s.UpdateAssignment(ctx, c.ID, kustomer.Assignment{AssigneeID: grace.ID, Skill: "billing"}, at(10), ev)
	must(t, "UpdateAssignment", err)
	wantMsg := ev.Message
	wantMsg.Seq = 2
	checkMessage(t, "assignment event", m, wantMsg)
	// The event is in the transcript, but it is not activity: preview,
	// last activity and the customer's unread count stay.
	want := c
	want.AssigneeID, want.AssigneeName, want.Skill = grace.ID, "Grace Hopper", "billing"
	want.LastSeq, want.UpdatedAt = 2, at(10)
	checkConversation(t, "assigned", got, want)
	checkConversation(t, "assigned, read back", getConversation(t, s, c.ID), want)
	if msgs := allMessages(t, s, c.ID); len(msgs) != 2 {
		t.Errorf("%d messages after the assignment, want 2", len(msgs))
	} else {
		checkMessage(t, "assignment event read back", msgs[1], wantMsg)
	}

	// The assignee's name is read from the account, not copied.
	grace.Name = "Grace B. Hopper"
	saveAgent(t, s, grace)
	want.AssigneeName = "Grace B. Hopper"
	checkConversation(t, "after the agent was renamed", getConversation(t, s, c.ID), want)
	list, _, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: c.CustomerID}, 0, 10)
	must(t, "Conversations", err)
	if len(list) != 1 || list[0].AssigneeName != "Grace B. Hopper" {
		t.Errorf("listed assignee = %v, want Grace B. Hopper", list)
	}

	// Back to the billing queue, then to the general one.
	got, m = assignTo(t, s, c.ID, kustomer.Assignment{Skill: "billing"}, 20)
	want.AssigneeID, want.AssigneeName, want.LastSeq, want.UpdatedAt = "", "", 3, at(20)
	checkConversation(t, "unassigned", got, want)
	if m.Seq != 3 {
		t.Errorf("second event seq = %d, want 3", m.Seq)
	}
	got, _ = assignTo(t, s, c.ID, kustomer.Assignment{}, 25)
	want.Skill, want.LastSeq, want.UpdatedAt = "", 4, at(25)
	checkConversation(t, "general queue", got, want)

	ended := endAt(t, s, c.ID, 30)
	_, m, err = s.UpdateAssignment(ctx, c.ID, kustomer.Assignment{AssigneeID: grace.ID}, at(40), systemEvent(c.ID, "joined", at(40)))
	wantErr(t, "UpdateAssignment of an ended conversation", err, kustomer.ErrConflict)
	if m.Seq != 0 {
		t.Errorf("UpdateAssignment of an ended conversation returned an event with seq %d", m.Seq)
	}
	checkConversation(t, "ended, after a refused assignment", getConversation(t, s, c.ID), ended)
}

func testReopenConversation(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	endAt(t, s, c.ID, 10)
	rated, err := s.RateConversation(ctx, c.ID, kustomer.Satisfaction{Rating: 2, Comment: "slow", CreatedAt: at(20)})
	must(t, "RateConversation", err)

	ev := systemEvent(c.ID, "The conversation was reopened.", at(30))
	got, m, changed, err := s.ReopenConversation(ctx, c.ID, at(30), ev)
	must(t, "ReopenConversation", err)
	if !changed {
		t.Errorf("reopening an ended conversation: changed = false")
	}
	wantMsg := ev.Message
	wantMsg.Seq = 3
	checkMessage(t, "reopen event", m, wantMsg)
	want := rated
	want.Ended, want.EndedAt, want.EndedBy, want.Satisfaction = false, nil, nil, nil
	want.LastSeq, want.UpdatedAt = 3, at(30)
	checkConversation(t, "reopened", got, want)
	checkConversation(t, "reopened, read back", getConversation(t, s, c.ID), want)

	got, m, changed, err = s.ReopenConversation(ctx, c.ID, at(40), systemEvent(c.ID, "reopened again", at(40)))
	must(t, "ReopenConversation of an open conversation", err)
	if changed || m.ID != "" {
		t.Errorf("reopening an open conversation: changed %v, event %+v; want false and none", changed, m)
	}
	checkConversation(t, "reopened twice", got, want)
	if n := len(allMessages(t, s, c.ID)); n != 3 {
		t.Errorf("%d messages after reopening twice, want 3", n)
	}

	// Open again: it takes messages, and can be ended and rated anew.
	if m := appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "one more thing", at(50))); m.Seq != 4 {
		t.Errorf("message after reopening: seq %d, want 4", m.Seq)
	}
	endAt(t, s, c.ID, 60)
	got, err = s.RateConversation(ctx, c.ID, kustomer.Satisfaction{Rating: 5, CreatedAt: at(70)})
	must(t, "RateConversation after ending again", err)
	if got.Satisfaction == nil || got.Satisfaction.Rating != 5 {
		t.Errorf("second rating = %s, want 5", fmtSatisfaction(got.Satisfaction))
	}
}

func testRateConversation(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	_, err := s.RateConversation(ctx, c.ID, kustomer.Satisfaction{Rating: 5, CreatedAt: at(5)})
	wantErr(t, "RateConversation of an open conversation", err, kustomer.ErrConflict)
	if got := getConversation(t, s, c.ID); got.Satisfaction != nil {
		t.Errorf("open conversation rated: %s", fmtSatisfaction(got.Satisfaction))
	}

	ended := endAt(t, s, c.ID, 10)
	sat := kustomer.Satisfaction{Rating: 4, Comment: "Quick and kind.\nThanks!", CreatedAt: at(20)}
	got, err := s.RateConversation(ctx, c.ID, sat)
	must(t, "RateConversation", err)
	want := ended
	want.Satisfaction, want.UpdatedAt = &sat, at(20)
	checkConversation(t, "rated", got, want)
	checkConversation(t, "rated, read back", getConversation(t, s, c.ID), want)
	list, _, err := s.Conversations(ctx, kustomer.ConversationFilter{Queue: kustomer.QueueEnded}, 0, 10)
	must(t, "Conversations", err)
	if len(list) != 1 {
		t.Fatalf("%d ended conversations listed, want 1", len(list))
	}
	checkConversation(t, "rated, listed", list[0], want)

	_, err = s.RateConversation(ctx, c.ID, kustomer.Satisfaction{Rating: 1, Comment: "changed my mind", CreatedAt: at(30)})
	wantErr(t, "RateConversation twice", err, kustomer.ErrConflict)
	checkConversation(t, "after a second rating", getConversation(t, s, c.ID), want)
}

func testAgents(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	list, err := s.Agents(ctx)
	must(t, "Agents of an empty store", err)
	if len(list) != 0 {
		t.Errorf("empty store has %d agents", len(list))
	}

	grace := saveAgent(t, s, newAgent("Grace Hopper", "grace@example.com", kustomer.RoleAgent, "billing", "tech"))
	got, err := s.Agent(ctx, grace.ID)
	must(t, "Agent", err)
	checkAgent(t, "created", got, grace)
	got, err = s.AgentByEmail(ctx, "GRACE@Example.COM")
	must(t, "AgentByEmail in another case", err)
	checkAgent(t, "by email", got, grace)

	// Saving an existing id replaces the account.
	grace.Name, grace.Role, grace.Skills, grace.Disabled = "Grace B. Hopper", kustomer.RoleAdmin, []string{"tech"}, true
	grace.PasswordHash, grace.UpdatedAt = "$2a$04$another", at(10)
	saveAgent(t, s, grace)
	got, err = s.Agent(ctx, grace.ID)
	must(t, "Agent after an update", err)
	checkAgent(t, "updated", got, grace)
	got, err = s.AgentByEmail(ctx, "grace@example.com")
	must(t, "AgentByEmail after an update", err)
	checkAgent(t, "updated, by email", got, grace)

	alan := saveAgent(t, s, newAgent("Alan Turing", "alan@example.com", kustomer.RoleAgent))
	got, err = s.Agent(ctx, alan.ID)
	must(t, "Agent without skills", err)
	checkAgent(t, "without skills", got, alan)

	// An email belongs to one account, whatever its case.
	mallory := newAgent("Mallory", "grace@example.com", kustomer.RoleAdmin)
	wantErr(t, "SaveAgent with a taken email", s.SaveAgent(ctx, mallory), kustomer.ErrConflict)
	_, err = s.Agent(ctx, mallory.ID)
	wantErr(t, "Agent refused for its email", err, kustomer.ErrNotFound)
	taken := alan
	taken.Email, taken.UpdatedAt = "grace@example.com", at(20)
	wantErr(t, "SaveAgent changing to a taken email", s.SaveAgent(ctx, taken), kustomer.ErrConflict)
	got, err = s.Agent(ctx, alan.ID)
	must(t, "Agent", err)
	checkAgent(t, "after a refused change of email", got, alan)
	got, err = s.AgentByEmail(ctx, "grace@example.com")
	must(t, "AgentByEmail", err)
	checkAgent(t, "owner of the email", got, grace)

	// Agents are listed by name, then email.
	barbara := saveAgent(t, s, newAgent("Barbara Liskov", "barbara@example.com", kustomer.RoleAgent))
	kenB := saveAgent(t, s, newAgent("Ken Thompson", "ken@b.example.com", kustomer.RoleAgent))
	kenA := saveAgent(t, s, newAgent("Ken Thompson", "ken@a.example.com", kustomer.RoleAgent))
	list, err = s.Agents(ctx)
	must(t, "Agents", err)
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	if want := []string{alan.ID, barbara.ID, grace.ID, kenA.ID, kenB.ID}; !slices.Equal(ids, want) {
		t.Errorf("Agents = %v, want by name then email %v", ids, want)
	}
	for _, a := range list {
		if a.ID == grace.ID {
			checkAgent(t, "listed", a, grace)
		}
	}

	_, err = s.Agent(ctx, kustomer.NewID())
	wantErr(t, "Agent of an unknown id", err, kustomer.ErrNotFound)
	_, err = s.AgentByEmail(ctx, "nobody@example.com")
	wantErr(t, "AgentByEmail of an unknown email", err, kustomer.ErrNotFound)
}

func testAgentSessions(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	grace := saveAgent(t, s, newAgent("Grace Hopper", "grace@example.com", kustomer.RoleAgent, "tech"))
	alan := saveAgent(t, s, newAgent("Alan Turing", "alan@example.com", kustomer.RoleAgent))
	session := func(a kustomer.Agent, n int) kustomer.AgentSession {
		t.Helper()
		as := kustomer.AgentSession{ID: fmt.Sprintf("%064x", n), AgentID: a.ID, CreatedAt: at(n), ExpiresAt: at(n + 100)}
		must(t, "CreateAgentSession", s.CreateAgentSession(ctx, as))
		return as
	}
	check := func(what string, want kustomer.AgentSession, wantAgent kustomer.Agent) {
		t.Helper()
		got, a, err := s.AgentSession(ctx, want.ID)
		if err != nil {
			t.Errorf("%s: AgentSession: %v", what, err)
			return
		}
		if got.ID != want.ID || got.AgentID != want.AgentID || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("%s: session %+v, want %+v", what, got, want)
		}
		checkAgent(t, what+": agent", a, wantAgent)
	}
	gone := func(what string, id string) {
		t.Helper()
		_, _, err := s.AgentSession(ctx, id)
		wantErr(t, what, err, kustomer.ErrNotFound)
	}

	g1, g2, g3, a1 := session(grace, 1), session(grace, 2), session(grace, 3), session(alan, 4)
	check("created", g1, grace)
	check("another agent's", a1, alan)
	gone("an unknown session", fmt.Sprintf("%064x", 999))

	// The agent comes as stored now.
	grace.Name, grace.Disabled, grace.UpdatedAt = "Grace B. Hopper", true, at(5)
	saveAgent(t, s, grace)
	check("after the agent changed", g2, grace)

	must(t, "DeleteAgentSession", s.DeleteAgentSession(ctx, g1.ID))
	gone("a deleted session", g1.ID)
	check("another session", g2, grace)
	must(t, "DeleteAgentSession of a deleted session", s.DeleteAgentSession(ctx, g1.ID))

	n, err := s.DeleteAgentSessions(ctx, grace.ID, g3.ID)
	must(t, "DeleteAgentSessions keeping one", err)
	if n != 1 {
		t.Errorf("DeleteAgentSessions keeping one ended %d, want 1", n)
	}
	gone("ended with the others", g2.ID)
	check("kept", g3, grace)
	check("another agent's, kept", a1, alan)
	n, err = s.DeleteAgentSessions(ctx, grace.ID, "")
	must(t, "DeleteAgentSessions", err)
	if n != 1 {
		t.Errorf("DeleteAgentSessions ended %d, want 1", n)
	}
	gone("ended with all", g3.ID)
	check("another agent's, after all of Grace's ended", a1, alan)

	// A new session deletes those expired by its creation; live ones stay.
	late := kustomer.AgentSession{ID: fmt.Sprintf("%064x", 200), AgentID: alan.ID, CreatedAt: at(104), ExpiresAt: at(300)}
	a2 := session(alan, 50)
	must(t, "CreateAgentSession", s.CreateAgentSession(ctx, late))
	gone("expired when a later session began", a1.ID)
	check("still live", a2, alan)
	check("the later session", late, alan)
}

func testConversationQueues(t *testing.T, s kustomer.Store) {
	grace := saveAgent(t, s, newAgent("Grace Hopper", "grace@example.com", kustomer.RoleAgent))
	alan := saveAgent(t, s, newAgent("Alan Turing", "alan@example.com", kustomer.RoleAgent))
	start := func(n int, body string) kustomer.Conversation {
		c, _ := create(t, s, newConversation(kustomer.NewID(), at(n), body))
		return c
	}
	// Waiting since 30: answered at 1, then the customer wrote again.
	a := start(0, "a")
	appendMsg(t, s, newMessage(a.ID, kustomer.DirectionOut, "answer", at(1)))
	appendMsg(t, s, newMessage(a.ID, kustomer.DirectionIn, "thanks, and…", at(30)))
	// Waiting since 10, though its last activity is the newest.
	b := start(10, "b")
	appendMsg(t, s, newMessage(b.ID, kustomer.DirectionIn, "hello?", at(40)))
	c := start(20, "c") // waiting since 20
	gracesOpen := start(2, "grace's")
	assignTo(t, s, gracesOpen.ID, kustomer.Assignment{AssigneeID: grace.ID}, 3)
	alans := start(4, "alan's")
	assignTo(t, s, alans.ID, kustomer.Assignment{AssigneeID: alan.ID}, 5)
	nc := newConversation(kustomer.NewID(), at(6), "with the assistant")
	nc.Conversation.AssistantID, nc.Conversation.IsInAssistantMode = "greeter", true
	bot, _ := create(t, s, nc)
	ended := start(7, "ended")
	endAt(t, s, ended.ID, 8)
	gracesEnded := start(9, "grace's, ended")
	assignTo(t, s, gracesEnded.ID, kustomer.Assignment{AssigneeID: grace.ID}, 11)
	endAt(t, s, gracesEnded.ID, 12)

	tests := []struct {
		name string
		f    kustomer.ConversationFilter
		want []string
	}{
		{"unassigned: oldest waiting first", kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}, []string{b.ID, c.ID, a.ID}},
		{"mine", kustomer.ConversationFilter{Queue: kustomer.QueueMine, AgentID: grace.ID}, []string{gracesOpen.ID}},
		{"another agent's", kustomer.ConversationFilter{Queue: kustomer.QueueMine, AgentID: alan.ID}, []string{alans.ID}},
		{"mine, of an agent with none", kustomer.ConversationFilter{Queue: kustomer.QueueMine, AgentID: kustomer.NewID()}, []string{}},
		{"open: newest activity first", kustomer.ConversationFilter{Queue: kustomer.QueueOpen}, []string{b.ID, a.ID, c.ID, bot.ID, alans.ID, gracesOpen.ID}},
		{"ended", kustomer.ConversationFilter{Queue: kustomer.QueueEnded}, []string{gracesEnded.ID, ended.ID}},
		{"every queue", kustomer.ConversationFilter{}, []string{b.ID, a.ID, c.ID, gracesEnded.ID, ended.ID, bot.ID, alans.ID, gracesOpen.ID}},
	}
	for _, tt := range tests {
		if got := listIDs(t, s, tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}

	// Paging keeps the queue's order.
	page, total, err := s.Conversations(t.Context(), kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}, 1, 1)
	must(t, "Conversations page", err)
	if got := convIDs(page); total != 3 || !slices.Equal(got, []string{c.ID}) {
		t.Errorf("unassigned, second of one per page: %v of %d, want [%s] of 3", got, total, c.ID)
	}
	// Joining takes a conversation out of the unassigned queue.
	assignTo(t, s, b.ID, kustomer.Assignment{AssigneeID: alan.ID}, 50)
	if got, want := listIDs(t, s, kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned}), []string{c.ID, a.ID}; !slices.Equal(got, want) {
		t.Errorf("unassigned after a join: %v, want %v", got, want)
	}
}

func testConversationFilters(t *testing.T, s kustomer.Store) {
	grace := saveAgent(t, s, newAgent("Grace Hopper", "grace@example.com", kustomer.RoleAgent))
	start := func(n int, form string) kustomer.Conversation {
		nc := newConversation(kustomer.NewID(), at(n), "hello")
		nc.Conversation.FormID = form
		c, _ := create(t, s, nc)
		return c
	}
	contactBilling := start(0, "contact")
	assignTo(t, s, contactBilling.ID, kustomer.Assignment{Skill: "billing"}, 1)
	salesBilling := start(2, "sales")
	assignTo(t, s, salesBilling.ID, kustomer.Assignment{AssigneeID: grace.ID, Skill: "billing"}, 3)
	sales := start(4, "sales")
	contactTech := start(5, "contact")
	assignTo(t, s, contactTech.ID, kustomer.Assignment{Skill: "tech"}, 6)
	noForm := start(7, "")

	tests := []struct {
		name string
		f    kustomer.ConversationFilter
		want []string
	}{
		{"form", kustomer.ConversationFilter{FormID: "sales"}, []string{sales.ID, salesBilling.ID}},
		{"skill", kustomer.ConversationFilter{Skill: "billing"}, []string{salesBilling.ID, contactBilling.ID}},
		{"form and skill", kustomer.ConversationFilter{FormID: "sales", Skill: "billing"}, []string{salesBilling.ID}},
		{"unassigned of a skill", kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned, Skill: "billing"}, []string{contactBilling.ID}},
		{"unassigned of a form", kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned, FormID: "contact"}, []string{contactBilling.ID, contactTech.ID}},
		{"mine of a form", kustomer.ConversationFilter{Queue: kustomer.QueueMine, AgentID: grace.ID, FormID: "contact"}, []string{}},
		{"a form nobody used", kustomer.ConversationFilter{FormID: "nope"}, []string{}},
		{"a customer and a form", kustomer.ConversationFilter{CustomerID: sales.CustomerID, FormID: "sales"}, []string{sales.ID}},
		{"a customer and another form", kustomer.ConversationFilter{CustomerID: sales.CustomerID, FormID: "contact"}, []string{}},
		{"no filter", kustomer.ConversationFilter{}, []string{noForm.ID, contactTech.ID, sales.ID, salesBilling.ID, contactBilling.ID}},
	}
	for _, tt := range tests {
		if got := listIDs(t, s, tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func testAgentUnread(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	grace := saveAgent(t, s, newAgent("Grace Hopper", "grace@example.com", kustomer.RoleAgent))
	alan := saveAgent(t, s, newAgent("Alan Turing", "alan@example.com", kustomer.RoleAgent))
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))      // seq 1, in
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "anyone?", at(1)))    // 2, in
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "yes", at(2)))       // 3, out
	appendMsg(t, s, privateNote(c.ID, "a note", 3))                              // 4, a note
	_, _, err := s.AppendMessage(ctx, systemEvent(c.ID, "Grace joined.", at(4))) // 5, an event
	must(t, "AppendMessage system", err)
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "great", at(5))) // 6, in
	create(t, s, newConversation(kustomer.NewID(), at(6), "someone else's"))

	unread := func(what string, f kustomer.ConversationFilter, want int) {
		t.Helper()
		f.CustomerID = c.CustomerID
		list, _, err := s.Conversations(ctx, f, 0, 10)
		must(t, "Conversations", err)
		if len(list) != 1 {
			t.Errorf("%s: %d listed, want 1", what, len(list))
			return
		}
		if list[0].AgentUnread != want {
			t.Errorf("%s: AgentUnread = %d, want %d", what, list[0].AgentUnread, want)
		}
	}
	forGrace := kustomer.ConversationFilter{AgentID: grace.ID}
	unread("nothing read: only the customer's messages count", forGrace, 3)
	unread("no viewing agent", kustomer.ConversationFilter{}, 0)
	must(t, "MarkRead", s.MarkRead(ctx, c.ID, "agent:"+grace.ID, 2))
	unread("read up to 2", forGrace, 1)
	unread("in a queue", kustomer.ConversationFilter{AgentID: grace.ID, Queue: kustomer.QueueOpen}, 1)
	unread("another agent", kustomer.ConversationFilter{AgentID: alan.ID}, 3)
	must(t, "MarkRead by the customer", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 6))
	unread("the customer read everything", forGrace, 1)
	must(t, "MarkRead", s.MarkRead(ctx, c.ID, "agent:"+grace.ID, 6))
	unread("read everything", forGrace, 0)
	unread("another agent still", kustomer.ConversationFilter{AgentID: alan.ID}, 3)
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "one more", at(7)))
	unread("a new message", forGrace, 1)
	if got := getConversation(t, s, c.ID).AgentUnread; got != 0 {
		t.Errorf("Conversation: AgentUnread = %d, want 0: it is set only in an agent's lists", got)
	}
}

func testAppendPrivate(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, first := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))

	nm := privateNote(c.ID, "VIP customer, be nice", 10)
	note := appendMsg(t, s, nm)
	wantNote := nm.Message
	wantNote.Seq = 2
	checkMessage(t, "note", note, wantNote)
	// A note takes a seq but is no activity the customer sees, and no answer.
	want := c
	want.LastSeq, want.UpdatedAt = 2, at(10)
	checkConversation(t, "after a note", getConversation(t, s, c.ID), want)

	windows := []struct {
		name string
		q    kustomer.MessageQuery
		want []int64
	}{
		{"default", kustomer.MessageQuery{Max: 10}, []int64{1}},
		{"with private", kustomer.MessageQuery{Max: 10, IncludePrivate: true}, []int64{1, 2}},
		{"after the last public", kustomer.MessageQuery{AfterSeq: 1, Max: 10}, []int64{}},
		{"last", kustomer.MessageQuery{Max: 1, Last: true}, []int64{1}},
		{"last with private", kustomer.MessageQuery{Max: 1, Last: true, IncludePrivate: true}, []int64{2}},
	}
	for _, w := range windows {
		msgs, err := s.Messages(ctx, c.ID, w.q)
		must(t, "Messages "+w.name, err)
		if got := seqs(msgs); !slices.Equal(got, w.want) {
			t.Errorf("Messages, %s: seqs %v, want %v", w.name, got, w.want)
		}
	}
	msgs, err := s.Messages(ctx, c.ID, kustomer.MessageQuery{Max: 10, IncludePrivate: true})
	must(t, "Messages", err)
	if len(msgs) == 2 {
		checkMessage(t, "first read back", msgs[0], first)
		checkMessage(t, "note read back", msgs[1], wantNote)
	}

	// A public answer after the note is what the customer sees.
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "Hello Ada!", at(20)))
	want.LastSeq, want.UpdatedAt, want.LastMessageAt, want.Preview = 3, at(20), at(20), "Hello Ada!"
	want.CustomerUnread, want.AwaitingSince, want.FirstResponseAt = 1, nil, timep(at(20))
	checkConversation(t, "after an answer", getConversation(t, s, c.ID), want)
	appendMsg(t, s, privateNote(c.ID, "answered", 25))
	want.LastSeq, want.UpdatedAt = 4, at(25)
	checkConversation(t, "after a second note", getConversation(t, s, c.ID), want)
	list, _, err := s.Conversations(ctx, kustomer.ConversationFilter{CustomerID: c.CustomerID}, 0, 10)
	must(t, "Conversations", err)
	if len(list) != 1 {
		t.Fatalf("%d listed, want 1", len(list))
	}
	checkConversation(t, "listed", list[0], want)

	// Agents may still annotate an ended conversation; nobody may write to it.
	endAt(t, s, c.ID, 30) // seq 5
	late := appendMsg(t, s, privateNote(c.ID, "follow up by email", 40))
	if late.Seq != 6 || !late.Private {
		t.Errorf("note after the end: seq %d private %v, want 6 and true", late.Seq, late.Private)
	}
	for _, dir := range []kustomer.Direction{kustomer.DirectionOut, kustomer.DirectionIn} {
		_, created, err := s.AppendMessage(ctx, newMessage(c.ID, dir, "after the end", at(50)))
		wantErr(t, fmt.Sprintf("public %s message after the end", dir), err, kustomer.ErrConflict)
		if created {
			t.Errorf("public %s message after the end: created = true", dir)
		}
	}
	if got := getConversation(t, s, c.ID); got.LastSeq != 6 || !got.Ended {
		t.Errorf("after the end: LastSeq %d ended %v, want 6 and true", got.LastSeq, got.Ended)
	}
}

func testAppendSystem(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	must(t, "MarkRead", s.MarkRead(ctx, c.ID, kustomer.ReaderCustomer, 1))

	ev := systemEvent(c.ID, "Grace joined the conversation.", at(10))
	ev.Preview = "Grace joined the conversation." // ignored: events are not activity
	m, created, err := s.AppendMessage(ctx, ev)
	must(t, "AppendMessage system", err)
	if !created || m.Seq != 2 {
		t.Errorf("system message: seq %d created %v, want 2 and true", m.Seq, created)
	}
	want := c
	want.LastSeq, want.UpdatedAt = 2, at(10)
	checkConversation(t, "after a system message", getConversation(t, s, c.ID), want)
	if got := seqs(allMessages(t, s, c.ID)); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("seqs = %v, want [1 2]: system messages are in the customer's transcript", got)
	}
}

func testAwaiting(t *testing.T, s kustomer.Store) {
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	// check compares both times with at(*awaiting) and at(*first), nil
	// meaning unset.
	check := func(what string, awaiting, first *int) {
		t.Helper()
		var wantA, wantF *time.Time
		if awaiting != nil {
			wantA = timep(at(*awaiting))
		}
		if first != nil {
			wantF = timep(at(*first))
		}
		got := getConversation(t, s, c.ID)
		if !timePtrEqual(got.AwaitingSince, wantA) || !timePtrEqual(got.FirstResponseAt, wantF) {
			t.Errorf("%s: AwaitingSince %s FirstResponseAt %s, want %s and %s", what,
				fmtTimePtr(got.AwaitingSince), fmtTimePtr(got.FirstResponseAt), fmtTimePtr(wantA), fmtTimePtr(wantF))
		}
	}
	n := func(i int) *int { return &i }
	check("the first message", n(0), nil)
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "hello?", at(5)))
	check("the customer again: still the oldest", n(0), nil)
	bot := newMessage(c.ID, kustomer.DirectionOut, "I am a bot", at(6))
	bot.SentBy = kustomer.Author{Type: kustomer.AuthorAssistant, ID: "greeter"}
	appendMsg(t, s, bot)
	check("the assistant is not an agent", n(0), nil)
	appendMsg(t, s, privateNote(c.ID, "looking", 7))
	check("a note is no answer", n(0), nil)
	_, _, err := s.AppendMessage(t.Context(), systemEvent(c.ID, "Grace joined.", at(8)))
	must(t, "AppendMessage system", err)
	check("a system event is no answer", n(0), nil)
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "Hi!", at(10)))
	check("an agent's answer", nil, n(10))
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "one more thing", at(20)))
	check("the customer writes again", n(20), n(10))
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionOut, "sure", at(30)))
	check("a second answer: the first response stays", nil, n(10))
	appendMsg(t, s, newMessage(c.ID, kustomer.DirectionIn, "bye", at(40)))
	endAt(t, s, c.ID, 50)
	check("ended: nobody waits", nil, n(10))
}
