package kustomertest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// testEngineConsoleCounts checks what the console counts for an agent:
// the conversations waiting in their queues (the general one and their
// skills', not others'), and those of theirs with customer messages they
// have not read.
func testEngineConsoleCounts(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent, "billing")
	linus := f.newAgent(t, "Linus", "linus@example.com", kustomer.RoleAgent)
	counts := func(a kustomer.Agent) kustomer.AgentCounts {
		t.Helper()
		c, err := f.engine.AgentCounts(ctx, a)
		must(t, "AgentCounts", err)
		return c
	}
	general, _ := f.startForAgents(t, "general question", "contact")
	billing, _ := f.startForAgents(t, "billing question", "contact")
	tech, _ := f.startForAgents(t, "tech question", "contact")
	_, err := f.engine.TransferToSkill(ctx, linus.Actor(), billing.ID, "billing")
	must(t, "TransferToSkill billing", err)
	_, err = f.engine.TransferToSkill(ctx, linus.Actor(), tech.ID, "tech")
	must(t, "TransferToSkill tech", err)
	if got := counts(grace); got != (kustomer.AgentCounts{Waiting: 2}) {
		t.Errorf("Grace's counts = %+v, want 2 waiting (general and billing), none unread", got)
	}
	if got := counts(linus); got != (kustomer.AgentCounts{Waiting: 1}) {
		t.Errorf("Linus's counts = %+v, want 1 waiting (general only)", got)
	}

	// Grace joins the general one: not waiting, unread (the customer's
	// first message) until she reads it.
	_, err = f.engine.Join(ctx, grace.Actor(), general.ID)
	must(t, "Join", err)
	if got := counts(grace); got != (kustomer.AgentCounts{Waiting: 1, Unread: 1}) {
		t.Errorf("Grace's counts after joining = %+v, want 1 waiting, 1 unread", got)
	}
	c := f.conversation(t, general.ID)
	must(t, "MarkRead", f.engine.MarkRead(ctx, grace.Actor(), general.ID, c.LastSeq))
	if got := counts(grace); got != (kustomer.AgentCounts{Waiting: 1}) {
		t.Errorf("Grace's counts after reading = %+v, want 1 waiting, none unread", got)
	}
	f.send(t, kustomer.CustomerActor(general.CustomerID), general.ID, "c2", "one more thing")
	if got := counts(grace); got != (kustomer.AgentCounts{Waiting: 1, Unread: 1}) {
		t.Errorf("Grace's counts after the customer wrote = %+v, want 1 unread", got)
	}
}

// testEngineConsoleNotices checks whom each event tells what in the
// console: a new conversation the agents whose queue it waits in; a
// customer's message its assignee; an assignment, a suggestion or a
// return to the queue the agents concerned, never the agent who did it;
// and nobody of typing, notes or an agent's own reply.
func testEngineConsoleNotices(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent, "billing")
	linus := f.newAgent(t, "Linus", "linus@example.com", kustomer.RoleAgent)
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()
	var c kustomer.Conversation
	marks := 0
	// told marks the end of what an action published with a note (which
	// tells nobody), and returns what the events before it told Grace and
	// Linus, each derived before the next action, as a console does.
	told := func() []string {
		t.Helper()
		marks++
		mark := fmt.Sprintf("mark %d", marks)
		_, _, err := f.engine.SendMessage(ctx, linus.Actor(), kustomer.SendMessageInput{ConversationID: c.ID, Body: mark, Private: true})
		must(t, "a note", err)
		var out []string
		for {
			ev := nextEvent(t, all)
			if ev.Type == kustomer.EventMessageCreated && ev.Message != nil && ev.Message.Body == mark {
				return out
			}
			n, err := f.engine.ConsoleNotice(ctx, ev)
			must(t, "ConsoleNotice", err)
			if g, l := n.For(grace), n.For(linus); g != "" || l != "" {
				out = append(out, "Grace:"+g+" Linus:"+l)
			}
		}
	}
	want := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s tells %q, want %q", what, got, want)
		}
	}
	c, cust := f.startForAgents(t, "hello", "contact")
	want("a new conversation", told(), "Grace:new_conversation Linus:new_conversation")
	_, err := f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	f.send(t, grace.Actor(), c.ID, "r1", "Grace here")
	want("Grace joining and replying", told())
	f.send(t, cust, c.ID, "m1", "thanks")
	want("the customer's message", told(), "Grace:message Linus:")
	_, err = f.engine.TransferToAgent(ctx, grace.Actor(), c.ID, linus.ID)
	must(t, "TransferToAgent", err)
	want("a transfer to Linus", told(), "Grace: Linus:assigned")
	_, err = f.engine.Transfer(ctx, linus.Actor(), c.ID, kustomer.TransferInput{AgentID: grace.ID, Suggest: true})
	must(t, "suggest to Grace", err)
	want("a suggestion to Grace", told(), "Grace:suggested Linus:")
	_, err = f.engine.TransferToSkill(ctx, linus.Actor(), c.ID, "billing")
	must(t, "TransferToSkill", err)
	want("a transfer to billing by Linus", told(), "Grace:queued Linus:")
}

// testConversationsSkillsUnread checks two filters of Conversations: by a
// list of queues (Skills, "" the general one; an empty list keeps none),
// and Unread (customer messages after the agent's read position).
func testConversationsSkillsUnread(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	general, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "general"))
	billing, _ := create(t, s, newConversation(kustomer.NewID(), at(1), "billing"))
	tech, _ := create(t, s, newConversation(kustomer.NewID(), at(2), "tech"))
	for c, skill := range map[string]string{billing.ID: "billing", tech.ID: "tech"} {
		_, _, err := s.UpdateAssignment(ctx, c, kustomer.Assignment{Skill: skill}, at(3), systemEvent(c, "to "+skill, at(3)))
		must(t, "UpdateAssignment", err)
	}
	ids := func(f kustomer.ConversationFilter) []string {
		t.Helper()
		cs, total, err := s.Conversations(ctx, f, 0, 10)
		must(t, "Conversations", err)
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		if total != len(out) {
			t.Errorf("Conversations(%+v): total %d for %d rows", f, total, len(out))
		}
		return out
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got := ids(kustomer.ConversationFilter{Skills: []string{"", "billing"}}); !slices.Equal(got, sorted(general.ID, billing.ID)) {
		t.Errorf("the general and billing queues = %q", got)
	}
	if got := ids(kustomer.ConversationFilter{Skills: []string{}}); len(got) != 0 {
		t.Errorf("no queue = %q, want none", got)
	}
	must(t, "MarkRead", s.MarkRead(ctx, general.ID, "agent:ada", 1))
	if got := ids(kustomer.ConversationFilter{AgentID: "ada", Unread: true}); !slices.Equal(got, sorted(billing.ID, tech.ID)) {
		t.Errorf("unread by Ada = %q, want the two she has not read", got)
	}
	appendMsg(t, s, newMessage(general.ID, kustomer.DirectionIn, "one more thing", at(4)))
	appendMsg(t, s, newMessage(billing.ID, kustomer.DirectionOut, "an answer", at(4)))
	must(t, "MarkRead", s.MarkRead(ctx, billing.ID, "agent:ada", 3))
	if got := ids(kustomer.ConversationFilter{AgentID: "ada", Unread: true}); !slices.Equal(got, sorted(general.ID, tech.ID)) {
		t.Errorf("unread by Ada after a customer's message and a read = %q, want general and tech", got)
	}
}
