package kustomer

import (
	"context"
	"encoding/json"
	"time"
)

// OutboxKind names what an outbox row delivers; each kind has its own
// dispatcher.
type OutboxKind string

// The kinds of outbox rows.
const (
	// OutboxFollowUp checks, when due, whether the customer has still not
	// seen the organization's replies and emails them if so.
	OutboxFollowUp OutboxKind = "email.followup"
	// OutboxEmailLink emails a fresh link to a conversation to its
	// customer, who asked for one when an emailed link had expired or was
	// used.
	OutboxEmailLink OutboxKind = "email.link"
	// OutboxTranscript emails the conversation's transcript to its
	// customer.
	OutboxTranscript OutboxKind = "email.transcript"
	// OutboxWebhookEvent records a change webhook endpoints may want (see
	// WebhookEvent); delivering it writes one OutboxWebhookDelivery row
	// per endpoint subscribed to it.
	OutboxWebhookEvent OutboxKind = "webhook.event"
	// OutboxWebhookDelivery posts one event to one webhook endpoint.
	OutboxWebhookDelivery OutboxKind = "webhook.delivery"
)

// OutboxState is where an outbox row is in its delivery.
type OutboxState string

// The states of an outbox row: pending (waiting for its due time, or
// claimed by a dispatcher until its lease runs out), done, or parked after
// failing too often.
const (
	OutboxPending OutboxState = "pending"
	OutboxDone    OutboxState = "done"
	OutboxParked  OutboxState = "parked"
)

// OutboxItem is one thing to send to the outside world, written in the same
// transaction as the change that causes it and delivered at least once by
// the dispatcher of its kind.
type OutboxItem struct {
	ID   string
	Kind OutboxKind
	// Key is unique among all rows and stable across retries: the
	// receiver's idempotency key (an email's Message-ID). Enqueuing a row
	// whose key exists adds nothing.
	Key string
	// Batch, when set, allows one pending (not yet claimed) row per value:
	// enqueuing another while one waits adds nothing, so causes that come
	// in a burst are delivered together.
	Batch          string
	ConversationID string // "" when the row belongs to no conversation
	// Ordering, when set, delivers the rows that share it one at a time in
	// Ord order: a row is claimed only once no pending row of its Ordering
	// has a lower Ord (a retried row holds back the ones after it; a
	// parked one does not).
	Ordering string
	// Ord is the row's place in its Ordering. Zero when enqueued gives it
	// the next place after every row in the outbox; rows enqueued in one
	// transaction take places in their order.
	Ord int64
	// Subscribed adds the row only while some webhook endpoint is enabled
	// (checked in the transaction that adds it).
	Subscribed bool
	Payload    json.RawMessage
	State      OutboxState
	DueAt      time.Time
	// Attempts counts the claims so far; a claim is valid only while
	// Attempts is unchanged.
	Attempts  int
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Outbox is the durable queue of OutboxItems in the store. Rows are added
// with the change that causes them (NewMessage.Outbox) or by Enqueue.
type Outbox interface {
	// Enqueue adds items in one transaction, each unless a row with its
	// Key exists or, with a Batch, a pending row of that Batch waits; it
	// returns how many it added.
	Enqueue(ctx context.Context, items ...OutboxItem) (int, error)
	// ClaimOutbox takes up to limit pending rows of kind due at or before
	// now (and first in their Ordering), the earliest due first, and returns them in the order they were
	// created (CreatedAt); it counts an attempt on each and leases them
	// until now+lease: a row neither completed, retried nor parked by
	// then is claimed again (its dispatcher crashed). Concurrent claims
	// never take the same row.
	ClaimOutbox(ctx context.Context, kind OutboxKind, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	// CompleteOutbox marks a claimed row done, RetryOutbox makes it due
	// again at due with lastError, and ParkOutbox gives up on it with
	// lastError. Each applies only while the claim is current (the row's
	// Attempts unchanged, not done or parked): otherwise ErrConflict.
	CompleteOutbox(ctx context.Context, it OutboxItem, at time.Time) error
	RetryOutbox(ctx context.Context, it OutboxItem, due time.Time, lastError string, at time.Time) error
	ParkOutbox(ctx context.Context, it OutboxItem, lastError string, at time.Time) error
	// OutboxItems lists rows in state whose kind starts with kindPrefix,
	// most recently updated first.
	OutboxItems(ctx context.Context, state OutboxState, kindPrefix string, limit int) ([]OutboxItem, error)
	// RequeueOutbox makes the rows ids that are parked or done pending
	// again, due at due, as if new (no attempts, created at); it leaves
	// rows in another state and returns how many it requeued.
	RequeueOutbox(ctx context.Context, ids []string, due, at time.Time) (int, error)
	// OutboxOrdered lists the rows of an ordering in state, in their
	// order, at most limit of them.
	OutboxOrdered(ctx context.Context, ordering string, state OutboxState, limit int) ([]OutboxItem, error)
	// OutboxItem returns one row by id.
	OutboxItem(ctx context.Context, id string) (OutboxItem, error)
	// OutboxCounts counts the pending and parked rows by kind and state.
	OutboxCounts(ctx context.Context) ([]OutboxCount, error)
	// PruneOutbox deletes up to limit done rows last updated before
	// before, and returns how many it deleted.
	PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error)
}

// OutboxCount is how many rows of a kind are in a state.
type OutboxCount struct {
	Kind  OutboxKind
	State OutboxState
	N     int
}

// FollowUpItem is the outbox row a reply (message messageID, sent at) to
// the customer writes: due delay later, one waiting row per conversation.
// Its Key is the follow-up email's Message-ID local part.
func FollowUpItem(conversationID, messageID string, at time.Time, delay time.Duration) OutboxItem {
	return OutboxItem{
		Kind: OutboxFollowUp, Key: "followup-" + messageID, Batch: "followup:" + conversationID,
		ConversationID: conversationID, DueAt: at.Add(delay), CreatedAt: at,
	}
}
