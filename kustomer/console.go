package kustomer

import (
	"context"
	"encoding/json"
	"slices"
)

// AgentCounts is what the console's title, favicon and queue tabs show an
// agent: the conversations waiting in their queues (the general one and
// their skills'), and those of theirs with customer messages they have not
// read.
type AgentCounts struct {
	Waiting int `json:"waiting"`
	Unread  int `json:"unread"`
}

// AgentCounts counts a's waiting and unread conversations.
func (e *Engine) AgentCounts(ctx context.Context, a Agent) (AgentCounts, error) {
	skills := append([]string{""}, a.Skills...)
	_, waiting, err := e.store.Conversations(ctx, ConversationFilter{Queue: QueueUnassigned, Skills: skills, Lean: true}, 0, 0)
	if err != nil {
		return AgentCounts{}, err
	}
	_, unread, err := e.store.Conversations(ctx, ConversationFilter{Queue: QueueMine, AgentID: a.ID, Unread: true, Lean: true}, 0, 0)
	if err != nil {
		return AgentCounts{}, err
	}
	return AgentCounts{Waiting: waiting, Unread: unread}, nil
}

// The kinds of console notices.
const (
	NoticeNewConversation = "new_conversation" // in the agent's queues
	NoticeMessage         = "message"          // from the customer, in a conversation of theirs
	NoticeAssigned        = "assigned"         // given to them by someone else, or by auto-assignment
	NoticeSuggested       = "suggested"        // a transfer suggested to them
	NoticeQueued          = "queued"           // back in one of their queues
)

// Notice is what one event may tell agents in the console (a desktop
// notification, a sound), derived once per event (ConsoleNotice) and
// addressed to each agent by For.
type Notice struct {
	// event is what happened: created, message, routed (a system message
	// moving the conversation), or "" for nothing to tell.
	event          string
	ConversationID string
	CustomerName   string
	Preview        string
	assigneeID     string
	skill          string
	queued         bool
	typed          []TypedEvent
}

// ConsoleNotice derives what ev may tell agents: nil for events no agent
// is told of (typing, reads, an agent's own replies, notes).
func (e *Engine) ConsoleNotice(ctx context.Context, ev Event) (*Notice, error) {
	n := &Notice{ConversationID: ev.ConversationID}
	switch {
	case ev.Type == EventConversationCreated && ev.Conversation != nil:
		n.event = "created"
	case ev.Type == EventMessageCreated && ev.Message != nil && !ev.Message.Private:
		m := ev.Message
		switch m.SentBy.Type {
		case AuthorCustomer:
			n.event, n.Preview = "message", preview(m.Body)
		case AuthorSystem:
			var meta struct {
				Event SystemEvent `json:"event"`
			}
			if json.Unmarshal(m.Meta, &meta) != nil || (len(meta.Event.Events) == 0 && meta.Event.Code != "queued") {
				return nil, nil
			}
			n.event, n.typed = "routed", meta.Event.Events
		default:
			return nil, nil
		}
	default:
		return nil, nil
	}
	c, err := e.store.Conversation(ctx, ev.ConversationID)
	if err != nil {
		return nil, err
	}
	n.assigneeID, n.skill = c.AssigneeID, c.Skill
	n.queued = !c.Ended && c.AssigneeID == "" && !c.IsInAssistantMode && c.SuggestedAgentID == ""
	if n.Preview == "" {
		n.Preview = c.Preview
	}
	if cust, err := e.store.Customer(ctx, c.CustomerID); err == nil {
		n.CustomerName = cust.Name
	}
	return n, nil
}

// For says what the notice tells agent a, if anything: one of the Notice
// kinds, or "".
func (n *Notice) For(a Agent) string {
	if n == nil {
		return ""
	}
	inQueues := n.queued && (n.skill == "" || a.HasSkill(n.skill))
	switch n.event {
	case "created":
		if inQueues {
			return NoticeNewConversation
		}
	case "message":
		if n.assigneeID == a.ID {
			return NoticeMessage
		}
	case "routed":
		for _, t := range n.typed {
			if t.By == a.ID {
				return "" // their own doing
			}
		}
		switch {
		case slices.ContainsFunc(n.typed, func(t TypedEvent) bool { return t.Type == EventParticipantAdded && t.ParticipantID == a.ID }):
			return NoticeAssigned
		case slices.ContainsFunc(n.typed, func(t TypedEvent) bool { return t.Type == EventParticipantSuggested && t.ParticipantID == a.ID }):
			return NoticeSuggested
		case inQueues:
			return NoticeQueued
		}
	}
	return ""
}
