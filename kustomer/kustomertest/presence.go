package kustomertest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// timeIs reports whether an optional time is want.
func timeIs(got *time.Time, want time.Time) bool { return got != nil && got.Equal(want) }

// testAgentPresence checks agents' status and presence: a new account is
// offline, SetAgentStatus sets the status and its reason, TouchAgent
// records the console and brings back an agent handoff set offline, and
// ExpireAgents sets offline the agents not seen since a time, each agent
// returned by one call only when several run at once. SaveAgent keeps the
// status and stores the capacity.
func testAgentPresence(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	ada := newAgent("Ada", "ada@example.com", kustomer.RoleAgent)
	ada.Capacity = 3
	saveAgent(t, s, ada)
	got, err := s.Agent(ctx, ada.ID)
	must(t, "Agent", err)
	if got.Status != kustomer.StatusOffline || got.StatusReason != "" || got.SeenAt != nil || got.StatusAt != nil || got.LastAssignedAt != nil || got.Capacity != 3 {
		t.Errorf("a new account = status %q %q, seen %v, status at %v, last assigned %v, capacity %d; want offline, never seen, capacity 3",
			got.Status, got.StatusReason, got.SeenAt, got.StatusAt, got.LastAssignedAt, got.Capacity)
	}

	got, err = s.SetAgentStatus(ctx, ada.ID, kustomer.StatusOnline, "", at(1))
	must(t, "SetAgentStatus", err)
	if got.Status != kustomer.StatusOnline || !timeIs(got.StatusAt, at(1)) {
		t.Errorf("after SetAgentStatus online: %q at %v", got.Status, got.StatusAt)
	}
	_, err = s.SetAgentStatus(ctx, kustomer.NewID(), kustomer.StatusOnline, "", at(1))
	wantErr(t, "SetAgentStatus of an unknown agent", err, kustomer.ErrNotFound)

	back, err := s.TouchAgent(ctx, ada.ID, at(2))
	must(t, "TouchAgent", err)
	if got, _ := s.Agent(ctx, ada.ID); back || !timeIs(got.SeenAt, at(2)) || got.Status != kustomer.StatusOnline {
		t.Errorf("TouchAgent of an online agent: back %v, seen %v, status %q", back, got.SeenAt, got.Status)
	}
	// SaveAgent (a rename) keeps the status and presence.
	ada.Name, ada.Capacity = "Ada L.", 4
	saveAgent(t, s, ada)
	if got, _ := s.Agent(ctx, ada.ID); got.Status != kustomer.StatusOnline || !timeIs(got.SeenAt, at(2)) || got.Capacity != 4 {
		t.Errorf("after SaveAgent: status %q, seen %v, capacity %d; want online, seen at(2), 4", got.Status, got.SeenAt, got.Capacity)
	}

	// Not seen since before at(3): offline, gone; once.
	bob := saveAgent(t, s, newAgent("Bob", "bob@example.com", kustomer.RoleAgent))
	_, err = s.SetAgentStatus(ctx, bob.ID, kustomer.StatusAway, kustomer.StatusIdle, at(2))
	must(t, "SetAgentStatus away", err)
	must(t, "TouchAgent", func() error { _, err := s.TouchAgent(ctx, bob.ID, at(5)); return err }())
	gone, err := s.ExpireAgents(ctx, at(3), at(6))
	must(t, "ExpireAgents", err)
	if len(gone) != 1 || gone[0].ID != ada.ID || gone[0].Status != kustomer.StatusOffline || gone[0].StatusReason != kustomer.StatusGone || !timeIs(gone[0].StatusAt, at(6)) {
		t.Fatalf("ExpireAgents = %+v, want Ada alone, offline (gone) at(6)", gone)
	}
	if again, err := s.ExpireAgents(ctx, at(3), at(7)); err != nil || len(again) != 0 {
		t.Errorf("ExpireAgents again = %+v, %v; want none", again, err)
	}
	back, err = s.TouchAgent(ctx, ada.ID, at(8))
	must(t, "TouchAgent", err)
	if got, _ := s.Agent(ctx, ada.ID); !back || got.Status != kustomer.StatusOnline || got.StatusReason != "" || !timeIs(got.SeenAt, at(8)) {
		t.Errorf("TouchAgent after going: back %v, status %q %q, seen %v; want back online", back, got.Status, got.StatusReason, got.SeenAt)
	}
	// An agent who chose offline stays offline when a console connects.
	_, err = s.SetAgentStatus(ctx, bob.ID, kustomer.StatusOffline, "", at(9))
	must(t, "SetAgentStatus offline", err)
	if back, err := s.TouchAgent(ctx, bob.ID, at(10)); err != nil || back {
		t.Errorf("TouchAgent of an agent who chose offline: back %v, %v", back, err)
	}
	if got, _ := s.Agent(ctx, bob.ID); got.Status != kustomer.StatusOffline {
		t.Errorf("Bob's status after TouchAgent = %q, want offline", got.Status)
	}

	// Ada's console is still there through what follows.
	must(t, "TouchAgent", func() error { _, err := s.TouchAgent(ctx, ada.ID, at(16)); return err }())
	// An agent who set their status after staleBefore has until then to
	// open a console.
	fay := saveAgent(t, s, newAgent("Fay", "fay@example.com", kustomer.RoleAgent))
	_, err = s.SetAgentStatus(ctx, fay.ID, kustomer.StatusOnline, "", at(20))
	must(t, "SetAgentStatus", err)
	if gone, err := s.ExpireAgents(ctx, at(15), at(21)); err != nil || len(gone) != 0 {
		t.Errorf("ExpireAgents of an agent online since after staleBefore, never seen = %+v, %v; want none", gone, err)
	}
	_, err = s.SetAgentStatus(ctx, fay.ID, kustomer.StatusOffline, "", at(1))
	must(t, "SetAgentStatus", err)

	// Several callers at once: each agent returned once.
	var ids []string
	for _, name := range []string{"Cy", "Di", "Ed"} {
		a := saveAgent(t, s, newAgent(name, name+"@example.com", kustomer.RoleAgent))
		_, err := s.SetAgentStatus(ctx, a.ID, kustomer.StatusOnline, "", at(11))
		must(t, "SetAgentStatus", err)
		ids = append(ids, a.ID)
	}
	var (
		mu    sync.Mutex
		count = map[string]int{}
		wg    sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gone, err := s.ExpireAgents(ctx, at(12), at(12))
			if err != nil {
				t.Errorf("ExpireAgents at once: %v", err)
				return
			}
			mu.Lock()
			for _, a := range gone {
				count[a.ID]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("agent %s returned %d times by ExpireAgents at once, want 1 (%v)", id, count[id], count)
		}
	}
	if len(count) != len(ids) {
		t.Errorf("ExpireAgents at once returned %v, want the three never seen", count)
	}
}

// testAssignmentLoad checks what auto-assignment reads and claims with:
// OpenAssignments counts each agent's open conversations, UpdateAssignment
// records when the assignee was last given one, and with IfUnassigned
// assigns only a conversation that still waits in the queue.
func testAssignmentLoad(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	ada := saveAgent(t, s, newAgent("Ada", "ada@example.com", kustomer.RoleAgent))
	bob := saveAgent(t, s, newAgent("Bob", "bob@example.com", kustomer.RoleAgent))
	load, err := s.OpenAssignments(ctx)
	must(t, "OpenAssignments", err)
	if len(load) != 0 {
		t.Errorf("OpenAssignments with nothing assigned = %v", load)
	}
	var convs []kustomer.Conversation
	for i := range 4 {
		c, _ := create(t, s, newConversation(kustomer.NewID(), at(i), "hello"))
		convs = append(convs, c)
	}
	assign := func(c kustomer.Conversation, a kustomer.Assignment, n int) error {
		t.Helper()
		_, _, err := s.UpdateAssignment(ctx, c.ID, a, at(n), systemEvent(c.ID, "assigned", at(n)))
		return err
	}
	must(t, "UpdateAssignment", assign(convs[0], kustomer.Assignment{AssigneeID: ada.ID, IfUnassigned: true}, 10))
	if got, _ := s.Agent(ctx, ada.ID); !timeIs(got.LastAssignedAt, at(10)) {
		t.Errorf("Ada's LastAssignedAt = %v, want at(10)", got.LastAssignedAt)
	}
	must(t, "UpdateAssignment", assign(convs[1], kustomer.Assignment{AssigneeID: ada.ID}, 11))
	must(t, "UpdateAssignment", assign(convs[2], kustomer.Assignment{AssigneeID: bob.ID}, 12))
	must(t, "UpdateAssignment suggesting", assign(convs[3], kustomer.Assignment{SuggestedID: bob.ID}, 13))

	var cerr *kustomer.ConflictError
	for _, tt := range []struct {
		what string
		c    kustomer.Conversation
	}{{"an assigned conversation", convs[0]}, {"a suggested conversation", convs[3]}} {
		err := assign(tt.c, kustomer.Assignment{AssigneeID: bob.ID, IfUnassigned: true}, 14)
		if !errors.As(err, &cerr) || cerr.Code != "already_assigned" {
			t.Errorf("IfUnassigned on %s = %v, want already_assigned", tt.what, err)
		}
	}
	if got := getConversation(t, s, convs[0].ID); got.AssigneeID != ada.ID || got.LastSeq != 2 {
		t.Errorf("a refused claim changed the conversation: assignee %q, last seq %d", got.AssigneeID, got.LastSeq)
	}
	if got, _ := s.Agent(ctx, bob.ID); !timeIs(got.LastAssignedAt, at(12)) {
		t.Errorf("Bob's LastAssignedAt after refused claims = %v, want at(12)", got.LastAssignedAt)
	}

	_, _, _, err = s.EndConversation(ctx, convs[1].ID, kustomer.Author{Type: kustomer.AuthorAgent, ID: ada.ID}, at(15), systemEvent(convs[1].ID, "ended", at(15)))
	must(t, "EndConversation", err)
	load, err = s.OpenAssignments(ctx)
	must(t, "OpenAssignments", err)
	if len(load) != 2 || load[ada.ID] != 1 || load[bob.ID] != 1 {
		t.Errorf("OpenAssignments = %v, want Ada 1 (one ended), Bob 1 (a suggestion is not an assignment)", load)
	}
}

// autoAssignConfig is engineConfig with auto-assignment on for the contact
// form and the tech skill.
var autoAssignConfig = strings.Replace(strings.Replace(engineConfig,
	"    allowCustomerEnd: true\n", "    allowCustomerEnd: true\n    autoAssign: true\n", 1),
	"{id: tech, name: Technical support}", "{id: tech, name: Technical support, autoAssign: true}", 1)

// present makes agents online with a console just seen, at the engine's
// clock.
func (f *engineFixture) present(t testing.TB, agents ...kustomer.Agent) {
	t.Helper()
	for _, a := range agents {
		_, err := f.engine.SetAgentStatus(t.Context(), a.ID, kustomer.StatusOnline, false)
		must(t, "SetAgentStatus", err)
		_, err = f.store.TouchAgent(t.Context(), a.ID, f.engine.Now())
		must(t, "TouchAgent", err)
	}
}

// assignees reads who each conversation is assigned to, by name ("" for
// nobody).
func (f *engineFixture) assignees(t testing.TB, convs ...kustomer.Conversation) []string {
	t.Helper()
	out := make([]string, len(convs))
	for i, c := range convs {
		out[i] = f.conversation(t, c.ID).AssigneeName
	}
	return out
}

// testEngineAutoAssign checks auto-assignment: waiting conversations of a
// form or skill that assigns automatically go to online agents present in
// the console, round robin (who was given one longest ago), up to each
// one's capacity, to agents with the conversation's skill; never to an
// away, offline or absent agent; not when a transfer suggested someone;
// and an agent going offline has theirs given back and passed on.
func testEngineAutoAssign(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	f = newEngineFixtureConfig(t, f.store, autoAssignConfig)
	capacity := func(n int) *int { return &n }
	mk := func(name string, c int, skills ...string) kustomer.Agent {
		a, err := f.engine.CreateAgent(ctx, kustomer.Actor{Type: kustomer.AuthorSystem}, kustomer.NewAgentInput{
			Email: strings.ToLower(name) + "@example.com", Name: name, Password: password, Role: kustomer.RoleAgent, Skills: skills, Capacity: capacity(c)})
		must(t, "CreateAgent "+name, err)
		return a
	}
	ada, bob, cy := mk("Ada", 2, "tech"), mk("Bob", 1), mk("Cy", 5)
	away := mk("Dee", 5, "tech")
	f.present(t, ada, bob, away)
	_, err := f.engine.SetAgentStatus(ctx, away.ID, kustomer.StatusAway, false)
	must(t, "SetAgentStatus away", err)

	var convs []kustomer.Conversation
	for i := range 4 {
		c, _ := f.startForAgents(t, fmt.Sprintf("question %d", i), "contact")
		convs = append(convs, c)
	}
	must(t, "AutoAssign", f.engine.AutoAssign(ctx))
	// Ada and Bob were never given one: Ada (first by name), then Bob, then
	// Ada again (Bob is full), then nobody (both full).
	if got := f.assignees(t, convs...); !slices.Equal(got, []string{"Ada", "Bob", "Ada", ""}) {
		t.Fatalf("assignees = %q, want Ada, Bob, Ada and nobody", got)
	}
	msgs, err := f.engine.GetMessages(ctx, kustomer.Actor{Type: kustomer.AuthorAgent, ID: ada.ID}, convs[0].ID, kustomer.MessageQuery{Max: 10})
	must(t, "GetMessages", err)
	if last := msgs[len(msgs)-1]; last.SentBy.Type != kustomer.AuthorSystem || last.Body != "Ada will reply." {
		t.Errorf("the customer is told %q by %q, want the system's \"Ada will reply.\"", last.Body, last.SentBy.Type)
	}

	// A skill that assigns automatically: only to agents with the skill.
	tech, _ := f.startForAgents(t, "the app crashes", "contact")
	_, err = f.engine.TransferToSkill(ctx, kustomer.Actor{Type: kustomer.AuthorAgent, ID: bob.ID, Name: "Bob"}, tech.ID, "tech")
	must(t, "TransferToSkill", err)
	// A suggestion waits for its agent.
	suggested, _ := f.startForAgents(t, "for Cy", "contact")
	_, err = f.engine.Transfer(ctx, kustomer.Actor{Type: kustomer.AuthorAgent, ID: bob.ID, Name: "Bob"}, suggested.ID, kustomer.TransferInput{AgentID: cy.ID, Suggest: true})
	must(t, "Transfer suggesting Cy", err)

	// Cy comes online: the waiting general conversation goes to Cy, the tech
	// one stays (Cy has no tech skill, Ada is full, Dee is away), and the
	// suggestion stays a suggestion.
	f.present(t, cy)
	must(t, "AutoAssign", f.engine.AutoAssign(ctx))
	if got := f.assignees(t, convs[3], tech, suggested); !slices.Equal(got, []string{"Cy", "", ""}) {
		t.Errorf("assignees of the general, tech and suggested conversations = %q, want Cy, nobody, nobody", got)
	}

	// Ada goes offline: hers go back to the queue, and on: the tech one to
	// nobody (no one online with the skill), the general one to Cy, who has
	// room; Bob is still full.
	_, err = f.engine.SetAgentStatus(ctx, ada.ID, kustomer.StatusOffline, false)
	must(t, "SetAgentStatus offline", err)
	must(t, "AutoAssign", f.engine.AutoAssign(ctx))
	if got := f.assignees(t, convs[0], convs[2]); !slices.Equal(got, []string{"Cy", "Cy"}) {
		t.Errorf("Ada's conversations after she went offline = %q, want both Cy's", got)
	}
	if got := f.assignees(t, tech); got[0] != "" {
		t.Errorf("the tech conversation went to %q with nobody online with the skill", got[0])
	}

	// Dee is back from away: the tech conversation is hers.
	f.present(t, away)
	must(t, "AutoAssign", f.engine.AutoAssign(ctx))
	if got := f.assignees(t, tech); got[0] != "Dee" {
		t.Errorf("the tech conversation with Dee online = %q, want Dee", got[0])
	}
}

// testEngineAgentStatus checks what agents and the console may set: any
// status by choice; away after inactivity only from online, and online on
// activity only from that; handoff's ExpireAbsentAgents sets offline the
// online agents whose consoles are gone and gives their conversations back
// to the queue; a disabled account cannot set one.
func testEngineAgentStatus(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	grace := f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent)
	status := func() (kustomer.AgentStatus, string) {
		a, err := f.engine.Agent(ctx, grace.ID)
		must(t, "Agent", err)
		return a.Status, a.StatusReason
	}
	set := func(s kustomer.AgentStatus, auto bool) {
		t.Helper()
		_, err := f.engine.SetAgentStatus(ctx, grace.ID, s, auto)
		must(t, "SetAgentStatus", err)
	}
	if s, _ := status(); s != kustomer.StatusOffline {
		t.Errorf("a new agent is %q, want offline", s)
	}
	_, err := f.engine.SetAgentStatus(ctx, grace.ID, "busy", false)
	wantValidation(t, "SetAgentStatus busy", err, "status")

	set(kustomer.StatusAway, true) // offline: the console's away does not apply
	if s, r := status(); s != kustomer.StatusOffline || r != "" {
		t.Errorf("auto away from offline: %q %q, want offline", s, r)
	}
	f.present(t, grace)
	set(kustomer.StatusAway, true)
	if s, r := status(); s != kustomer.StatusAway || r != kustomer.StatusIdle {
		t.Errorf("auto away from online: %q %q, want away (idle)", s, r)
	}
	set(kustomer.StatusOnline, true)
	if s, r := status(); s != kustomer.StatusOnline || r != "" {
		t.Errorf("auto online from idle: %q %q, want online", s, r)
	}
	set(kustomer.StatusAway, false)
	set(kustomer.StatusOnline, true) // chosen away stays
	if s, r := status(); s != kustomer.StatusAway || r != "" {
		t.Errorf("auto online from a chosen away: %q %q, want away", s, r)
	}

	// Gone: no console for PresenceTTL.
	f.present(t, grace)
	c, _ := f.startForAgents(t, "hello", "contact")
	_, err = f.engine.Join(ctx, grace.Actor(), c.ID)
	must(t, "Join", err)
	must(t, "ExpireAbsentAgents", f.engine.ExpireAbsentAgents(ctx))
	if s, _ := status(); s != kustomer.StatusOnline {
		t.Fatalf("Grace, just seen, expired: %q", s)
	}
	// Online and last seen more than PresenceTTL ago.
	past := f.engine.Now().Add(-kustomer.PresenceTTL - time.Second)
	_, err = f.store.SetAgentStatus(ctx, grace.ID, kustomer.StatusOnline, "", past)
	must(t, "SetAgentStatus in the past", err)
	_, err = f.store.TouchAgent(ctx, grace.ID, past)
	must(t, "TouchAgent in the past", err)
	all := f.hub.Subscribe(kustomer.AllConversations)
	defer all.Close()
	must(t, "ExpireAbsentAgents", f.engine.ExpireAbsentAgents(ctx))
	if s, r := status(); s != kustomer.StatusOffline || r != kustomer.StatusGone {
		t.Errorf("Grace with no console for PresenceTTL: %q %q, want offline (gone)", s, r)
	}
	if ev := nextEvent(t, all); ev.Type != kustomer.EventAgentUpdated || ev.Agent == nil || ev.Agent.Status != kustomer.StatusOffline {
		t.Errorf("event = %+v, want agent.updated, offline", ev)
	}
	if got := f.conversation(t, c.ID).AssigneeID; got != "" {
		t.Errorf("Grace's conversation is still hers after she went: %q", got)
	}

	off := true
	_, err = f.engine.UpdateAgent(ctx, kustomer.Actor{Type: kustomer.AuthorSystem}, grace.ID, kustomer.UpdateAgentInput{Disabled: &off})
	must(t, "disable", err)
	_, err = f.engine.SetAgentStatus(ctx, grace.ID, kustomer.StatusOnline, false)
	wantErr(t, "SetAgentStatus of a disabled account", err, kustomer.ErrAccountDisabled)
}
