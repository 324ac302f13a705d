package handlers

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// clock is a settable time source for the rate limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (e *env) fakeClock() *clock {
	c := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	e.srv.limiter.now = c.Now
	return c
}

func (e *env) limited(route string) float64 {
	return testutil.ToFloat64(e.srv.opts.Metrics.limited.WithLabelValues(route))
}

func TestHandoffRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	clk := e.fakeClock()
	burst := kustomer.DefaultLimits.HandoffBurst
	// Separate browsers (no shared session) from one address.
	for i := range burst {
		e.client().handoff(t)
		_ = i
	}
	stored := e.conversationCount()
	form := contactForm()
	form.Set("message", "One more, from a script.")
	res := e.client().postForm("/forms/contact", form)
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("hand-off %d from one address: %d, want 429", burst+1, res.StatusCode)
	}
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 12 {
		t.Errorf("Retry-After %q, want 1..12 seconds (5 a minute)", res.Header.Get("Retry-After"))
	}
	doc := res.doc(t)
	if msg := doc.Find(`[data-testid="form-error"]`).Text(); !strings.Contains(msg, "try again in") {
		t.Errorf("no plain sentence about when to try again: %q", msg)
	}
	if v, _ := doc.Find(`[data-testid="field-message"]`).Html(); v != "One more, from a script." {
		t.Errorf("message not kept: %q", v)
	}
	if v, _ := doc.Find(`[data-testid="field-orderNumber"]`).Attr("value"); v != "A-10042" {
		t.Errorf("order number not kept: %q", v)
	}
	if len(res.Cookies()) != 0 {
		t.Errorf("a refused hand-off set cookies: %v", res.Cookies())
	}
	if n := e.conversationCount(); n != stored {
		t.Errorf("a refused hand-off stored something: %d conversations, want %d", n, stored)
	}
	if got := e.limited("/forms/:form"); got != 1 {
		t.Errorf("handoff_rate_limited_total{route=/forms/:form} = %v, want 1", got)
	}

	// The JSON API shares the address's bucket for the form and answers
	// the standard error shape.
	api := e.client().sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"formId": "contact", "message": "hi", "name": "Bot", "email": "bot@example.com"})
	if api.StatusCode != http.StatusTooManyRequests || api.Header.Get("Retry-After") == "" {
		t.Fatalf("API create over the limit: %d, Retry-After %q", api.StatusCode, api.Header.Get("Retry-After"))
	}
	var body struct{ Errors []apiError }
	api.json(t, &body)
	if len(body.Errors) != 1 || body.Errors[0].Code != "rate_limited" || !strings.Contains(body.Errors[0].Detail, "try again in") {
		t.Errorf("API error body %+v", body)
	}
	if n := e.conversationCount(); n != stored {
		t.Errorf("a refused API hand-off stored something")
	}

	// Another form has its own bucket; the same form refills in 12 s.
	if res := e.client().postForm("/forms/sales", url.Values{"name": {"Lee"}, "email": {"lee@example.com"}, "company": {"Acme"}, "message": {"Pricing?"}}); res.StatusCode == http.StatusTooManyRequests {
		t.Errorf("another form was limited by this one's bucket")
	}
	clk.Add(12 * time.Second)
	e.client().handoff(t)
	if res := e.client().postForm("/forms/contact", contactForm()); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after one refill, the second hand-off: %d, want 429", res.StatusCode)
	}
}

func TestHandoffRateLimitedPerSession(t *testing.T) {
	e := newEnv(t)
	e.fakeClock()
	e.srv.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	e.srv.echo.IPExtractor = ipExtractor(e.srv.opts.TrustedProxies)
	c := e.client()
	post := func(i int) response {
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/forms/contact", strings.NewReader(contactForm().Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)) // a new address each time, as a proxy reports it
		return c.do(req)
	}
	// The first hand-off creates the session; the session's bucket then
	// counts the next ones.
	for i := range kustomer.DefaultLimits.HandoffBurst + 1 {
		if res := post(i); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("hand-off %d: %d", i, res.StatusCode)
		}
	}
	if res := post(99); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("one session from changing addresses: %d, want 429", res.StatusCode)
	}
	// A new visitor from another address is not limited by that session.
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/forms/contact", strings.NewReader(contactForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.200")
	if res := e.client().do(req); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another visitor behind the proxy: %d, want 303", res.StatusCode)
	}
}

func TestHoneypotStoresNothing(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	page := c.get("/forms/contact").doc(t)
	trap := page.Find(`[data-testid="honeypot"]`)
	if trap.Length() != 1 {
		t.Fatal("the form has no honeypot field")
	}
	if h, _ := trap.Closest(`[aria-hidden="true"]`).Attr("aria-hidden"); h != "true" {
		t.Error("the honeypot is not hidden from screen readers")
	}
	if ti, _ := trap.Attr("tabindex"); ti != "-1" {
		t.Error("the honeypot is in the tab order")
	}
	form := contactForm()
	form.Set(views.HoneypotField, "http://spam.example")
	res := c.postForm("/forms/contact", form)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/conversations/") {
		t.Fatalf("filled honeypot: %d %q, want the 303 a person gets", res.StatusCode, res.Header.Get("Location"))
	}
	if n := e.conversationCount(); n != 0 {
		t.Errorf("a filled honeypot stored %d conversations", n)
	}
	if len(res.Cookies()) != 0 {
		t.Errorf("a filled honeypot set cookies")
	}
	if got := testutil.ToFloat64(e.srv.opts.Metrics.honeypot.WithLabelValues("contact")); got != 1 {
		t.Errorf("handoff_honeypot_total = %v, want 1", got)
	}
	// A person's submission (the trap left empty) goes through.
	c.handoff(t)
}

func TestSendsLimitedPerCustomerAcrossSockets(t *testing.T) {
	e := newEnv(t)
	e.fakeClock() // no refill during the test
	c := e.client()
	id := c.handoff(t)
	burst := kustomer.DefaultLimits.SendBurst
	sockets := []*ws{c.mustDial(t, id, 1), c.mustDial(t, id, 1), c.mustDial(t, id, 1)}
	acked, limited := 0, 0
	// Each socket alone stays under its old per-socket burst; together
	// they go over the customer's.
	for i := range burst + 5 {
		w := sockets[i%len(sockets)]
		cid := fmt.Sprintf("burst-%d", i)
		w.send(map[string]any{"type": "send", "clientMessageId": cid, "body": "hello " + cid})
		for {
			f := w.next()
			if f.Type == "ack" && f.ClientMessageID == cid {
				acked++
				break
			}
			if f.Type == "error" && f.ClientMessageID == cid {
				if f.Code != "rate_limited" || f.RetryAfter < 1 {
					t.Fatalf("error frame %+v, want rate_limited with retryAfter", f)
				}
				limited++
				break
			}
		}
	}
	if acked != burst || limited != 5 {
		t.Errorf("acked %d, limited %d; want %d and 5", acked, limited, burst)
	}
	// The HTTP routes draw on the same bucket.
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "over REST", "clientMessageId": "rest-1"})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("REST send over the limit: %d", res.StatusCode)
	}
	res = c.postForm("/conversations/"+id+"/messages", url.Values{"body": {"no-JS send"}, "clientMessageId": {"form-1"}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("no-JS send over the limit: %d", res.StatusCode)
	}
	if v := res.doc(t).Find(`textarea[name="body"]`).Text(); v != "no-JS send" {
		t.Errorf("no-JS draft not kept: %q", v)
	}
	msgs := e.org(http.MethodGet, "/conversations/"+id+"/messages?max=100", nil)
	var got struct{ Messages []messageResponse }
	msgs.json(t, &got)
	if len(got.Messages) != 1+burst {
		t.Errorf("%d messages stored, want the form's 1 + %d", len(got.Messages), burst)
	}
	if n := e.limited(socketRoute); n != 5 {
		t.Errorf("socket refusals counted %v, want 5", n)
	}
}

func TestBucketsForgetRefilledKeys(t *testing.T) {
	b := newBuckets()
	clk := &clock{t: time.Unix(0, 0)}
	b.now = clk.Now
	for i := range 3 * minSweep {
		b.take(bucketKey{key: strconv.Itoa(i), limit: 1, burst: 2})
	}
	clk.Add(time.Minute)
	b.take(bucketKey{key: "fresh", limit: 1, burst: 2})
	if n := len(b.m); n > 2*minSweep {
		t.Errorf("%d buckets kept after all refilled, want them swept", n)
	}
	// A bucket in use is never forgotten.
	clk.Add(time.Hour)
	for range 2 {
		b.take(bucketKey{key: "busy", limit: 0.001, burst: 2})
	}
	for i := range 3 * minSweep {
		b.take(bucketKey{key: "x" + strconv.Itoa(i), limit: 1, burst: 2})
	}
	if w := b.take(bucketKey{key: "busy", limit: 0.001, burst: 2}); w == 0 {
		t.Error("a drained bucket was swept away and refilled")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"5/m": 5.0 / 60, "20/s": 20, "3/30s": 0.1, "100/h": 100.0 / 3600, "2/minute": 2.0 / 60} {
		r, err := kustomer.ParseRate(in)
		if err != nil || r.PerSecond() != want {
			t.Errorf("ParseRate(%q) = %v (%v/s), %v; want %v/s", in, r, r.PerSecond(), err, want)
		}
	}
	for _, bad := range []string{"", "5", "0/m", "-1/s", "5/y", "5/1ms", "five/m"} {
		if _, err := kustomer.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}
