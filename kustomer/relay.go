package kustomer

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// RelaySystem names the system relayed to in the store's external refs,
// and RelayMessageKind the kind its messages are mapped as.
const (
	RelaySystem      = "kustomer"
	RelayMessageKind = "message"
)

// OutboxRelay rows carry a change the customer made to the system handoff
// relays to (a Kustomer organization): written with the change, delivered
// in the conversation's order by the relay's dispatcher.
const OutboxRelay OutboxKind = "relay"

// The operations a relay row carries.
const (
	RelayCreate     = "create"     // the conversation and its first message
	RelayMessage    = "message"    // a customer's message, or the assistant's
	RelayAttributes = "attributes" // custom attributes set (Attrs)
	RelayEnd        = "end"        // the customer ended the conversation
)

// RelayOp is the payload of an OutboxRelay row.
type RelayOp struct {
	Op             string     `json:"op"`
	ConversationID string     `json:"conversationId"`
	MessageID      string     `json:"messageId,omitempty"`
	Attrs          Attributes `json:"attrs,omitempty"`
}

// RelayOrdering orders one conversation's relay rows.
func RelayOrdering(conversationID string) string { return "relay:" + conversationID }

// relayItem is the relay row of op, when the engine relays; nil otherwise.
func (e *Engine) relayItem(op RelayOp, at time.Time) []OutboxItem {
	if !e.Relay {
		return nil
	}
	payload, _ := json.Marshal(op)
	key := "relay-" + op.Op + "-" + op.ConversationID
	if op.MessageID != "" {
		key = "relay-" + op.Op + "-" + op.MessageID
	} else if op.Op == RelayAttributes {
		key += "-" + NewID()
	}
	return []OutboxItem{{Kind: OutboxRelay, Key: key, ConversationID: op.ConversationID, Ordering: RelayOrdering(op.ConversationID),
		Payload: payload, DueAt: at, CreatedAt: at}}
}

// EventMessageRelayed is published when the system agents answer in
// accepted a customer's message (Message carries its id): the chat stops
// saying it is being passed on.
const EventMessageRelayed EventType = "message.relayed"

// RelayPending returns the ids of the conversation's messages not yet
// accepted by the system agents answer in (none when the engine does not
// relay).
func (e *Engine) RelayPending(ctx context.Context, conversationID string) (map[string]bool, error) {
	if !e.Relay {
		return nil, nil
	}
	items, err := e.store.OutboxOrdered(ctx, RelayOrdering(conversationID), OutboxPending, 500)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(items))
	for _, it := range items {
		var op RelayOp
		if json.Unmarshal(it.Payload, &op) != nil || op.MessageID == "" {
			continue
		}
		// Accepted already, its row not yet settled: not pending.
		_, err := e.store.ExternalRef(ctx, RelaySystem, RelayMessageKind, op.MessageID)
		switch {
		case errors.Is(err, ErrNotFound):
			out[op.MessageID] = true
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// PublishRelayed tells the conversation's viewers that message id was
// accepted by the system agents answer in.
func (e *Engine) PublishRelayed(ctx context.Context, conversationID, messageID string) {
	e.publish(ctx, Event{Type: EventMessageRelayed, ConversationID: conversationID, Message: &Message{ID: messageID, ConversationID: conversationID}})
}
