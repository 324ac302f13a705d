package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/handoff/handoff/kustomer"
)

// RelayApp is the app handoff records its messages as: the webhook's
// echoes of them are known by it.
const RelayApp = "handoff"

// System names Kustomer in the store's external refs.
const System = kustomer.RelaySystem

// The kinds of records mapped.
const (
	KindCustomer     = "customer"
	KindConversation = "conversation"
	KindMessage      = kustomer.RelayMessageKind
)

// Relay delivers the outbox's OutboxRelay rows to Kustomer. Each record is
// looked up before it is created (by the externalId handoff gives it), and
// its Kustomer id is kept, so a row delivered twice (after a crash)
// creates nothing twice.
type Relay struct {
	Store  kustomer.Store
	Client *Client
	// App names handoff on the messages it records (their app).
	App string
	// FormTitle names a form, for conversation names.
	FormTitle func(formID string) string
	Now       func() time.Time
	Log       *slog.Logger
	// Relayed, when set, is told each customer's message Kustomer
	// accepted (the chat stops saying it is being passed on).
	Relayed func(ctx context.Context, conversationID, messageID string)

	mu                  sync.Mutex
	lastOK, lastFailure time.Time
	lastError           string
}

func (r *Relay) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

// Permanent is the Permanent of the relay's dispatcher: Kustomer refused
// the request as it is (4xx other than 429), or the local record is gone.
func (r *Relay) Permanent(err error) bool {
	return Permanent(err) || errors.Is(err, kustomer.ErrNotFound)
}

// Deliver sends one relay row.
func (r *Relay) Deliver(ctx context.Context, it kustomer.OutboxItem) error {
	err := r.deliver(ctx, it)
	r.mu.Lock()
	if err == nil {
		r.lastOK = r.now()
	} else {
		r.lastFailure, r.lastError = r.now(), err.Error()
	}
	r.mu.Unlock()
	return err
}

// Status is the relay's state for /readyz: rows waiting and given up, and
// how the last deliveries went.
func (r *Relay) Status(ctx context.Context) any {
	out := map[string]any{"backend": "kustomer"}
	if counts, err := r.Store.OutboxCounts(ctx); err == nil {
		out["waiting"], out["failed"] = 0, 0
		for _, c := range counts {
			if c.Kind != kustomer.OutboxRelay {
				continue
			}
			switch c.State {
			case kustomer.OutboxPending:
				out["waiting"] = c.N
			case kustomer.OutboxParked:
				out["failed"] = c.N
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lastOK.IsZero() {
		out["lastSuccessAt"] = r.lastOK
	}
	if !r.lastFailure.IsZero() && r.lastFailure.After(r.lastOK) {
		out["lastFailureAt"], out["lastError"] = r.lastFailure, r.lastError
		out["state"] = "retrying"
	} else {
		out["state"] = "ok"
	}
	return out
}

func (r *Relay) deliver(ctx context.Context, it kustomer.OutboxItem) error {
	var op kustomer.RelayOp
	if err := json.Unmarshal(it.Payload, &op); err != nil {
		return fmt.Errorf("relay row %s: %w: %v", it.ID, kustomer.ErrNotFound, err)
	}
	conv, cust, err := r.conversation(ctx, op.ConversationID)
	if err != nil {
		return err
	}
	switch op.Op {
	case kustomer.RelayCreate, kustomer.RelayMessage:
		return r.message(ctx, conv, cust, op.ConversationID, op.MessageID, it.Attempts > 1)
	case kustomer.RelayAttributes:
		return r.Client.UpdateConversation(ctx, conv, map[string]any{"custom": op.Attrs})
	case kustomer.RelayEnd:
		return r.Client.UpdateConversation(ctx, conv, map[string]any{"ended": true})
	}
	return fmt.Errorf("relay row %s: unknown operation %q: %w", it.ID, op.Op, kustomer.ErrNotFound)
}

// conversation returns the Kustomer id of a local conversation, creating
// it (and its customer) in Kustomer when it is not there yet; custID is
// the customer's Kustomer id when it was looked up ("" when the
// conversation was mapped already: the conversation names its customer).
func (r *Relay) conversation(ctx context.Context, id string) (convID, custID string, err error) {
	if ref, err := r.Store.ExternalRef(ctx, System, KindConversation, id); err == nil {
		return ref.RemoteID, "", nil
	} else if !errors.Is(err, kustomer.ErrNotFound) {
		return "", "", err
	}
	c, err := r.Store.Conversation(ctx, id)
	if err != nil {
		return "", "", err
	}
	if custID, err = r.customer(ctx, c.CustomerID); err != nil {
		return "", "", err
	}
	res, err := r.Client.FindConversation(ctx, id)
	if errors.Is(err, kustomer.ErrNotFound) {
		name := "Chat"
		if r.FormTitle != nil && r.FormTitle(c.FormID) != "" {
			name = r.FormTitle(c.FormID)
		}
		in := NewConversation{Name: name, ExternalID: id}
		if len(c.CustomAttributes) > 0 {
			in.Custom = c.CustomAttributes
		}
		res, err = r.Client.CreateConversation(ctx, custID, in)
	}
	if err != nil {
		return "", "", err
	}
	if err := r.remember(ctx, KindConversation, id, res.ID); err != nil {
		return "", "", err
	}
	return res.ID, custID, nil
}

// customer returns the Kustomer id of a local customer, found by its
// externalId (handoff's id) or created.
func (r *Relay) customer(ctx context.Context, id string) (string, error) {
	if ref, err := r.Store.ExternalRef(ctx, System, KindCustomer, id); err == nil {
		return ref.RemoteID, nil
	} else if !errors.Is(err, kustomer.ErrNotFound) {
		return "", err
	}
	res, err := r.Client.FindCustomer(ctx, id)
	if errors.Is(err, kustomer.ErrNotFound) {
		cu, err := r.Store.Customer(ctx, id)
		if err != nil {
			return "", err
		}
		in := NewCustomer{Name: cu.Name, ExternalID: id}
		for _, e := range cu.Emails {
			in.Emails = append(in.Emails, Email{Type: "other", Email: e})
		}
		res, err = r.Client.CreateCustomer(ctx, in)
		if err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	return res.ID, r.remember(ctx, KindCustomer, id, res.ID)
}

// message records a customer's message in the Kustomer conversation, once:
// a row tried before (retry) first looks for it there by its externalId.
func (r *Relay) message(ctx context.Context, conv, cust, conversationID, messageID string, retried bool) error {
	if _, err := r.Store.ExternalRef(ctx, System, KindMessage, messageID); err == nil {
		return nil
	} else if !errors.Is(err, kustomer.ErrNotFound) {
		return err
	}
	msgs, err := r.Store.Messages(ctx, conversationID, kustomer.MessageQuery{IDs: []string{messageID}, Max: 1})
	if err != nil {
		return err
	}
	if len(msgs) != 1 {
		return fmt.Errorf("message %s: %w", messageID, kustomer.ErrNotFound)
	}
	m := msgs[0]
	if retried {
		if id, err := r.findMessage(ctx, conv, m.ID); err != nil {
			return err
		} else if id != "" {
			return r.remember(ctx, KindMessage, m.ID, id)
		}
	}
	at := m.CreatedAt.UTC()
	in := NewMessage{
		Channel: "chat", App: r.App, Direction: "in", Preview: preview(m), ExternalID: m.ID, Customer: cust,
		Lang: m.Lang, CreatedAt: &at,
	}
	if m.Direction == kustomer.DirectionOut {
		// What handoff's assistant said: recorded on the timeline (a
		// message the API records is not sent to the customer again).
		in.Direction = "out"
		in.Meta = map[string]any{"author": string(m.SentBy.Type), "authorName": m.SentBy.DisplayName}
	}
	res, err := r.Client.CreateMessage(ctx, conv, in)
	if err != nil {
		return err
	}
	if err := r.remember(ctx, KindMessage, m.ID, res.ID); err != nil {
		return err
	}
	if r.Relayed != nil {
		r.Relayed(ctx, conversationID, m.ID)
	}
	return nil
}

// findMessage looks for the message recorded with externalId id.
func (r *Relay) findMessage(ctx context.Context, conv, id string) (string, error) {
	for page := 1; page <= 20; page++ {
		rs, err := r.Client.Messages(ctx, conv, page)
		if err != nil {
			return "", err
		}
		for _, res := range rs {
			var ext string
			if res.Attr("externalId", &ext) && ext == id {
				return res.ID, nil
			}
		}
		if len(rs) < 100 {
			break
		}
	}
	return "", nil
}

func (r *Relay) remember(ctx context.Context, kind, local, remote string) error {
	_, err := r.Store.SetExternalRef(ctx, kustomer.ExternalRef{System: System, Kind: kind, LocalID: local, RemoteID: remote, CreatedAt: r.now()})
	return err
}

// preview is a message's text for Kustomer: its body, and its files named.
func preview(m kustomer.Message) string {
	var b strings.Builder
	b.WriteString(m.Body)
	for _, a := range m.Attachments {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[file: %s, %d bytes]", a.Name, a.Size)
	}
	s := b.String()
	if utf8.RuneCountInString(s) > 10240 {
		s = string([]rune(s)[:10240])
	}
	return s
}
