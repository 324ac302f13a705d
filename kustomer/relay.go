package kustomer

import (
	"encoding/json"
	"time"
)

// OutboxRelay rows carry a change the customer made to the system handoff
// relays to (a Kustomer organization): written with the change, delivered
// in the conversation's order by the relay's dispatcher.
const OutboxRelay OutboxKind = "relay"

// The operations a relay row carries.
const (
	RelayCreate     = "create"     // the conversation and its first message
	RelayMessage    = "message"    // a customer's message
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
