package kustomer

import (
	"context"
	"fmt"
	"time"
)

// Bounds of a custom time to respond and of a manual expected time.
const (
	MaxCustomTTR  = 30 * 24 * time.Hour
	maxManualETTR = 30 * 24 * time.Hour
)

// ttrSeconds resolves a time-to-respond type for form formID into the
// seconds it allows.
func (e *Engine) ttrSeconds(formID, ttrType string, value int64) int64 {
	target := e.config.TTRTarget(formID)
	switch ttrType {
	case TTRPrioritized:
		target /= 2
	case TTRUrgent:
		target /= 4
	case TTRCustom:
		return value
	}
	return max(int64(target/time.Second), 1)
}

// SetTTR sets how urgent an open conversation is: NORMAL (its form's
// target), PRIORITIZED (half), URGENT (a quarter) or CUSTOM with value
// seconds. A manual expected time stays as it is. Only the organization
// sets it.
func (e *Engine) SetTTR(ctx context.Context, actor Actor, conversationID, ttrType string, value int64) (Conversation, error) {
	verr := &ValidationError{}
	switch ttrType {
	case TTRNormal, TTRPrioritized, TTRUrgent:
		if value != 0 {
			verr.Add("value", "is only for CUSTOM")
		}
	case TTRCustom:
		if value < 1 || value > int64(MaxCustomTTR/time.Second) {
			verr.Add("value", fmt.Sprintf("must be between 1 and %d seconds", int64(MaxCustomTTR/time.Second)))
		}
	default:
		verr.Add("ttrType", "must be NORMAL, URGENT, PRIORITIZED or CUSTOM")
	}
	if err := verr.OrNil(); err != nil {
		return Conversation{}, err
	}
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	ttr := c.TTR
	ttr.Type, ttr.Value, ttr.Seconds = ttrType, value, e.ttrSeconds(c.FormID, ttrType, value)
	text := fmt.Sprintf("Time to respond set to %s.", ttrType)
	if ttrType == TTRCustom {
		text = fmt.Sprintf("Time to respond set to %s.", time.Duration(value)*time.Second)
	}
	return e.setTTR(ctx, actor, c, ttr, TypedEvent{Type: EventTTRChange, TTRType: ttrType, Value: value, By: actor.ID}, text)
}

// SetManualETTR sets when the answer to an open conversation is expected,
// overriding its time to respond; nil clears it. The time must be in the
// next 30 days. Only the organization sets it.
func (e *Engine) SetManualETTR(ctx context.Context, actor Actor, conversationID string, when *time.Time) (Conversation, error) {
	now := e.now()
	if when != nil && (!when.After(now) || when.Sub(now) > maxManualETTR) {
		return Conversation{}, &ValidationError{Fields: map[string]string{"time": "must be a time in the next 30 days, or null to clear it"}}
	}
	c, err := e.openConversation(ctx, actor, conversationID)
	if err != nil {
		return Conversation{}, err
	}
	ttr := c.TTR
	if when != nil {
		w := when.UTC().Truncate(time.Millisecond)
		when = &w
	}
	ttr.ManualETTR = when
	text := "Expected time to respond cleared."
	if when != nil {
		text = "Answer expected by " + when.Format("2 Jan 2006 15:04 UTC") + "."
	}
	return e.setTTR(ctx, actor, c, ttr, TypedEvent{Type: EventManualETTRChange, Time: when, By: actor.ID}, text)
}

// setTTR stores ttr with a private system message recording ev (the
// customer never sees it), and publishes both.
func (e *Engine) setTTR(ctx context.Context, actor Actor, c Conversation, ttr TTR, ev TypedEvent, text string) (Conversation, error) {
	if ttr.Type == "" {
		ttr.Type = TTRNormal
	}
	at := e.now()
	event := e.systemEvent(c.ID, actor, at, SystemEvent{Code: ev.Type, Events: []TypedEvent{ev}}, text)
	event.Private = true
	c, m, err := e.store.SetTTR(ctx, c.ID, ttr, at, withHooks(event, map[string]any{"ttr": ttr}))
	if err != nil {
		return Conversation{}, err
	}
	e.publish(ctx, Event{Type: EventMessageCreated, ConversationID: c.ID, Message: &m})
	e.publish(ctx, Event{Type: EventConversationUpdated, ConversationID: c.ID, Conversation: &c})
	return c, nil
}
