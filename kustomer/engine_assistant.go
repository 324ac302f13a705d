package kustomer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// assistantInput reads a send's payload: a quick reply's
// {"step", "payload", "visited"} object, or a bare string payload.
func assistantInput(body string, payload json.RawMessage) AssistantInput {
	in := AssistantInput{Text: body}
	if len(payload) == 0 {
		return in
	}
	var obj struct {
		Step    string   `json:"step"`
		Payload string   `json:"payload"`
		Visited []string `json:"visited"`
	}
	if json.Unmarshal(payload, &obj) == nil {
		in.Step, in.Payload, in.Visited = obj.Step, obj.Payload, obj.Visited
		return in
	}
	var s string
	if json.Unmarshal(payload, &s) == nil {
		in.Payload = s
	}
	return in
}

// applyAssistantTurn stores what the assistant decided and publishes it.
// A turn raced by another (ErrStaleAnswer) is dropped: the first applies.
func (e *Engine) applyAssistantTurn(ctx context.Context, c Conversation, expect json.RawMessage, turn AssistantTurn) (Conversation, error) {
	return e.applyTurn(ctx, c, expect, turn, "")
}

// applyTurn is applyAssistantTurn; begin, when set, is the assistant the
// turn starts on a conversation that had none (c.AssistantID is it).
func (e *Engine) applyTurn(ctx context.Context, c Conversation, expect json.RawMessage, turn AssistantTurn, begin string) (Conversation, error) {
	name, avatar, _ := e.Assistants.Profile(c.AssistantID)
	if name == "" {
		name = "Assistant"
	}
	at := e.now()
	set, err := e.config.ConversationAttributes().Validate(turn.Set, "customAttributes.")
	if err != nil {
		return c, fmt.Errorf("assistant %s set invalid attributes: %w", c.AssistantID, err)
	}
	apply := AssistantApply{ExpectState: expect, State: turn.State, Set: set, At: at, Begin: begin}
	for _, say := range turn.Say {
		m := Message{
			ID: NewID(), ConversationID: c.ID, Body: say.Text, Direction: DirectionOut, CreatedAt: at,
			Attachments: []Attachment{}, SentBy: Author{Type: AuthorAssistant, ID: c.AssistantID, DisplayName: name, AvatarURL: avatar},
		}
		if len(say.Question) > 0 {
			m.Meta, _ = json.Marshal(map[string]json.RawMessage{"question": say.Question})
		}
		// Relayed too, so that the team reads the whole dialogue in the
		// system it answers from.
		outbox := append(messageHooks(m), e.relayItem(RelayOp{Op: RelayMessage, ConversationID: c.ID, MessageID: m.ID}, at)...)
		apply.Messages = append(apply.Messages, NewMessage{Message: m, Preview: preview(say.Text), Outbox: outbox})
	}
	changes := map[string]any{}
	if begin != "" {
		changes["assistantId"], changes["isInAssistantMode"] = begin, !turn.End && turn.Transfer == nil
	}
	if len(set) > 0 {
		changes["customAttributes"] = set
	}
	if turn.Transfer != nil {
		apply.LeaveAssistant, apply.Skill = true, *turn.Transfer
		changes["isInAssistantMode"], changes["skill"] = false, *turn.Transfer
	}
	if turn.End {
		by := Author{Type: AuthorAssistant, ID: c.AssistantID, DisplayName: name}
		apply.End = &by
		endedBy := Actor{Type: AuthorAssistant, ID: c.AssistantID, Name: name}
		event := e.systemEvent(c.ID, endedBy, at, SystemEvent{Code: "ended", Events: []TypedEvent{closeEvent(endedBy)}}, "The conversation has ended.")
		event.Outbox = messageHooks(event.Message)
		apply.Messages = append(apply.Messages, event)
		maps.Copy(changes, endChanges(by, at))
		changes["isInAssistantMode"] = false
	}
	if len(changes) > 0 {
		apply.Outbox = []OutboxItem{updatedHook(c.ID, at, changes)}
	}
	updated, msgs, err := e.store.ApplyAssistantTurn(ctx, c.ID, apply)
	if errors.Is(err, ErrStaleAnswer) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	for i := range msgs {
		e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &msgs[i]})
	}
	if len(set) > 0 || apply.LeaveAssistant || apply.End != nil {
		// With isInAssistantMode false this is the SDK's onAssistantEnded.
		e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &updated})
	}
	return updated, nil
}

// startAssistant puts a conversation that had no assistant in the care
// of assistant id, which answers message, the customer's latest: the
// SDK's initAssistantPayload on the first send. A conversation that got
// an assistant meanwhile is left as it is.
func (e *Engine) startAssistant(ctx context.Context, c Conversation, id, message string) {
	turn, err := e.Assistants.Begin(id, c.Lang, c.CustomAttributes, message, e.now())
	if err == nil {
		c.AssistantID = id
		_, err = e.applyTurn(ctx, c, nil, turn, id)
	}
	if err != nil && !errors.Is(err, ErrStaleAnswer) {
		e.log.ErrorContext(ctx, "start assistant", "conversation_id", c.ID, "assistant_id", id, "err", err)
	}
}

// beginAssistant runs a new conversation's assistant on its first message.
func (e *Engine) beginAssistant(ctx context.Context, c Conversation, firstMessage string) Conversation {
	turn, err := e.Assistants.Begin(c.AssistantID, c.Lang, c.CustomAttributes, firstMessage, e.now())
	if err == nil {
		var updated Conversation
		if updated, err = e.applyAssistantTurn(ctx, c, nil, turn); err == nil {
			return updated
		}
	}
	// The hand-off itself succeeded; an assistant that fails leaves the
	// conversation waiting, visible in the open queue.
	e.log.ErrorContext(ctx, "begin assistant", "conversation_id", c.ID, "assistant_id", c.AssistantID, "err", err)
	return c
}
