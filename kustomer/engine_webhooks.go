package kustomer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on webhook endpoints.
const (
	MaxWebhooks              = 50
	MaxWebhookURLLen         = 2000
	MaxWebhookDescriptionLen = 200
)

// WebhookInput is what an admin sets on an endpoint; nil fields are left
// as they are (on creation: Private false, Enabled true).
type WebhookInput struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	Events      *[]string `json:"events"`
	Private     *bool     `json:"private"`
	Enabled     *bool     `json:"enabled"`
}

// NewWebhookSecret returns a signing secret in the Standard Webhooks form:
// "whsec_" and 32 random bytes in base64.
func NewWebhookSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// CreateWebhook registers an endpoint for the events in; the returned
// endpoint carries its secret, which is shown this once.
func (e *Engine) CreateWebhook(ctx context.Context, by Actor, in WebhookInput) (Webhook, error) {
	if err := requireOrg(by); err != nil {
		return Webhook{}, err
	}
	now := e.now()
	w := Webhook{ID: NewID(), Enabled: true, Secret: NewWebhookSecret(), CreatedBy: by.ID, CreatedAt: now, UpdatedAt: now}
	verr := &ValidationError{}
	if in.URL == nil {
		verr.Add("url", "is required")
	}
	if in.Events == nil {
		verr.Add("events", "must name at least one event")
	}
	e.applyWebhookInput(verr, &w, in)
	if err := verr.OrNil(); err != nil {
		return Webhook{}, err
	}
	existing, err := e.store.Webhooks(ctx)
	if err != nil {
		return Webhook{}, err
	}
	if len(existing) >= MaxWebhooks {
		return Webhook{}, &ConflictError{Code: "too_many_webhooks", Reason: fmt.Sprintf("at most %d endpoints can be registered; delete one first", MaxWebhooks)}
	}
	audit := e.newAudit(by, AuditWebhooks, w.ID, hostOf(w.URL), AuditCreated)
	webhookAudit(&audit, Webhook{}, w)
	err = e.store.CreateWebhook(ctx, w, audit)
	e.forgetWebhooks()
	if err != nil {
		return Webhook{}, err
	}
	e.log.InfoContext(ctx, "webhook endpoint registered", "webhook_id", w.ID, "host", hostOf(w.URL), "events", strings.Join(w.Events, ","), "by", by.ID)
	return w, nil
}

// UpdateWebhook changes what in sets. Enabling a disabled endpoint clears
// its failures; the deliveries parked meanwhile can be sent again with
// ResendFailedWebhookDeliveries.
func (e *Engine) UpdateWebhook(ctx context.Context, by Actor, id string, in WebhookInput) (Webhook, error) {
	if err := requireOrg(by); err != nil {
		return Webhook{}, err
	}
	w, err := e.Webhook(ctx, id)
	if err != nil {
		return Webhook{}, err
	}
	before := w
	verr := &ValidationError{}
	e.applyWebhookInput(verr, &w, in)
	if err := verr.OrNil(); err != nil {
		return Webhook{}, err
	}
	if in.Enabled != nil && !*in.Enabled && w.DisabledReason == "" {
		w.DisabledReason = "disabled by " + by.Name
	}
	w.UpdatedAt = e.now()
	audit := e.newAudit(by, AuditWebhooks, w.ID, hostOf(before.URL), AuditUpdated)
	webhookAudit(&audit, before, w)
	err = e.store.UpdateWebhook(ctx, w, audit.ifChanged()...)
	e.forgetWebhooks()
	if err != nil {
		return Webhook{}, err
	}
	return e.Webhook(ctx, id)
}

// RotateWebhookSecret gives the endpoint a new secret, returned this once;
// deliveries from now on are signed with it.
func (e *Engine) RotateWebhookSecret(ctx context.Context, by Actor, id string) (Webhook, error) {
	if err := requireOrg(by); err != nil {
		return Webhook{}, err
	}
	w, err := e.Webhook(ctx, id)
	if err != nil {
		return Webhook{}, err
	}
	w.Secret, w.UpdatedAt = NewWebhookSecret(), e.now()
	audit := e.newAudit(by, AuditWebhooks, w.ID, hostOf(w.URL), AuditSecretRotated)
	audit.changed("secret")
	err = e.store.UpdateWebhook(ctx, w, audit)
	e.forgetWebhooks()
	if err != nil {
		return Webhook{}, err
	}
	e.log.InfoContext(ctx, "webhook secret rotated", "webhook_id", w.ID, "by", by.ID)
	return w, nil
}

// DeleteWebhook deletes an endpoint and its delivery log; deliveries still
// waiting for it are dropped.
func (e *Engine) DeleteWebhook(ctx context.Context, by Actor, id string) error {
	if err := requireOrg(by); err != nil {
		return err
	}
	w, err := e.Webhook(ctx, id)
	if err != nil {
		return err
	}
	audit := e.newAudit(by, AuditWebhooks, w.ID, hostOf(w.URL), AuditDeleted)
	audit.change("url", w.URL, "")
	err = e.store.DeleteWebhook(ctx, id, audit)
	e.forgetWebhooks()
	if err != nil {
		return err
	}
	e.log.InfoContext(ctx, "webhook endpoint deleted", "webhook_id", id, "by", by.ID)
	return nil
}

// webhookAudit adds to entry what changed from before to after; the
// secret is never recorded.
func webhookAudit(entry *AuditEntry, before, after Webhook) {
	entry.change("url", before.URL, after.URL)
	entry.change("description", before.Description, after.Description)
	entry.change("events", strings.Join(before.Events, ", "), strings.Join(after.Events, ", "))
	entry.change("private", onOff(before.Private, before.ID != ""), onOff(after.Private, true))
	entry.change("enabled", onOff(before.Enabled, before.ID != ""), onOff(after.Enabled, true))
}

// onOff says a flag in the audit log's words; "" when it did not exist.
func onOff(v, exists bool) string {
	switch {
	case !exists:
		return ""
	case v:
		return "yes"
	}
	return "no"
}

// Webhook returns one endpoint, with its secret (which pages never show).
func (e *Engine) Webhook(ctx context.Context, id string) (Webhook, error) {
	if !ValidID(id) {
		return Webhook{}, fmt.Errorf("webhook %q: %w", id, ErrNotFound)
	}
	return e.store.Webhook(ctx, id)
}

// Webhooks lists the endpoints, oldest first.
func (e *Engine) Webhooks(ctx context.Context) ([]Webhook, error) { return e.store.Webhooks(ctx) }

// WebhookAttempts is an endpoint's delivery log, the latest first.
func (e *Engine) WebhookAttempts(ctx context.Context, id string, limit int) ([]WebhookAttempt, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("webhook %q: %w", id, ErrNotFound)
	}
	attempts, err := e.store.WebhookAttempts(ctx, id, limit)
	if err == nil && len(attempts) == 0 {
		// An empty log: of an endpoint, or of none?
		_, err = e.store.Webhook(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return attempts, nil
}

// WebhookDeliveries lists an endpoint's deliveries in state.
func (e *Engine) WebhookDeliveries(ctx context.Context, id string, state OutboxState, limit int) ([]OutboxItem, error) {
	if _, err := e.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return e.store.WebhookDeliveries(ctx, id, state, limit)
}

// ResendWebhookDelivery sends a delivery of the endpoint again, delivered
// or given up: the same event, body and webhook-id (receivers that saw it
// recognize it), in its place among the conversation's events, tried for
// another day.
func (e *Engine) ResendWebhookDelivery(ctx context.Context, by Actor, webhookID, deliveryID string) error {
	if err := requireOrg(by); err != nil {
		return err
	}
	w, err := e.resendable(ctx, webhookID)
	if err != nil {
		return err
	}
	it, err := e.store.OutboxItem(ctx, deliveryID)
	if err != nil || it.Kind != OutboxWebhookDelivery || !strings.HasPrefix(it.Ordering, WebhookDeliveryOrdering(w.ID, "")) {
		if err == nil || errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("delivery %q of webhook %s: %w", deliveryID, webhookID, ErrNotFound)
		}
		return err
	}
	now := e.now()
	n, err := e.store.RequeueOutbox(ctx, []string{it.ID}, now, now)
	if err == nil && n == 0 {
		err = &ConflictError{Code: "delivery_pending", Reason: "this delivery is still being tried"}
	}
	if err == nil {
		e.wakeWebhooks()
	}
	return err
}

// ResendFailedWebhookDeliveries sends again every delivery to the endpoint
// that was given up (parked), in their order; it returns how many.
func (e *Engine) ResendFailedWebhookDeliveries(ctx context.Context, by Actor, webhookID string) (int, error) {
	if err := requireOrg(by); err != nil {
		return 0, err
	}
	if _, err := e.resendable(ctx, webhookID); err != nil {
		return 0, err
	}
	parked, err := e.store.WebhookDeliveries(ctx, webhookID, OutboxParked, 1000)
	if err != nil || len(parked) == 0 {
		return 0, err
	}
	ids := make([]string, 0, len(parked))
	for _, it := range parked {
		ids = append(ids, it.ID)
	}
	now := e.now()
	n, err := e.store.RequeueOutbox(ctx, ids, now, now)
	if err == nil {
		e.wakeWebhooks()
	}
	return n, err
}

// resendable returns the endpoint if deliveries to it can be resent: it
// exists and is enabled.
func (e *Engine) resendable(ctx context.Context, webhookID string) (Webhook, error) {
	w, err := e.Webhook(ctx, webhookID)
	if err == nil && !w.Enabled {
		err = &ConflictError{Code: "webhook_disabled", Reason: "the endpoint is disabled; enable it first"}
	}
	return w, err
}

// applyWebhookInput validates in and sets it on w.
func (e *Engine) applyWebhookInput(verr *ValidationError, w *Webhook, in WebhookInput) {
	if in.URL != nil {
		u, problem := e.checkWebhookURL(strings.TrimSpace(*in.URL))
		if problem != "" {
			verr.Add("url", problem)
		}
		w.URL = u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		switch {
		case !utf8.ValidString(d):
			verr.Add("description", "must be valid UTF-8 text")
		case utf8.RuneCountInString(d) > MaxWebhookDescriptionLen:
			verr.Add("description", fmt.Sprintf("must be at most %d characters", MaxWebhookDescriptionLen))
		}
		w.Description = d
	}
	if in.Events != nil {
		var events []string
		for _, ev := range *in.Events {
			if !slices.Contains(WebhookEventTypes, ev) {
				verr.Add("events", fmt.Sprintf("%q is not an event; the events are %s", ev, strings.Join(WebhookEventTypes, ", ")))
				break
			}
			if !slices.Contains(events, ev) {
				events = append(events, ev)
			}
		}
		if len(*in.Events) == 0 {
			verr.Add("events", "must name at least one event")
		}
		// In the order the events are listed everywhere.
		slices.SortFunc(events, func(a, b string) int {
			return slices.Index(WebhookEventTypes, a) - slices.Index(WebhookEventTypes, b)
		})
		w.Events = events
	}
	if in.Private != nil {
		w.Private = *in.Private
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
		if w.Enabled {
			w.DisabledReason = ""
		}
	}
}

// checkWebhookURL returns u cleaned, or what is wrong with it: https, no
// credentials; plain http only to this machine, and only where
// AllowLoopbackWebhooks (development). Names that are this machine are
// refused in production too; the addresses a name resolves to are checked
// again when each delivery connects.
func (e *Engine) checkWebhookURL(s string) (string, string) {
	if s == "" {
		return s, "is required"
	}
	if len(s) > MaxWebhookURLLen {
		return s, fmt.Sprintf("must be at most %d characters", MaxWebhookURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return s, "must be a full URL such as https://example.com/hooks/handoff"
	}
	if u.User != nil {
		return s, "must not hold a user name or password: the signature proves the sender"
	}
	if u.Fragment != "" {
		return s, "must not have a #fragment"
	}
	loopback := IsLoopbackHost(u.Hostname())
	switch {
	case u.Scheme == "https" && (!loopback || e.AllowLoopbackWebhooks):
	case u.Scheme == "http" && loopback && e.AllowLoopbackWebhooks:
	case loopback:
		return s, "must not point at this machine"
	case u.Scheme == "http":
		return s, "must use https"
	default:
		return s, "must be an https URL"
	}
	return u.String(), ""
}

// IsLoopbackHost reports whether host (a name or an address) is this
// machine.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// hostOf is the host of a URL, for logs: the path may hold a token.
func hostOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}
