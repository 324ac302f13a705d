package kustomer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EmailLinkInterval is how often, at most, a customer can have a fresh
// link to a conversation emailed.
const EmailLinkInterval = 10 * time.Minute

// ErrEmailLinkTooSoon means a fresh link was emailed to the customer less
// than EmailLinkInterval ago.
var ErrEmailLinkTooSoon error = &ConflictError{Code: "email_link_too_soon", Reason: "a new link was emailed a short while ago"}

// RequestEmailLink queues an email with a fresh link to conversationID for
// its customer customerID (named by a signed link the customer followed),
// at most once per EmailLinkInterval per customer (ErrEmailLinkTooSoon).
func (e *Engine) RequestEmailLink(ctx context.Context, conversationID, customerID string) error {
	c, err := e.store.Conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	if c.CustomerID != customerID {
		return ErrForbidden
	}
	now := e.now()
	if err := e.store.UseOnce(ctx, "email-link-sent:"+customerID, now.Add(EmailLinkInterval), now); err != nil {
		if errors.Is(err, ErrAlreadyUsed) {
			return ErrEmailLinkTooSoon
		}
		return err
	}
	_, err = e.store.Enqueue(ctx, OutboxItem{Kind: OutboxEmailLink, Key: "link-" + NewID(), ConversationID: conversationID, DueAt: now, CreatedAt: now})
	return err
}

// StopFollowUps records that the customer wants no more follow-up emails.
func (e *Engine) StopFollowUps(ctx context.Context, customerID string) error {
	return e.store.StopFollowUps(ctx, customerID, e.now())
}

// OutboxItems lists the emails in the outbox in state, for admins.
func (e *Engine) OutboxItems(ctx context.Context, state OutboxState, limit int) ([]OutboxItem, error) {
	return e.store.OutboxItems(ctx, state, "email.", limit)
}

// RequestTranscript queues an email of the conversation's transcript to its
// customer: the customer asks once the conversation has ended, an agent at
// any time. Asking again before any new message is the same email, queued
// once. A customer without an email address is an ErrConflict.
func (e *Engine) RequestTranscript(ctx context.Context, actor Actor, conversationID string) error {
	c, err := e.Conversation(ctx, actor, conversationID)
	if err != nil {
		return err
	}
	if actor.IsCustomer() && !c.Ended {
		return &ConflictError{Code: "conversation_open", Reason: "a transcript can be sent once the conversation has ended"}
	}
	cust, err := e.store.Customer(ctx, c.CustomerID)
	if err != nil {
		return err
	}
	if len(cust.Emails) == 0 {
		return &ConflictError{Code: "no_email", Reason: "there is no email address to send the transcript to"}
	}
	now := e.now()
	_, err = e.store.Enqueue(ctx, OutboxItem{Kind: OutboxTranscript, Key: fmt.Sprintf("transcript-%s-%d", c.ID, c.LastSeq),
		ConversationID: c.ID, DueAt: now, CreatedAt: now})
	return err
}
