package kustomer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Errors of sign-in. Both read the same to a person on purpose only where
// that does not matter: a disabled account is told so.
var (
	// ErrBadCredentials means no account has this email and password.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrAccountDisabled means the account exists but was disabled.
	ErrAccountDisabled = errors.New("account disabled")
	// ErrSessionEnded means an agent's session was ended (signed out,
	// password changed, signed out everywhere), has expired, or never
	// existed.
	ErrSessionEnded = errors.New("session ended")
)

// Limits on accounts and ratings.
const (
	MinPasswordLen    = 12
	maxPasswordBytes  = 72 // bcrypt's limit
	MaxCSATCommentLen = 1000
	// MaxAgentNameLen bounds the display name customers read.
	MaxAgentNameLen     = 80
	maxSkillsPerAccount = 20
)

// requireOrg refuses customers: agent-side operations belong to the
// organization.
func requireOrg(actor Actor) error {
	if actor.IsCustomer() || actor.Type == "" {
		return fmt.Errorf("agent operation: %w", ErrForbidden)
	}
	return nil
}

// systemEvent is the system message that records an operation in the
// transcript. Its body is in plain words (English) for the customer and the
// agents, and its meta names the event (code and params) so that a page can
// say it in its reader's language; its author is who performed it.
func (e *Engine) systemEvent(conversationID string, by Actor, at time.Time, ev SystemEvent, text string) NewMessage {
	meta, _ := json.Marshal(map[string]SystemEvent{"event": ev})
	return NewMessage{Message: Message{
		ID:             NewID(),
		ConversationID: conversationID,
		Body:           text,
		Meta:           meta,
		Direction:      DirectionOut,
		CreatedAt:      at,
		Attachments:    []Attachment{},
		SentBy:         Author{Type: AuthorSystem, ID: by.ID, DisplayName: by.Name},
	}}
}

// SystemEvent names what a system message records: Code (joined,
// transferred_agent, transferred_team, queued, left, ended, reopened) and
// the names it mentions (Params: name, team).
type SystemEvent struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
	// Events are what happened as typed events, for integrations and the
	// console (participant-added, transfer-agent, ttr-change…), beside the
	// sentence a person reads.
	Events []TypedEvent `json:"events,omitempty"`
}

// The typed events' types, as the agent side names them.
const (
	EventParticipantAdded     = "participant-added"
	EventParticipantRemoved   = "participant-removed"
	EventParticipantSuggested = "participant-suggested"
	EventTransferAgent        = "transfer-agent"
	EventTransferSkill        = "transfer-skill"
	EventBackToQueue          = "back-to-queue"
	EventTTRChange            = "ttr-change"
	EventManualETTRChange     = "manual-ettr-change"
	EventDialogClose          = "dialog:close"
)

// RoleAssignedAgent is the role of the agent a conversation is assigned
// to, in participant events.
const RoleAssignedAgent = "ASSIGNED_AGENT"

// TypedEvent is one typed event: its type and the fields that type has.
type TypedEvent struct {
	Type          string     `json:"type"`
	ParticipantID string     `json:"participantId,omitempty"`
	Role          string     `json:"role,omitempty"`
	FromAgentID   string     `json:"fromAgentId,omitempty"`
	ToAgentID     string     `json:"toAgentId,omitempty"`
	FromSkillID   string     `json:"fromSkillId,omitempty"`
	SkillID       string     `json:"skillId,omitempty"`
	TTRType       string     `json:"ttrType,omitempty"`
	Value         int64      `json:"value,omitempty"`
	Time          *time.Time `json:"time,omitempty"`
	ClosedBy      string     `json:"closedBy,omitempty"`
	By            string     `json:"by,omitempty"` // who did it: an agent's id
}

// assignmentEvents are the typed events of moving conversation c to a.
func assignmentEvents(actor Actor, c Conversation, a Assignment) []TypedEvent {
	var evs []TypedEvent
	by := actor.ID
	if c.AssigneeID != "" && c.AssigneeID != a.AssigneeID {
		evs = append(evs, TypedEvent{Type: EventParticipantRemoved, ParticipantID: c.AssigneeID, Role: RoleAssignedAgent, By: by})
	}
	switch {
	case a.AssigneeID != "" && a.AssigneeID != c.AssigneeID:
		evs = append(evs, TypedEvent{Type: EventParticipantAdded, ParticipantID: a.AssigneeID, Role: RoleAssignedAgent, By: by})
		if a.AssigneeID != actor.ID {
			evs = append(evs, TypedEvent{Type: EventTransferAgent, FromAgentID: c.AssigneeID, ToAgentID: a.AssigneeID, SkillID: a.Skill, By: by})
		}
	case a.AssigneeID == "" && a.Skill != c.Skill:
		evs = append(evs, TypedEvent{Type: EventTransferSkill, FromSkillID: c.Skill, SkillID: a.Skill, FromAgentID: c.AssigneeID, By: by})
	case a.AssigneeID == "":
		evs = append(evs, TypedEvent{Type: EventBackToQueue, SkillID: a.Skill, FromAgentID: c.AssigneeID, By: by})
	}
	if a.SuggestedID != "" {
		evs = append(evs, TypedEvent{Type: EventParticipantSuggested, ParticipantID: a.SuggestedID, Role: RoleAssignedAgent, By: by})
	}
	return evs
}

// closeEvent is the typed event of actor ending a conversation.
func closeEvent(actor Actor) TypedEvent {
	closedBy := map[AuthorType]string{AuthorCustomer: "CONSUMER", AuthorAgent: "AGENT", AuthorAssistant: "ASSISTANT"}[actor.Type]
	if closedBy == "" {
		closedBy = "SYSTEM"
	}
	return TypedEvent{Type: EventDialogClose, ClosedBy: closedBy, ParticipantID: actor.ID}
}

// Event is the event a system message records in its meta, or nil.
func (m Message) Event() *SystemEvent {
	if m.SentBy.Type != AuthorSystem || len(m.Meta) == 0 {
		return nil
	}
	var meta struct {
		Event *SystemEvent `json:"event"`
	}
	if json.Unmarshal(m.Meta, &meta) != nil {
		return nil
	}
	return meta.Event
}

// assign stores a new assignment with its system message and publishes both.
func (e *Engine) assign(ctx context.Context, actor Actor, c Conversation, a Assignment, ev SystemEvent, text string) (Conversation, error) {
	at := e.now()
	ev.Events = assignmentEvents(actor, c, a)
	event := withHooks(e.systemEvent(c.ID, actor, at, ev, text), map[string]any{
		"assigneeId": a.AssigneeID, "skill": a.Skill, "suggestedAgentId": a.SuggestedID, "isInAssistantMode": false,
	})
	c, m, err := e.store.UpdateAssignment(ctx, c.ID, a, at, event)
	if err != nil {
		return Conversation{}, err
	}
	e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &m})
	e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &c})
	return c, nil
}

// openConversation returns a conversation an organization actor may change.
func (e *Engine) openConversation(ctx context.Context, actor Actor, id string) (Conversation, error) {
	if err := requireOrg(actor); err != nil {
		return Conversation{}, err
	}
	c, err := e.Conversation(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	if c.Ended {
		return Conversation{}, &ConflictError{Code: "conversation_ended", Reason: "the conversation has ended; reopen it first"}
	}
	return c, nil
}

// Join assigns the conversation to the acting agent.
func (e *Engine) Join(ctx context.Context, actor Actor, conversationID string) (Conversation, error) {
	if actor.Type != AuthorAgent {
		return Conversation{}, fmt.Errorf("join: only agents join: %w", ErrForbidden)
	}
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	if c.AssigneeID == actor.ID {
		return c, nil
	}
	return e.assign(ctx, actor, c, Assignment{AssigneeID: actor.ID, Skill: c.Skill}, SystemEvent{Code: "joined", Params: map[string]string{"name": actor.Name}}, actor.Name+" joined the conversation.")
}

// TransferToAgent assigns the conversation to another active agent.
func (e *Engine) TransferToAgent(ctx context.Context, actor Actor, conversationID, agentID string) (Conversation, error) {
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	target, err := e.store.Agent(ctx, agentID)
	if errors.Is(err, ErrNotFound) || (err == nil && target.Disabled) {
		return Conversation{}, &ValidationError{Fields: map[string]string{"agentId": "must name an active agent"}}
	}
	if err != nil {
		return Conversation{}, err
	}
	if c.AssigneeID == target.ID {
		return c, nil
	}
	return e.assign(ctx, actor, c, Assignment{AssigneeID: target.ID, Skill: c.Skill}, SystemEvent{Code: "transferred_agent", Params: map[string]string{"name": target.Name}}, "Transferred to "+target.Name+".")
}

// TransferToSkill puts the conversation back in the queue of a skill, with
// nobody assigned.
func (e *Engine) TransferToSkill(ctx context.Context, actor Actor, conversationID, skill string) (Conversation, error) {
	if err := requireOrg(actor); err != nil {
		return Conversation{}, err
	}
	sk, ok := e.config.Skill(skill)
	if !ok {
		return Conversation{}, &ValidationError{Fields: map[string]string{"skill": fmt.Sprintf("%q is not a defined skill", skill)}}
	}
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	if c.AssigneeID == "" && c.Skill == sk.ID {
		return c, nil
	}
	return e.assign(ctx, actor, c, Assignment{Skill: sk.ID}, SystemEvent{Code: "transferred_team", Params: map[string]string{"team": sk.Name}}, "Transferred to the "+sk.Name+" team. The next available agent will reply.")
}

// TransferInput is where a transfer sends a conversation, as the agent
// side's transfer takes it: to an agent, to a skill's queue, to an agent
// with that skill, or (neither) back to its queue. With Suggest, the
// agent is only suggested: the conversation waits unassigned until they
// accept it (AcceptSuggestion).
type TransferInput struct {
	AgentID string
	Skill   string
	Suggest bool
}

// Transfer sends the conversation where in says.
func (e *Engine) Transfer(ctx context.Context, actor Actor, conversationID string, in TransferInput) (Conversation, error) {
	switch {
	case in.Suggest && in.AgentID == "":
		return Conversation{}, &ValidationError{Fields: map[string]string{"agentId": "a suggested transfer names the agent to suggest"}}
	case in.AgentID == "" && in.Skill == "":
		return e.Unassign(ctx, actor, conversationID)
	case in.AgentID == "":
		return e.TransferToSkill(ctx, actor, conversationID, in.Skill)
	case in.Skill == "" && !in.Suggest:
		return e.TransferToAgent(ctx, actor, conversationID, in.AgentID)
	}
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	target, err := e.activeAgent(ctx, in.AgentID)
	if err != nil {
		return Conversation{}, err
	}
	skill, team := c.Skill, ""
	if in.Skill != "" {
		sk, ok := e.config.Skill(in.Skill)
		if !ok {
			return Conversation{}, &ValidationError{Fields: map[string]string{"skill": fmt.Sprintf("%q is not a defined skill", in.Skill)}}
		}
		skill, team = sk.ID, sk.Name
	}
	if in.Suggest {
		if c.SuggestedAgentID == target.ID && c.AssigneeID == "" && c.Skill == skill {
			return c, nil
		}
		return e.assign(ctx, actor, c, Assignment{Skill: skill, SuggestedID: target.ID}, SystemEvent{Code: "queued"},
			"Suggested to "+target.Name+"; waiting in the queue until they accept.")
	}
	if c.AssigneeID == target.ID && c.Skill == skill {
		return c, nil
	}
	return e.assign(ctx, actor, c, Assignment{AssigneeID: target.ID, Skill: skill}, SystemEvent{Code: "transferred_agent", Params: map[string]string{"name": target.Name}},
		"Transferred to "+target.Name+" ("+team+").")
}

// AcceptSuggestion is the suggested agent taking the conversation a
// transfer suggested to them.
func (e *Engine) AcceptSuggestion(ctx context.Context, actor Actor, conversationID string) (Conversation, error) {
	if actor.Type != AuthorAgent {
		return Conversation{}, fmt.Errorf("accept: only agents accept: %w", ErrForbidden)
	}
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	if c.SuggestedAgentID != actor.ID {
		return Conversation{}, &ConflictError{Code: "not_suggested", Reason: "the conversation is not suggested to you (any more)"}
	}
	return e.assign(ctx, actor, c, Assignment{AssigneeID: actor.ID, Skill: c.Skill}, SystemEvent{Code: "joined", Params: map[string]string{"name": actor.Name}}, actor.Name+" joined the conversation.")
}

// activeAgent is agent id, or a validation error on agentId when there is
// no such active agent.
func (e *Engine) activeAgent(ctx context.Context, id string) (Agent, error) {
	a, err := e.store.Agent(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && a.Disabled) {
		return Agent{}, &ValidationError{Fields: map[string]string{"agentId": "must name an active agent"}}
	}
	return a, err
}

// Unassign puts the conversation back in its queue.
func (e *Engine) Unassign(ctx context.Context, actor Actor, conversationID string) (Conversation, error) {
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	if c.AssigneeID == "" {
		return c, nil
	}
	return e.assign(ctx, actor, c, Assignment{Skill: c.Skill}, SystemEvent{Code: "queued"}, "Back in the queue. The next available agent will reply.")
}

// ReopenConversation reopens an ended conversation.
func (e *Engine) ReopenConversation(ctx context.Context, actor Actor, conversationID string) (Conversation, error) {
	if err := requireOrg(actor); err != nil {
		return Conversation{}, err
	}
	if _, err := e.Conversation(ctx, actor, conversationID); err != nil {
		return Conversation{}, err
	}
	at := e.now()
	event := e.systemEvent(conversationID, actor, at, SystemEvent{Code: "reopened"}, "The conversation was reopened.")
	c, m, changed, err := e.store.ReopenConversation(ctx, conversationID, at, withHooks(event, map[string]any{"ended": false, "satisfaction": nil}))
	if err != nil {
		return Conversation{}, err
	}
	if changed {
		e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &m})
		e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &c})
		// An assignee who was disabled meanwhile cannot answer: back to the
		// queue.
		if c.AssigneeID != "" {
			if a, err := e.store.Agent(ctx, c.AssigneeID); err != nil || a.Disabled {
				return e.assign(ctx, actor, c, Assignment{Skill: c.Skill}, SystemEvent{Code: "queued"}, "Back in the queue. The next available agent will reply.")
			}
		}
	}
	return c, nil
}

// RateConversation records the customer's satisfaction (1 to 5, with an
// optional comment) once the conversation has ended; once only.
func (e *Engine) RateConversation(ctx context.Context, actor Actor, conversationID string, rating int, comment string) (Conversation, error) {
	if !actor.IsCustomer() {
		return Conversation{}, fmt.Errorf("rate: only the customer rates: %w", ErrForbidden)
	}
	verr := &ValidationError{}
	if rating < 1 || rating > 5 {
		verr.Add("rating", "must be a whole number from 1 to 5")
	}
	comment = strings.TrimSpace(strings.ReplaceAll(comment, "\r\n", "\n"))
	switch {
	case !utf8.ValidString(comment):
		verr.Add("comment", "must be valid UTF-8 text")
	case utf8.RuneCountInString(comment) > MaxCSATCommentLen:
		verr.AddProblem("comment", "too_long", map[string]int{"max": MaxCSATCommentLen, "length": utf8.RuneCountInString(comment)},
			fmt.Sprintf("must be at most %d characters", MaxCSATCommentLen))
	}
	if err := verr.OrNil(); err != nil {
		return Conversation{}, err
	}
	if _, err := e.Conversation(ctx, actor, conversationID); err != nil {
		return Conversation{}, err
	}
	sat := Satisfaction{Rating: rating, Comment: comment, CreatedAt: e.now()}
	c, err := e.store.RateConversation(ctx, conversationID, sat,
		hookItem(WebhookSatisfactionReceived, conversationID, "", false, sat.CreatedAt, map[string]any{"satisfaction": sat}),
		updatedHook(conversationID, sat.CreatedAt, map[string]any{"satisfaction": sat}))
	if err != nil {
		return Conversation{}, err
	}
	e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &c})
	return c, nil
}

// Inbox lists conversations for an agent: a queue, filtered by form and
// skill, with the agent's unread counts.
func (e *Engine) Inbox(ctx context.Context, actor Actor, f ConversationFilter, page, pageSize int) (ConversationPage, error) {
	f.Lean = true // inbox rows show no attributes
	return e.conversations(ctx, actor, f, page, pageSize)
}

// conversations is Inbox, every field read unless f says Lean.
func (e *Engine) conversations(ctx context.Context, actor Actor, f ConversationFilter, page, pageSize int) (ConversationPage, error) {
	if err := requireOrg(actor); err != nil {
		return ConversationPage{}, err
	}
	verr := &ValidationError{}
	if f.Queue != "" && !f.Queue.Valid() {
		verr.Add("queue", "must be unassigned, mine, open or ended")
	}
	if f.FormID != "" {
		if _, ok := e.config.Form(f.FormID); !ok {
			verr.Add("form", fmt.Sprintf("%q is not a defined form", f.FormID))
		}
	}
	if f.Skill != "" {
		if _, ok := e.config.Skill(f.Skill); !ok {
			verr.Add("skill", fmt.Sprintf("%q is not a defined skill", f.Skill))
		}
	}
	if err := verr.OrNil(); err != nil {
		return ConversationPage{}, err
	}
	if actor.Type == AuthorAgent {
		f.AgentID = actor.ID
	}
	p, err := e.listConversations(ctx, f, page, pageSize)
	if err != nil {
		return p, err
	}
	return e.withMatches(ctx, f, p)
}

// Accounts.

// hashPassword hashes a checked password with bcrypt.
func (e *Engine) hashPassword(pw string) (string, error) {
	cost := e.PasswordCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func checkPassword(verr *ValidationError, pw string) {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		verr.Add("password", fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case len(pw) > maxPasswordBytes:
		verr.Add("password", fmt.Sprintf("must be at most %d bytes", maxPasswordBytes))
	}
}

func (e *Engine) checkAgentFields(verr *ValidationError, name *string, role *Role, skills *[]string) {
	if name != nil {
		*name = strings.TrimSpace(*name)
		if n := utf8.RuneCountInString(*name); n == 0 || n > MaxAgentNameLen {
			verr.Add("name", fmt.Sprintf("must be 1 to %d characters", MaxAgentNameLen))
		}
	}
	if role != nil && *role != RoleAgent && *role != RoleAdmin {
		verr.Add("role", "must be agent or admin")
	}
	if skills != nil {
		if len(*skills) > maxSkillsPerAccount {
			verr.Add("skills", fmt.Sprintf("at most %d skills", maxSkillsPerAccount))
		}
		clean := []string{}
		for _, s := range *skills {
			if _, ok := e.config.Skill(s); !ok {
				verr.Add("skills", fmt.Sprintf("%q is not a defined skill", s))
				continue
			}
			if !slices.Contains(clean, s) {
				clean = append(clean, s)
			}
		}
		*skills = clean
	}
}

// CreateAgent adds an account, recording that by created it.
func (e *Engine) CreateAgent(ctx context.Context, by Actor, in NewAgentInput) (Agent, error) {
	verr := &ValidationError{}
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if _, msg := checkEmail(in.Email); msg != "" {
		verr.Add("email", msg)
	}
	checkPassword(verr, in.Password)
	if in.Role == "" {
		in.Role = RoleAgent
	}
	if in.Skills == nil {
		in.Skills = []string{}
	}
	capacity := DefaultCapacity
	if in.Capacity != nil {
		capacity = *in.Capacity
	}
	checkCapacity(verr, &capacity)
	e.checkAgentFields(verr, &in.Name, &in.Role, &in.Skills)
	if err := verr.OrNil(); err != nil {
		return Agent{}, err
	}
	hash, err := e.hashPassword(in.Password)
	if err != nil {
		return Agent{}, err
	}
	now := e.now()
	a := Agent{ID: NewID(), Email: in.Email, Name: in.Name, Role: in.Role, Skills: in.Skills, Capacity: capacity, Status: StatusOffline,
		CreatedAt: now, UpdatedAt: now, PasswordHash: hash}
	audit := e.newAudit(by, AuditAgents, a.ID, a.Name, AuditCreated)
	audit.change("email", "", a.Email)
	audit.change("role", "", string(a.Role))
	audit.change("skills", "", strings.Join(a.Skills, ", "))
	audit.change("capacity", "", strconv.Itoa(a.Capacity))
	if err := e.store.SaveAgent(ctx, a, audit); err != nil {
		var cerr *ConflictError
		if errors.As(err, &cerr) {
			return Agent{}, &ValidationError{Fields: map[string]string{"email": "an account with this email exists"}}
		}
		return Agent{}, err
	}
	return a, nil
}

// UpdateAgent changes an account. Disabling an agent puts their open
// conversations back in the queue; the last active admin cannot be disabled
// or demoted.
func (e *Engine) UpdateAgent(ctx context.Context, by Actor, id string, in UpdateAgentInput) (Agent, error) {
	a, err := e.store.Agent(ctx, id)
	if err != nil {
		return Agent{}, err
	}
	// Check and clean copies: the caller's values stay as given, to show
	// back with the errors.
	if in.Name != nil {
		n := *in.Name
		in.Name = &n
	}
	if in.Skills != nil {
		s := slices.Clone(*in.Skills)
		in.Skills = &s
	}
	verr := &ValidationError{}
	e.checkAgentFields(verr, in.Name, in.Role, in.Skills)
	checkCapacity(verr, in.Capacity)
	if in.Password != "" {
		checkPassword(verr, in.Password)
	}
	if err := verr.OrNil(); err != nil {
		return Agent{}, err
	}
	wasActiveAdmin := a.Role == RoleAdmin && !a.Disabled
	before := a
	if in.Name != nil {
		a.Name = *in.Name
	}
	if in.Role != nil {
		a.Role = *in.Role
	}
	if in.Skills != nil {
		a.Skills = *in.Skills
	}
	if in.Capacity != nil {
		a.Capacity = *in.Capacity
	}
	disabling := in.Disabled != nil && *in.Disabled && !a.Disabled
	if in.Disabled != nil {
		a.Disabled = *in.Disabled
	}
	if wasActiveAdmin && (a.Role != RoleAdmin || a.Disabled) {
		agents, err := e.store.Agents(ctx)
		if err != nil {
			return Agent{}, err
		}
		admins := 0
		for _, x := range agents {
			if x.Role == RoleAdmin && !x.Disabled {
				admins++
			}
		}
		if admins <= 1 {
			return Agent{}, &ConflictError{Code: "last_admin", Reason: "at least one active admin must remain"}
		}
	}
	if in.Password != "" {
		if a.PasswordHash, err = e.hashPassword(in.Password); err != nil {
			return Agent{}, err
		}
	}
	a.UpdatedAt = e.now()
	if err := e.store.SaveAgent(ctx, a, agentAudit(e.newAudit(by, AuditAgents, a.ID, before.Name, AuditUpdated), before, a, in.Password != "").ifChanged()...); err != nil {
		return Agent{}, err
	}
	if in.Password != "" || disabling {
		keep := in.KeepSessionID
		if disabling {
			keep = ""
		}
		if _, err := e.store.DeleteAgentSessions(ctx, a.ID, keep); err != nil {
			return Agent{}, err
		}
	}
	if disabling {
		e.requeueAgent(ctx, by, a)
	}
	e.available.forget()
	e.wakeAssigner() // skills or capacity may have changed
	e.publish(ctx, Event{Type: EventAgentUpdated, ConversationID: AllConversations, Agent: &a})
	return a, nil
}

// agentAudit completes entry with what changed from before to after.
func agentAudit(entry AuditEntry, before, after Agent, password bool) AuditEntry {
	entry.change("name", before.Name, after.Name)
	entry.change("role", string(before.Role), string(after.Role))
	entry.change("skills", strings.Join(before.Skills, ", "), strings.Join(after.Skills, ", "))
	entry.change("capacity", strconv.Itoa(before.Capacity), strconv.Itoa(after.Capacity))
	entry.change("status", accountStatus(before), accountStatus(after))
	if password {
		entry.changed("password")
	}
	return entry
}

// accountStatus names whether an account may sign in, for the audit log.
func accountStatus(a Agent) string {
	if a.Disabled {
		return "disabled"
	}
	return "active"
}

// requeueAgent puts a removed agent's open conversations back in the queue.
func (e *Engine) requeueAgent(ctx context.Context, by Actor, a Agent) {
	for {
		page, _, err := e.store.Conversations(ctx, ConversationFilter{Queue: QueueMine, AgentID: a.ID}, 0, MaxPageSize)
		if err != nil {
			e.log.ErrorContext(ctx, "requeue conversations of disabled agent", "agent_id", a.ID, "err", err)
			return
		}
		if len(page) == 0 {
			return
		}
		for _, c := range page {
			if _, err := e.assign(ctx, by, c, Assignment{Skill: c.Skill}, SystemEvent{Code: "left", Params: map[string]string{"name": a.Name}}, a.Name+" left. The next available agent will reply."); err != nil {
				e.log.ErrorContext(ctx, "requeue conversation", "conversation_id", c.ID, "err", err)
				return
			}
		}
	}
}

// Agent returns an account.
func (e *Engine) Agent(ctx context.Context, id string) (Agent, error) {
	if !ValidID(id) {
		return Agent{}, fmt.Errorf("agent %q: %w", id, ErrNotFound)
	}
	return e.store.Agent(ctx, id)
}

// Agents lists every account.
func (e *Engine) Agents(ctx context.Context) ([]Agent, error) { return e.store.Agents(ctx) }

// dummyHash is compared against when no account matches, so that a wrong
// email takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("handoff-dummy-password"), bcrypt.DefaultCost)

// Authenticate checks an email and password.
func (e *Engine) Authenticate(ctx context.Context, email, password string) (Agent, error) {
	a, err := e.store.AgentByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, ErrNotFound) || len(password) > maxPasswordBytes {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte("x"))
		return Agent{}, ErrBadCredentials
	}
	if err != nil {
		return Agent{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return Agent{}, ErrBadCredentials
	}
	if a.Disabled {
		return Agent{}, ErrAccountDisabled
	}
	return a, nil
}

// EnsureAdmin creates the first admin from configuration (email, name and
// password) when no admin exists yet; without an email and a password it
// does nothing. An existing account is never changed.
func (e *Engine) EnsureAdmin(ctx context.Context, in NewAgentInput) (created bool, err error) {
	agents, err := e.store.Agents(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range agents {
		if a.Role == RoleAdmin {
			return false, nil
		}
	}
	if in.Email == "" || in.Password == "" {
		return false, nil
	}
	in.Role = RoleAdmin
	a, err := e.CreateAgent(ctx, Actor{Type: AuthorSystem}, in)
	if err != nil {
		return false, err
	}
	// The account's id, not its email: addresses stay out of the logs.
	e.log.InfoContext(ctx, "created the first admin", slog.String("agent_id", a.ID))
	return true, nil
}

// Sessions.

// StartAgentSession signs an agent in: a new session that lasts
// AgentSessionLength unless it is ended first.
func (e *Engine) StartAgentSession(ctx context.Context, agentID string) (AgentSession, error) {
	now := e.now()
	s := AgentSession{ID: newSessionID(), AgentID: agentID, CreatedAt: now, ExpiresAt: now.Add(AgentSessionLength)}
	if err := e.store.CreateAgentSession(ctx, s); err != nil {
		return AgentSession{}, err
	}
	return s, nil
}

// AgentBySession returns the agent signed in with a live session. It
// returns ErrAccountDisabled when the account is disabled, and
// ErrSessionEnded when the session was ended, has expired or is not the
// agent's.
func (e *Engine) AgentBySession(ctx context.Context, agentID, sessionID string) (Agent, error) {
	if !ValidID(agentID) {
		return Agent{}, fmt.Errorf("agent session: %w", ErrSessionEnded)
	}
	if validSessionID(sessionID) {
		s, a, err := e.store.AgentSession(ctx, sessionID)
		switch {
		case err == nil && s.AgentID == agentID && e.now().Before(s.ExpiresAt):
			if a.Disabled {
				return Agent{}, fmt.Errorf("agent session: %w", ErrAccountDisabled)
			}
			return a, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return Agent{}, err
		}
	}
	// Disabling ends the sessions too: say so rather than "signed out".
	if a, err := e.store.Agent(ctx, agentID); err == nil && a.Disabled {
		return Agent{}, fmt.Errorf("agent session: %w", ErrAccountDisabled)
	}
	return Agent{}, fmt.Errorf("agent session: %w", ErrSessionEnded)
}

// EndAgentSession ends one session of the agent (signing out of one
// browser) and announces it, so that the session's sockets close.
func (e *Engine) EndAgentSession(ctx context.Context, agentID, sessionID string) error {
	if !ValidID(agentID) || !validSessionID(sessionID) {
		return nil // no such session
	}
	if err := e.store.DeleteAgentSession(ctx, sessionID); err != nil {
		return err
	}
	e.announceSessions(ctx, agentID)
	return nil
}

// EndAgentSessions ends every session of the agent (signing out
// everywhere) and announces it, so that every socket of theirs closes.
func (e *Engine) EndAgentSessions(ctx context.Context, by Actor, agentID string) error {
	if err := requireOrg(by); err != nil {
		return err
	}
	a, err := e.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	n, err := e.store.DeleteAgentSessions(ctx, agentID, "", e.newAudit(by, AuditAgents, a.ID, a.Name, AuditSignedOut))
	if err != nil {
		return err
	}
	e.log.InfoContext(ctx, "agent signed out everywhere", "agent_id", agentID, "sessions", n, "by", by.ID)
	e.announceSessions(ctx, agentID)
	return nil
}

// announceSessions publishes agent.updated for an agent whose sessions
// ended; subscribers read the sessions back from the store.
func (e *Engine) announceSessions(ctx context.Context, agentID string) {
	a, err := e.store.Agent(ctx, agentID)
	if err != nil {
		e.log.WarnContext(ctx, "announce ended sessions", "agent_id", agentID, "err", err)
		return
	}
	e.publish(ctx, Event{Type: EventAgentUpdated, ConversationID: AllConversations, Agent: &a})
}

// ChangePassword changes an agent's own password, given the current one,
// and ends every other session of theirs; the session sessionID stays
// signed in. A wrong current password is a validation error on "current".
func (e *Engine) ChangePassword(ctx context.Context, agentID, sessionID, current, next string) error {
	a, err := e.store.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	verr := &ValidationError{}
	if len(current) > maxPasswordBytes || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(current)) != nil {
		verr.Add("current", "does not match your current password")
	}
	checkPassword(verr, next)
	if err := verr.OrNil(); err != nil {
		return err
	}
	_, err = e.UpdateAgent(ctx, a.Actor(), agentID, UpdateAgentInput{Password: next, KeepSessionID: sessionID})
	return err
}

// SubscribeAll returns the live events of every conversation, for the agent
// inbox.
func (e *Engine) SubscribeAll(ctx context.Context, actor Actor) (Subscription, error) {
	if err := requireOrg(actor); err != nil {
		return nil, err
	}
	return e.broker.Subscribe(AllConversations), nil
}

// SubscribeAllFunc is SubscribeAll for a subscriber told by notify when
// events wait (see Broker.SubscribeFunc).
func (e *Engine) SubscribeAllFunc(ctx context.Context, actor Actor, notify func()) (QueuedSubscription, error) {
	if err := requireOrg(actor); err != nil {
		return nil, err
	}
	return e.broker.SubscribeFunc(AllConversations, notify), nil
}

// MaxAgentNoteLen bounds an agents' note; a longer one is kept truncated.
const MaxAgentNoteLen = 5000

// maxAgentNotes bounds the history AgentNotes returns.
const maxAgentNotes = 100

// SetAgentNote records actor's note on the conversation as a whole: it
// becomes the conversation's note, the earlier ones its history. A note
// longer than MaxAgentNoteLen characters is kept truncated, and truncated
// says so. Only the organization writes notes.
func (e *Engine) SetAgentNote(ctx context.Context, actor Actor, conversationID, text string) (n AgentNote, truncated bool, err error) {
	if actor.IsCustomer() {
		return AgentNote{}, false, fmt.Errorf("agent note: %w", ErrForbidden)
	}
	if !utf8.ValidString(text) {
		return AgentNote{}, false, &ValidationError{Fields: map[string]string{"note": "must be valid UTF-8 text"}}
	}
	text = strings.TrimSpace(normalizeBody(text))
	if r := []rune(text); len(r) > MaxAgentNoteLen {
		text, truncated = strings.TrimSpace(string(r[:MaxAgentNoteLen])), true
	}
	if _, err := e.Conversation(ctx, actor, conversationID); err != nil {
		return AgentNote{}, false, err
	}
	n = AgentNote{ID: NewID(), ConversationID: conversationID, Text: text, AgentID: actor.ID, AgentName: actor.Name, CreatedAt: e.now()}
	if err := e.store.AddAgentNote(ctx, n); err != nil {
		return AgentNote{}, false, err
	}
	return n, truncated, nil
}

// AgentNotes returns the conversation's note and its history, the latest
// first. Only the organization reads notes.
func (e *Engine) AgentNotes(ctx context.Context, actor Actor, conversationID string) ([]AgentNote, error) {
	if actor.IsCustomer() {
		return nil, fmt.Errorf("agent notes: %w", ErrForbidden)
	}
	if _, err := e.Conversation(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	return e.store.AgentNotes(ctx, conversationID, maxAgentNotes)
}
