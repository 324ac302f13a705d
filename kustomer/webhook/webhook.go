// Package webhook delivers the events of kustomer.Engine to the endpoints
// admins register, following the Standard Webhooks convention: each POST
// carries webhook-id (the event's id, the same on every retry),
// webhook-timestamp and webhook-signature (v1, an HMAC-SHA256 of
// "id.timestamp.body" under the endpoint's secret).
//
// Two outbox dispatchers run it. FanOut takes each recorded event, in the
// order of its conversation, renders its body once and writes one delivery
// row per endpoint that wants it; Deliver posts a delivery row and logs the
// attempt. Rows of one endpoint about one conversation go out in order: a
// failing one holds back the ones after it until it succeeds or is given
// up (after a day).
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/handoff/handoff/kustomer"
)

// Defaults of a Sender.
const (
	// Timeout bounds one POST, from connecting to the end of the answer.
	Timeout = 10 * time.Second
	// MaxAge is how long a delivery is retried before it is given up.
	MaxAge = 24 * time.Hour
)

// DefaultFailurePolicy disables an endpoint whose every attempt failed for
// a day, at least 10 of them.
var DefaultFailurePolicy = kustomer.WebhookFailurePolicy{Failures: 10, Window: 24 * time.Hour}

// Sender renders and posts webhook deliveries.
type Sender struct {
	Store  kustomer.Store
	Client *http.Client
	// BaseURL makes attachment paths absolute in bodies.
	BaseURL string
	Policy  kustomer.WebhookFailurePolicy
	Now     func() time.Time
	Log     *slog.Logger
	// Wake, when set, is nudged after FanOut wrote deliveries.
	Wake chan<- struct{}
	// Observe, when set, is told each attempt's outcome ("ok", "failed",
	// "refused": no answer).
	Observe func(outcome string)
	// Disabled, when set, is told about an endpoint its failures just
	// disabled.
	Disabled func(w kustomer.Webhook)
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Sender) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// permanentError is a delivery that no retry can make: the row is parked.
type permanentError struct{ reason string }

func (e *permanentError) Error() string { return e.reason }

// Permanent reports whether err, from FanOut or Deliver, parks the row at
// once.
func Permanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Body is what an endpoint receives: the Standard Webhooks payload.
type Body struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// FanOut is the Deliver of the OutboxWebhookEvent dispatcher: it writes a
// delivery row for each endpoint that wants the event (none: the row is
// skipped).
func (s *Sender) FanOut(ctx context.Context, it kustomer.OutboxItem) error {
	var ev kustomer.WebhookEvent
	if err := json.Unmarshal(it.Payload, &ev); err != nil {
		return &permanentError{"unreadable event: " + err.Error()}
	}
	hooks, err := s.Store.Webhooks(ctx)
	if err != nil {
		return err
	}
	var wanting []kustomer.Webhook
	for _, w := range hooks {
		if w.Wants(ev) {
			wanting = append(wanting, w)
		}
	}
	if len(wanting) == 0 {
		return kustomer.ErrNothingToDeliver
	}
	body, err := s.render(ctx, ev)
	if err != nil {
		return err
	}
	now := s.now()
	items := make([]kustomer.OutboxItem, 0, len(wanting))
	for _, w := range wanting {
		payload, err := json.Marshal(kustomer.WebhookDelivery{WebhookID: w.ID, EventID: ev.ID, EventType: ev.Type, Body: body})
		if err != nil {
			return err
		}
		items = append(items, kustomer.OutboxItem{
			Kind: kustomer.OutboxWebhookDelivery, Key: ev.ID + "/" + w.ID, ConversationID: ev.ConversationID,
			Ordering: kustomer.WebhookDeliveryOrdering(w.ID, ev.ConversationID), Ord: it.Ord,
			Payload: payload, DueAt: now, CreatedAt: now,
		})
	}
	if _, err := s.Store.Enqueue(ctx, items...); err != nil {
		return err
	}
	if s.Wake != nil {
		select {
		case s.Wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// render builds an event's body: what the change recorded, with the
// records it names as they are stored now (a message never changes; a
// conversation is as it stands when the event is handed out, normally
// within a second of the change, and changes says what this one set).
func (s *Sender) render(ctx context.Context, ev kustomer.WebhookEvent) (json.RawMessage, error) {
	data := map[string]any{}
	if len(ev.Data) > 0 {
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return nil, &permanentError{"unreadable event data: " + err.Error()}
		}
	}
	data["conversationId"] = ev.ConversationID
	if ev.MessageID != "" {
		data["messageId"] = ev.MessageID
	}
	switch ev.Type {
	case kustomer.WebhookMessageCreated:
		msgs, err := s.Store.Messages(ctx, ev.ConversationID, kustomer.MessageQuery{IDs: []string{ev.MessageID}, IncludePrivate: true, Max: 1})
		if err != nil {
			return nil, s.gone(err)
		}
		if len(msgs) != 1 {
			return nil, &permanentError{"the message is gone"}
		}
		m := msgs[0]
		for i := range m.Attachments {
			m.Attachments[i].URL = strings.TrimSuffix(s.BaseURL, "/") + kustomer.AttachmentURL(m.ConversationID, m.Attachments[i].ID)
		}
		data["message"] = m
	case kustomer.WebhookConversationCreated, kustomer.WebhookConversationUpdated:
		c, err := s.Store.Conversation(ctx, ev.ConversationID)
		if err != nil {
			return nil, s.gone(err)
		}
		data["conversation"] = c
		if ev.Type == kustomer.WebhookConversationCreated {
			cu, err := s.Store.Customer(ctx, c.CustomerID)
			if err != nil {
				return nil, s.gone(err)
			}
			data["customer"] = cu
		}
	}
	return json.Marshal(Body{Type: ev.Type, Timestamp: ev.Timestamp, Data: data})
}

// gone makes a missing record permanent; other errors are retried.
func (s *Sender) gone(err error) error {
	if errors.Is(err, kustomer.ErrNotFound) {
		return &permanentError{err.Error()}
	}
	return err
}

// Deliver is the Deliver of the OutboxWebhookDelivery dispatcher: it posts
// the row's body, signed, and logs the attempt. A 2xx answer delivers it; a
// 410 disables the endpoint; anything else is retried.
func (s *Sender) Deliver(ctx context.Context, it kustomer.OutboxItem) error {
	var d kustomer.WebhookDelivery
	if err := json.Unmarshal(it.Payload, &d); err != nil {
		return &permanentError{"unreadable delivery: " + err.Error()}
	}
	w, err := s.Store.Webhook(ctx, d.WebhookID)
	if errors.Is(err, kustomer.ErrNotFound) {
		return &permanentError{"the endpoint was deleted"}
	}
	if err != nil {
		return err
	}
	if !w.Enabled {
		return &permanentError{"the endpoint is disabled"}
	}
	at := s.now()
	status, perr := s.post(ctx, w, d, at)
	a := kustomer.WebhookAttempt{
		WebhookID: w.ID, DeliveryID: it.ID, EventID: d.EventID, EventType: d.EventType, ConversationID: it.ConversationID,
		Attempt: it.Attempts, Status: status, DurationMS: s.now().Sub(at).Milliseconds(), At: at,
	}
	if perr != nil {
		a.Error = perr.Error()
	} else if !a.OK() {
		a.Error = http.StatusText(status)
	}
	policy := s.Policy
	policy.Gone = status == http.StatusGone
	updated, disabled, rerr := s.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), a, policy)
	if rerr != nil {
		s.log().Error("webhook attempt log", "webhook_id", w.ID, "delivery_id", it.ID, "err", rerr)
	}
	if disabled {
		s.log().Warn("webhook endpoint disabled", "webhook_id", w.ID, "host", hostOf(w.URL), "reason", updated.DisabledReason)
		if s.Disabled != nil {
			s.Disabled(updated)
		}
	}
	if s.Observe != nil {
		switch {
		case a.OK():
			s.Observe("ok")
		case status == 0:
			s.Observe("refused")
		default:
			s.Observe("failed")
		}
	}
	switch {
	case a.OK():
		return nil
	case status == http.StatusGone:
		return &permanentError{"the endpoint answered 410 Gone"}
	case status != 0:
		return fmt.Errorf("the endpoint answered %d", status)
	default:
		return perr
	}
}

// post sends d to w; it returns the status the endpoint answered (0 with
// an error when it did not).
func (s *Sender) post(ctx context.Context, w kustomer.Webhook, d kustomer.WebhookDelivery, at time.Time) (int, error) {
	signer, err := standardwebhooks.NewWebhook(w.Secret)
	if err != nil {
		return 0, errors.New("the endpoint's secret is unreadable")
	}
	sig, err := signer.Sign(d.EventID, at, d.Body)
	if err != nil {
		return 0, errors.New("signing failed")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, strings.NewReader(string(d.Body)))
	if err != nil {
		return 0, errors.New("the endpoint's URL is unusable")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "handoff-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.EventID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(at.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	res, err := s.Client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer res.Body.Close()
	// Read a little of the answer, so the connection can be used again;
	// what an endpoint says is not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}

// describe says why a POST got no answer, without the URL (its path or
// query may hold a token).
func describe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("no answer in time")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, errForbiddenAddress):
		return errForbiddenAddress
	}
	return err
}

// hostOf is a URL's host, for logs.
func hostOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}

var errForbiddenAddress = errors.New("the endpoint's address is on this machine or link-local, which webhooks may not reach")

// NewClient returns the HTTP client deliveries use: no redirects followed
// (an endpoint answers itself), Timeout per POST, and, unless
// allowLoopback, no connection to this machine or to link-local addresses
// (cloud metadata services), whatever the name resolved to.
func NewClient(allowLoopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: Timeout, KeepAlive: 30 * time.Second}
	if !allowLoopback {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() {
				return errForbiddenAddress
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
