// Package cloud relays handoff's conversations to a real Kustomer
// organization: customers' hand-offs and messages go to Kustomer's REST API
// (from the outbox, in each conversation's order, exactly once), and its
// agents' replies come back on a signed webhook. The local store keeps the
// mapping of ids and a mirror of every thread, so that the chat page,
// history, resume and the customer's list work as with the embedded engine.
package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// Client calls Kustomer's REST API (v1) with an API key. A request that
// fails for a moment (a network error, 429 or 5xx) is tried again after a
// backoff with jitter, or after the wait Kustomer asks for (Retry-After,
// x-ratelimit-reset); other answers are returned as an *APIError.
type Client struct {
	base *url.URL
	key  string
	HTTP *http.Client
	// Tries is how many times a request is sent (default 3); MinWait and
	// MaxWait bound the wait between tries (defaults 200 ms and 5 s). A
	// wait Kustomer asks for beyond MaxWait ends the tries: the caller's
	// outbox retries later.
	Tries            int
	MinWait, MaxWait time.Duration
	// Observe, when set, is told each request's operation and status
	// ("error" when no answer came).
	Observe func(op, status string)
	// sleep waits d or until ctx ends (tests replace it).
	sleep func(ctx context.Context, d time.Duration) error
}

// NewClient returns a client of the API at apiURL (the organization's
// https://<org>.api.kustomerapp.com) with key.
func NewClient(apiURL, key string) (*Client, error) {
	u, err := ParseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, errors.New("the API key is empty")
	}
	return &Client{base: u, key: key, HTTP: &http.Client{Timeout: 15 * time.Second}, Tries: 3,
		MinWait: 200 * time.Millisecond, MaxWait: 5 * time.Second, sleep: sleepCtx}, nil
}

// ParseAPIURL checks an organization's API URL: https, an origin only;
// plain http only to this machine (a local stand-in), never across a
// network, since the key travels in every request.
func ParseAPIURL(apiURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(apiURL, "/"))
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil ||
		!(u.Scheme == "https" || u.Scheme == "http" && kustomer.IsLoopbackHost(u.Hostname())) {
		return nil, errors.New("want an https URL like https://example.api.kustomerapp.com")
	}
	return u, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Host is the API's host, for logs.
func (c *Client) Host() string { return c.base.Host }

// APIError is an answer other than 2xx.
type APIError struct {
	Op     string
	Status int
	// Detail is what Kustomer said (its errors' codes and messages).
	Detail string
	// Wait is how long Kustomer asked to wait before trying again.
	Wait time.Duration
}

func (e *APIError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("kustomer %s: HTTP %d", e.Op, e.Status)
	}
	return fmt.Sprintf("kustomer %s: HTTP %d: %s", e.Op, e.Status, e.Detail)
}

// Temporary reports whether trying again later can succeed.
func (e *APIError) Temporary() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

// Permanent reports whether err is an answer no retry changes (4xx other
// than 429).
func Permanent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && !ae.Temporary()
}

// Wait is how long Kustomer asked to be left alone after err (Retry-After,
// x-ratelimit-reset), capped at an hour; 0 when it asked nothing.
func Wait(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return min(ae.Wait, time.Hour)
	}
	return 0
}

// isNotFound reports whether err is a 404.
func isNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Resource is a JSON:API resource as Kustomer answers it.
type Resource struct {
	Type          string                     `json:"type"`
	ID            string                     `json:"id"`
	Attributes    map[string]json.RawMessage `json:"attributes"`
	Relationships map[string]struct {
		Data *struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"data"`
	} `json:"relationships"`
}

// Attr decodes one attribute into v; it reports whether it was there.
func (r Resource) Attr(name string, v any) bool {
	raw, ok := r.Attributes[name]
	return ok && json.Unmarshal(raw, v) == nil
}

// Related is the id of a to-one relationship, or "".
func (r Resource) Related(name string) string {
	if rel, ok := r.Relationships[name]; ok && rel.Data != nil {
		return rel.Data.ID
	}
	return ""
}

// do sends one request, trying again on temporary failures, and decodes a
// 2xx answer's data into out (when set).
func (c *Client) do(ctx context.Context, op, method, path string, body any, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	wait := c.MinWait
	for try := 1; ; try++ {
		err := c.once(ctx, op, method, path, payload, out)
		var ae *APIError
		temporary := err != nil && (!errors.As(err, &ae) || ae.Temporary())
		if !temporary || try >= c.Tries || ctx.Err() != nil {
			return err
		}
		d := wait/2 + rand.N(wait/2+1)
		if ae != nil && ae.Wait > 0 {
			if ae.Wait > c.MaxWait {
				return err // longer than a request should wait: the outbox retries
			}
			d = ae.Wait
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
		wait = min(2*wait, c.MaxWait)
	}
}

func (c *Client) once(ctx context.Context, op, method, path string, payload []byte, out any) error {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.observe(op, "error")
		// The error names the URL, never the key.
		return fmt.Errorf("kustomer %s: %w", op, unwrapURL(err))
	}
	defer res.Body.Close()
	c.observe(op, strconv.Itoa(res.StatusCode))
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("kustomer %s: read answer: %w", op, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &APIError{Op: op, Status: res.StatusCode, Detail: errorDetail(b), Wait: retryWait(res.Header, time.Now())}
	}
	if out == nil {
		return nil
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Data) == 0 {
		return fmt.Errorf("kustomer %s: the answer is not a JSON:API document", op)
	}
	if err := json.Unmarshal(doc.Data, out); err != nil {
		return fmt.Errorf("kustomer %s: decode answer: %w", op, err)
	}
	return nil
}

func (c *Client) observe(op, status string) {
	if c.Observe != nil {
		c.Observe(op, status)
	}
}

// unwrapURL drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorDetail joins what an error answer says, in either of Kustomer's
// two shapes ({errors:[{code, message}]} or JSON:API {status, code, title,
// detail}).
func errorDetail(b []byte) string {
	var doc struct {
		Errors []struct {
			Code    any    `json:"code"`
			Message string `json:"message"`
			Title   string `json:"title"`
			Detail  string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return ""
	}
	var parts []string
	for _, e := range doc.Errors {
		text := strings.TrimSpace(strings.Join([]string{e.Message, e.Title, e.Detail}, " "))
		if e.Code != nil {
			text = strings.TrimSpace(fmt.Sprint(e.Code) + " " + text)
		}
		if text != "" {
			parts = append(parts, text)
		}
	}
	s := strings.Join(parts, "; ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// retryWait is the wait an answer asks for: Retry-After (seconds or a
// date), else x-ratelimit-reset, whose unit Kustomer does not document:
// a Unix time in seconds or milliseconds when it is that large, otherwise
// seconds from now.
func retryWait(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if v := h.Get("x-ratelimit-reset"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil || n < 0:
		case n > 1e12:
			return max(time.UnixMilli(int64(n)).Sub(now), 0)
		case n > 1e9:
			return max(time.Unix(int64(n), 0).Sub(now), 0)
		default:
			return time.Duration(n * float64(time.Second))
		}
	}
	return 0
}

// NewCustomer is what CreateCustomer sends.
type NewCustomer struct {
	Name       string  `json:"name,omitempty"`
	ExternalID string  `json:"externalId"`
	Emails     []Email `json:"emails,omitempty"`
	Locale     string  `json:"locale,omitempty"`
}

// Email is one of a customer's addresses.
type Email struct {
	Type  string `json:"type"`
	Email string `json:"email"`
}

// FindCustomer returns the customer whose externalId is id
// (kustomer.ErrNotFound when none).
func (c *Client) FindCustomer(ctx context.Context, externalID string) (Resource, error) {
	var r Resource
	err := c.do(ctx, "find_customer", http.MethodGet, "/v1/customers/externalId="+url.PathEscape(externalID), nil, &r)
	return r, notFound(err)
}

// CreateCustomer creates a customer.
func (c *Client) CreateCustomer(ctx context.Context, in NewCustomer) (Resource, error) {
	var r Resource
	err := c.do(ctx, "create_customer", http.MethodPost, "/v1/customers", in, &r)
	return r, err
}

// NewConversation is what CreateConversation sends.
type NewConversation struct {
	Name       string         `json:"name,omitempty"`
	ExternalID string         `json:"externalId"`
	Custom     map[string]any `json:"custom,omitempty"`
}

// FindConversation returns the conversation whose externalId is id.
func (c *Client) FindConversation(ctx context.Context, externalID string) (Resource, error) {
	var r Resource
	err := c.do(ctx, "find_conversation", http.MethodGet, "/v1/conversations/externalId="+url.PathEscape(externalID), nil, &r)
	return r, notFound(err)
}

// CreateConversation creates a conversation of customer customerID.
func (c *Client) CreateConversation(ctx context.Context, customerID string, in NewConversation) (Resource, error) {
	var r Resource
	err := c.do(ctx, "create_conversation", http.MethodPost, "/v1/customers/"+url.PathEscape(customerID)+"/conversations", in, &r)
	return r, err
}

// UpdateConversation sets fields of a conversation (custom, ended…).
func (c *Client) UpdateConversation(ctx context.Context, id string, fields map[string]any) error {
	return c.do(ctx, "update_conversation", http.MethodPut, "/v1/conversations/"+url.PathEscape(id), fields, nil)
}

// NewMessage is what CreateMessage sends: a customer's chat message.
type NewMessage struct {
	Channel    string         `json:"channel"`
	App        string         `json:"app"`
	Direction  string         `json:"direction"`
	Preview    string         `json:"preview"`
	ExternalID string         `json:"externalId"`
	Customer   string         `json:"customer,omitempty"`
	Lang       string         `json:"lang,omitempty"`
	CreatedAt  *time.Time     `json:"createdAt,omitempty"`
	Meta       map[string]any `json:"meta,omitempty"`
}

// CreateMessage records a message in a conversation.
func (c *Client) CreateMessage(ctx context.Context, conversationID string, in NewMessage) (Resource, error) {
	var r Resource
	err := c.do(ctx, "create_message", http.MethodPost, "/v1/conversations/"+url.PathEscape(conversationID)+"/messages", in, &r)
	return r, err
}

// Messages lists a conversation's messages, a page of up to 100.
func (c *Client) Messages(ctx context.Context, conversationID string, page int) ([]Resource, error) {
	var rs []Resource
	err := c.do(ctx, "list_messages", http.MethodGet, fmt.Sprintf("/v1/conversations/%s/messages?page=%d&pageSize=100", url.PathEscape(conversationID), page), nil, &rs)
	return rs, err
}

// notFound turns a 404 into kustomer.ErrNotFound.
func notFound(err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w: %w", kustomer.ErrNotFound, err)
	}
	return err
}

// WebhookEvents are the events handoff's receiver consumes.
var WebhookEvents = []string{"kustomer.message.create", "kustomer.conversation.update"}

// OutboundWebhook is a webhook subscription in the organization.
type OutboundWebhook struct {
	ID     string
	Name   string
	URL    string
	Events []string
	// Token signs the deliveries; Kustomer answers it when the webhook is
	// created.
	Token string
}

func outboundWebhook(r Resource) OutboundWebhook {
	w := OutboundWebhook{ID: r.ID}
	r.Attr("name", &w.Name)
	r.Attr("url", &w.URL)
	r.Attr("events", &w.Events)
	r.Attr("token", &w.Token)
	return w
}

// CreateOutboundWebhook subscribes url to events.
func (c *Client) CreateOutboundWebhook(ctx context.Context, name, url string, events []string) (OutboundWebhook, error) {
	var r Resource
	err := c.do(ctx, "create_webhook", http.MethodPost, "/v1/outbound-webhooks",
		map[string]any{"name": name, "url": url, "events": events, "headers": []any{}}, &r)
	return outboundWebhook(r), err
}

// OutboundWebhooks lists the organization's webhook subscriptions.
func (c *Client) OutboundWebhooks(ctx context.Context) ([]OutboundWebhook, error) {
	var rs []Resource
	if err := c.do(ctx, "list_webhooks", http.MethodGet, "/v1/outbound-webhooks", nil, &rs); err != nil {
		return nil, err
	}
	out := make([]OutboundWebhook, 0, len(rs))
	for _, r := range rs {
		out = append(out, outboundWebhook(r))
	}
	return out, nil
}

// CheckKey makes a cheap authenticated read, the look-up of a customer
// that should not exist: not found means the key was accepted.
func (c *Client) CheckKey(ctx context.Context) error {
	_, err := c.FindCustomer(ctx, "handoff-key-check")
	if errors.Is(err, kustomer.ErrNotFound) {
		return nil
	}
	return err
}
