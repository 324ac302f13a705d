package kustomer

import (
	"context"
	"encoding/json"
	"time"
)

// The event types a webhook endpoint may subscribe to. The typed events
// (participant-added, transfer-agent, ttr-change…) are delivered under
// their own names as well.
const (
	WebhookConversationCreated  = "conversation.created"
	WebhookConversationUpdated  = "conversation.updated"
	WebhookMessageCreated       = "message.created"
	WebhookSatisfactionReceived = "satisfaction.received"
)

// WebhookEventTypes are the event types endpoints subscribe to, in the
// order forms list them.
var WebhookEventTypes = []string{
	WebhookConversationCreated,
	WebhookConversationUpdated,
	WebhookMessageCreated,
	WebhookSatisfactionReceived,
	EventParticipantAdded,
	EventParticipantRemoved,
	EventParticipantSuggested,
	EventTransferAgent,
	EventTransferSkill,
	EventBackToQueue,
	EventTTRChange,
	EventManualETTRChange,
	EventDialogClose,
}

// Webhook is an endpoint that receives the events it subscribed to, signed
// with its secret.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	// Private also sends private notes (message.created with private:
	// true); an endpoint without it never receives them.
	Private bool `json:"private"`
	// Secret signs the deliveries ("whsec_" and base64). It is shown once,
	// when it is made, and never listed.
	Secret string `json:"-"`
	// Enabled endpoints receive events; one is disabled by an admin, or by
	// handoff after its deliveries kept failing (DisabledReason says which).
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabledReason,omitempty"`
	DisabledAt     *time.Time `json:"disabledAt,omitempty"`
	// Failures counts the attempts that failed since the last success,
	// the first of them at FailingSince.
	Failures      int        `json:"failures"`
	FailingSince  *time.Time `json:"failingSince,omitempty"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	CreatedBy     string     `json:"createdBy"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// Wants reports whether the endpoint receives ev.
func (w Webhook) Wants(ev WebhookEvent) bool {
	if !w.Enabled || ev.Private && !w.Private {
		return false
	}
	for _, t := range w.Events {
		if t == ev.Type {
			return true
		}
	}
	return false
}

// WebhookAttempt is one try at delivering an event to an endpoint: the
// endpoint's delivery log.
type WebhookAttempt struct {
	ID             string `json:"id"`
	WebhookID      string `json:"webhookId"`
	DeliveryID     string `json:"deliveryId"`
	EventID        string `json:"eventId"`
	EventType      string `json:"eventType"`
	ConversationID string `json:"conversationId,omitempty"`
	Attempt        int    `json:"attempt"`
	// Status is the HTTP status the endpoint answered, 0 when it did not
	// answer (Error says why).
	Status     int       `json:"status"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"durationMs"`
	At         time.Time `json:"at"`
}

// OK reports whether the attempt delivered the event.
func (a WebhookAttempt) OK() bool { return a.Status >= 200 && a.Status < 300 }

// WebhookFailurePolicy says when an endpoint whose deliveries keep failing
// is disabled: after at least Failures failed attempts in a row spanning at
// least Window, or at once when Gone (it answered 410 Gone).
type WebhookFailurePolicy struct {
	Failures int
	Window   time.Duration
	Gone     bool
}

// WebhookStore keeps the endpoints and their delivery log.
type WebhookStore interface {
	// CreateWebhook stores a new endpoint. Here and in UpdateWebhook and
	// DeleteWebhook, audit is recorded in the same transaction.
	CreateWebhook(ctx context.Context, w Webhook, audit ...AuditEntry) error
	// Webhook returns one endpoint, with its secret.
	Webhook(ctx context.Context, id string) (Webhook, error)
	// Webhooks lists the endpoints, oldest first, with their secrets.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// UpdateWebhook stores w's URL, description, events, private flag,
	// secret and enabled state; enabling an endpoint clears its failures.
	UpdateWebhook(ctx context.Context, w Webhook, audit ...AuditEntry) error
	// DeleteWebhook deletes an endpoint and its delivery log.
	DeleteWebhook(ctx context.Context, id string, audit ...AuditEntry) error
	// RecordWebhookAttempt adds a to the log and updates its endpoint: a
	// success clears the failures, a failure counts one and disables the
	// endpoint when p says so. It returns the endpoint as updated and
	// whether this attempt disabled it.
	RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, p WebhookFailurePolicy) (w Webhook, disabled bool, err error)
	// WebhookAttempts lists an endpoint's attempts, the latest first.
	WebhookAttempts(ctx context.Context, webhookID string, limit int) ([]WebhookAttempt, error)
	// WebhookDeliveries lists the endpoint's delivery rows in state, the
	// most recently updated first.
	WebhookDeliveries(ctx context.Context, webhookID string, state OutboxState, limit int) ([]OutboxItem, error)
	// PruneWebhookAttempts deletes up to limit attempts made before before.
	PruneWebhookAttempts(ctx context.Context, before time.Time, limit int) (int, error)
}

// WebhookEvent is what an OutboxWebhookEvent row holds: a change, named by
// its type, with what the change itself knows in Data. The body each
// endpoint receives adds the stored records it refers to.
type WebhookEvent struct {
	// ID is the event's webhook-id, the same on every retry and resend.
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	ConversationID string          `json:"conversationId"`
	MessageID      string          `json:"messageId,omitempty"`
	Private        bool            `json:"private,omitempty"`
	Timestamp      time.Time       `json:"timestamp"`
	Data           json.RawMessage `json:"data,omitempty"`
}

// WebhookDelivery is what an OutboxWebhookDelivery row holds: the signed
// body for one endpoint.
type WebhookDelivery struct {
	WebhookID string          `json:"webhookId"`
	EventID   string          `json:"eventId"`
	EventType string          `json:"eventType"`
	Body      json.RawMessage `json:"body"`
}

// WebhookDeliveryOrdering is the Ordering of an endpoint's deliveries about
// one conversation: they arrive in the order of the changes.
func WebhookDeliveryOrdering(webhookID, conversationID string) string {
	return webhookID + ":" + conversationID
}

// webhookEventOrdering orders a conversation's events, so that they are
// handed to the endpoints in the order they happened.
func webhookEventOrdering(conversationID string) string { return "event:" + conversationID }

// hookItem is the outbox row recording event typ about a conversation, in
// the transaction of the change; data is what the change knows.
func hookItem(typ, conversationID, messageID string, private bool, at time.Time, data any) OutboxItem {
	ev := WebhookEvent{
		ID: "evt_" + NewID(), Type: typ, ConversationID: conversationID, MessageID: messageID,
		Private: private, Timestamp: at,
	}
	if data != nil {
		ev.Data, _ = json.Marshal(data)
	}
	payload, _ := json.Marshal(ev)
	return OutboxItem{
		Kind: OutboxWebhookEvent, Key: ev.ID, ConversationID: conversationID, Ordering: webhookEventOrdering(conversationID),
		Subscribed: true, Payload: payload, DueAt: at, CreatedAt: at,
	}
}

// messageHooks are the events of storing message m: message.created, and
// the typed events of a system message.
func messageHooks(m Message) []OutboxItem {
	items := []OutboxItem{hookItem(WebhookMessageCreated, m.ConversationID, m.ID, m.Private, m.CreatedAt, nil)}
	if ev := m.Event(); ev != nil {
		for _, te := range ev.Events {
			items = append(items, hookItem(te.Type, m.ConversationID, m.ID, false, m.CreatedAt, te))
		}
	}
	return items
}

// updatedHook is the conversation.updated event of a change; changes names
// the fields it set.
func updatedHook(conversationID string, at time.Time, changes map[string]any) OutboxItem {
	return hookItem(WebhookConversationUpdated, conversationID, "", false, at, map[string]any{"changes": changes})
}

// withHooks adds to nm, a system message recording a change of the
// conversation, the events of that change.
func withHooks(nm NewMessage, changes map[string]any) NewMessage {
	nm.Outbox = append(nm.Outbox, messageHooks(nm.Message)...)
	nm.Outbox = append(nm.Outbox, updatedHook(nm.ConversationID, nm.CreatedAt, changes))
	return nm
}

// endChanges are the changes of ending a conversation.
func endChanges(by Author, at time.Time) map[string]any {
	return map[string]any{"ended": true, "endedAt": at, "endedBy": by, "isInAssistantMode": false}
}

// ChangeWake returns a channel that receives after each change that may
// have written outbox rows (webhook events, relay rows): a dispatcher that
// waits on it looks at once instead of at its next poll. Each call makes
// a new channel; make them before the engine serves.
func (e *Engine) ChangeWake() <-chan struct{} {
	ch := make(chan struct{}, 1)
	e.wakeMu.Lock()
	e.wakes = append(e.wakes, ch)
	e.wakeMu.Unlock()
	return ch
}

// hooksTTL is how long whether any webhook endpoint is enabled is taken as
// known. An endpoint enabled on another instance may wait that long for
// its first wake; the dispatchers' polls find its events meanwhile.
const hooksTTL = time.Second

// webhooksEnabled reports whether any webhook endpoint was enabled at most
// hooksTTL ago (or whether that could not be read). It is asked after every
// change, so the store is read at most once per hooksTTL, by one caller,
// and no lock is held over the read; while it is unknown and being read,
// the answer is yes (a wake for nothing costs a look at the outbox).
func (e *Engine) webhooksEnabled(ctx context.Context) bool {
	until := e.hooksUntil.Load()
	if time.Now().UnixNano() < until {
		return e.hooksOn.Load()
	}
	if !e.hooksBusy.CompareAndSwap(false, true) {
		return until == 0 || e.hooksOn.Load()
	}
	defer e.hooksBusy.Store(false)
	gen := e.hooksGen.Load()
	ws, err := e.store.Webhooks(context.WithoutCancel(ctx))
	on := err != nil
	for _, w := range ws {
		on = on || w.Enabled
	}
	e.hooksOn.Store(on)
	if e.hooksGen.Load() == gen {
		e.hooksUntil.Store(time.Now().Add(hooksTTL).UnixNano())
		if e.hooksGen.Load() != gen { // changed meanwhile: not known after all
			e.hooksUntil.Store(0)
		}
	}
	return on
}

// forgetWebhooks drops what webhooksEnabled knows, after this engine
// changed an endpoint.
func (e *Engine) forgetWebhooks() {
	e.hooksGen.Add(1)
	e.hooksUntil.Store(0)
}

// wakeWebhooks nudges the dispatchers, without waiting.
func (e *Engine) wakeWebhooks() {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	for _, ch := range e.wakes {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
