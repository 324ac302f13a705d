package kustomer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// AgentStatus says whether an agent takes conversations.
type AgentStatus string

// The statuses. Online agents are given conversations (by auto-assignment
// too); away agents keep theirs but get no new ones; offline agents have
// theirs given to others.
const (
	StatusOnline  AgentStatus = "online"
	StatusAway    AgentStatus = "away"
	StatusOffline AgentStatus = "offline"
)

// Valid reports whether s is a known status.
func (s AgentStatus) Valid() bool {
	return s == StatusOnline || s == StatusAway || s == StatusOffline
}

// Why handoff set a status (Agent.StatusReason).
const (
	// StatusIdle: away after AwayAfter without activity in the console;
	// activity sets the agent online again.
	StatusIdle = "idle"
	// StatusGone: offline after PresenceTTL without a console open; opening
	// one sets the agent online again.
	StatusGone = "gone"
)

// Assignment's tunables.
const (
	DefaultCapacity = 5
	MaxCapacity     = 50
	// PresenceTTL is how long an agent stays online with no console page
	// connected (a closed laptop) before handoff sets them offline and
	// gives their conversations to others.
	PresenceTTL = 90 * time.Second
	// AwayAfter is how long the console waits without the agent's
	// keyboard, mouse or touch before setting them away.
	AwayAfter = 10 * time.Minute
	// touchEvery bounds how often one instance records an agent's console
	// as seen.
	touchEvery = 20 * time.Second
	// autoAssignBatch bounds the waiting conversations one pass reads.
	autoAssignBatch = 200
)

// Available reports whether the agent takes new conversations at now.
func (a Agent) Available(now time.Time) bool {
	return !a.Disabled && a.Status == StatusOnline && a.SeenAt != nil && now.Sub(*a.SeenAt) < PresenceTTL
}

// checkCapacity checks a capacity an admin sets.
func checkCapacity(verr *ValidationError, c *int) {
	if c != nil && (*c < 0 || *c > MaxCapacity) {
		verr.Add("capacity", fmt.Sprintf("must be between 0 and %d", MaxCapacity))
	}
}

// router is an Engine's assignment state: when each agent was last seen by
// this instance (to touch the store at most every touchEvery), and the
// signal that wakes the auto-assignment loop.
type router struct {
	mu      sync.Mutex
	touched map[string]time.Time
	kick    chan struct{}
}

func (r *router) init() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kick == nil {
		r.kick = make(chan struct{}, 1)
		r.touched = map[string]time.Time{}
	}
}

// wakeAssigner asks the auto-assignment loop for a pass soon; it never
// blocks.
func (e *Engine) wakeAssigner() {
	e.router.init()
	select {
	case e.router.kick <- struct{}{}:
	default:
	}
}

// SetAgentStatus sets the agent's own status. An agent going offline has
// their open conversations given back to the queue (and to others online,
// where auto-assignment is on). With auto (the console, after inactivity or
// on activity again), away applies only to an online agent and online only
// to one handoff set away: a status the agent chose stays.
func (e *Engine) SetAgentStatus(ctx context.Context, agentID string, status AgentStatus, auto bool) (Agent, error) {
	if !status.Valid() {
		return Agent{}, &ValidationError{Fields: map[string]string{"status": "must be online, away or offline"}}
	}
	a, err := e.Agent(ctx, agentID)
	if err != nil {
		return Agent{}, err
	}
	if a.Disabled {
		return Agent{}, fmt.Errorf("set status: %w", ErrAccountDisabled)
	}
	reason := ""
	if auto {
		switch {
		case status == StatusAway && a.Status == StatusOnline:
			reason = StatusIdle
		case status == StatusOnline && a.Status == StatusAway && a.StatusReason == StatusIdle:
		default:
			return a, nil
		}
	}
	if a.Status == status && a.StatusReason == reason {
		return a, nil
	}
	now := e.now()
	a, err = e.store.SetAgentStatus(ctx, agentID, status, reason, now)
	if err != nil {
		return Agent{}, err
	}
	e.available.forget()
	e.log.InfoContext(ctx, "agent status", "agent_id", a.ID, "status", status, "reason", reason)
	e.publish(ctx, Event{Type: EventAgentUpdated, ConversationID: AllConversations, Agent: &a})
	if status == StatusOffline {
		e.requeueAgent(ctx, Actor{Type: AuthorSystem}, a)
	}
	e.wakeAssigner()
	return a, nil
}

// TouchAgent records that a console page of the agent is connected, at
// most every touchEvery per instance. An agent handoff set offline because
// none was (StatusGone) is online again.
func (e *Engine) TouchAgent(ctx context.Context, agentID string) {
	e.router.init()
	now := e.now()
	e.router.mu.Lock()
	if last, ok := e.router.touched[agentID]; ok && now.Sub(last) < touchEvery {
		e.router.mu.Unlock()
		return
	}
	e.router.touched[agentID] = now
	e.router.mu.Unlock()
	back, err := e.store.TouchAgent(ctx, agentID, now)
	if err != nil {
		e.log.WarnContext(ctx, "touch agent", "agent_id", agentID, "err", err)
		e.router.mu.Lock()
		delete(e.router.touched, agentID)
		e.router.mu.Unlock()
		return
	}
	e.available.forget() // SeenAt may make the agent available
	if back {
		e.wakeAssigner()
		if a, err := e.store.Agent(ctx, agentID); err == nil {
			e.publish(ctx, Event{Type: EventAgentUpdated, ConversationID: AllConversations, Agent: &a})
		}
	}
}

// AnyoneAvailable reports whether an agent takes conversations now, for the
// customer's "We usually reply…" line.
func (e *Engine) AnyoneAvailable(ctx context.Context) (bool, error) {
	return e.available.get("", func() (bool, error) {
		agents, err := e.store.Agents(ctx)
		if err != nil {
			return false, err
		}
		now := e.now()
		return slices.ContainsFunc(agents, func(a Agent) bool { return a.Available(now) }), nil
	})
}

// RunAssignment sets offline the agents whose consoles are gone (giving
// their conversations to others) and assigns waiting conversations to
// online agents, at once when woken (wakeAssigner) and every interval,
// until ctx ends. Several instances may run it on one store: each claim is
// conditional, so a conversation is assigned once.
func (e *Engine) RunAssignment(ctx context.Context, every time.Duration) {
	e.router.init()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := e.ExpireAbsentAgents(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "expire agents", "err", err)
		}
		if err := e.AutoAssign(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "auto-assign", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.router.kick:
		}
	}
}

// ExpireAbsentAgents sets offline the agents with no console for
// PresenceTTL, and gives their open conversations back to the queue.
func (e *Engine) ExpireAbsentAgents(ctx context.Context) error {
	now := e.now()
	gone, err := e.store.ExpireAgents(ctx, now.Add(-PresenceTTL), now)
	if err != nil {
		return err
	}
	if len(gone) > 0 {
		e.available.forget()
	}
	for _, a := range gone {
		e.log.InfoContext(ctx, "agent offline: no console open", "agent_id", a.ID)
		e.publish(ctx, Event{Type: EventAgentUpdated, ConversationID: AllConversations, Agent: &a})
		e.requeueAgent(ctx, Actor{Type: AuthorSystem}, a)
	}
	return nil
}

// autoAssigned reports whether conversation c is assigned automatically:
// by its skill's setting when it waits in a skill's queue, else by its
// form's.
func (e *Engine) autoAssigned(c Conversation) bool {
	if c.Skill != "" {
		sk, ok := e.config.Skill(c.Skill)
		return ok && sk.AutoAssign
	}
	f, ok := e.config.Form(c.FormID)
	return ok && f.AutoAssign
}

// AutoAssign gives each waiting conversation whose form or skill assigns
// automatically (and no transfer suggested to someone) to an online agent
// with room for it, who has the conversation's skill: the one given a
// conversation longest ago (round robin), the most urgent conversation
// first.
func (e *Engine) AutoAssign(ctx context.Context) error {
	if !e.config.AutoAssigns() {
		return nil
	}
	agents, err := e.store.Agents(ctx)
	if err != nil {
		return err
	}
	now := e.now()
	agents = slices.DeleteFunc(agents, func(a Agent) bool { return !a.Available(now) || a.Capacity <= 0 })
	if len(agents) == 0 {
		return nil
	}
	waiting, _, err := e.store.Conversations(ctx, ConversationFilter{Queue: QueueUnassigned, Lean: true}, 0, autoAssignBatch)
	if err != nil {
		return err
	}
	waiting = slices.DeleteFunc(waiting, func(c Conversation) bool { return c.SuggestedAgentID != "" || !e.autoAssigned(c) })
	if len(waiting) == 0 {
		return nil
	}
	load, err := e.store.OpenAssignments(ctx)
	if err != nil {
		return err
	}
	for _, c := range waiting {
		var pick *Agent
		for i := range agents {
			a := &agents[i]
			if load[a.ID] >= a.Capacity || (c.Skill != "" && !a.HasSkill(c.Skill)) {
				continue
			}
			if pick == nil || earlier(a.LastAssignedAt, pick.LastAssignedAt) {
				pick = a
			}
		}
		if pick == nil {
			continue
		}
		actor := Actor{Type: AuthorSystem}
		_, err := e.assign(ctx, actor, c, Assignment{AssigneeID: pick.ID, Skill: c.Skill, IfUnassigned: true},
			SystemEvent{Code: "assigned", Params: map[string]string{"name": pick.Name}}, pick.Name+" will reply.")
		var cerr *ConflictError
		switch {
		case errors.As(err, &cerr):
			continue // taken meanwhile (another instance, an agent), or ended
		case err != nil:
			return err
		}
		load[pick.ID]++
		t := now
		pick.LastAssignedAt = &t
		e.log.InfoContext(ctx, "auto-assigned", "conversation_id", c.ID, "agent_id", pick.ID)
	}
	return nil
}

// earlier orders optional times, never first.
func earlier(a, b *time.Time) bool {
	switch {
	case a == nil:
		return b != nil
	case b == nil:
		return false
	}
	return cmp.Compare(a.UnixNano(), b.UnixNano()) < 0
}
