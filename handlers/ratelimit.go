package handlers

import (
	"fmt"
	"github.com/handoff/handoff/views/locale"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/handoff/handoff/kustomer"
)

// buckets holds keyed token buckets (golang.org/x/time/rate). A bucket that
// has refilled is the same as a new one, so full buckets are dropped when
// the map grows: memory follows the keys active within a refill period,
// not every key ever seen.
type buckets struct {
	mu      sync.Mutex
	m       map[string]*rate.Limiter
	sweepAt int
	swept   time.Time // last sweep
	now     func() time.Time
}

// The map is swept of refilled buckets when it doubles, and at least every
// sweepEvery.
const (
	minSweep   = 1024
	sweepEvery = time.Minute
)

func newBuckets() *buckets {
	return &buckets{m: make(map[string]*rate.Limiter), sweepAt: minSweep, now: time.Now}
}

// bucketKey names one bucket and the limit it enforces.
type bucketKey struct {
	key   string
	limit rate.Limit
	burst int
}

// take takes one token from every bucket named, or from none: it returns 0
// when all had one, else how long until all will.
func (b *buckets) take(keys ...bucketKey) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	var wait time.Duration
	res := make([]*rate.Reservation, 0, len(keys))
	for _, k := range keys {
		if k.limit == rate.Inf {
			continue
		}
		r := b.limiter(k).ReserveN(now, 1)
		if !r.OK() {
			wait = time.Duration(math.MaxInt64)
			continue
		}
		res = append(res, r)
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		for _, r := range res {
			r.CancelAt(now)
		}
	}
	return wait
}

// sweep drops refilled buckets when the map has doubled or a while has
// passed; b.mu is held.
func (b *buckets) sweep(now time.Time) {
	if len(b.m) < b.sweepAt && (len(b.m) == 0 || now.Sub(b.swept) < sweepEvery) {
		return
	}
	b.swept = now
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(b.m, k)
		}
	}
	b.sweepAt = max(minSweep, 2*len(b.m))
}

// limiter returns k's bucket, made full when new; b.mu is held.
func (b *buckets) limiter(k bucketKey) *rate.Limiter {
	l := b.m[k.key]
	if l == nil {
		l = rate.NewLimiter(k.limit, k.burst)
		b.m[k.key] = l
	}
	return l
}

// reserveN reserves n tokens of one bucket; it returns nil and how long to
// wait when they are not there now. Settle the reservation with settle.
func (b *buckets) reserveN(k bucketKey, n int) (*rate.Reservation, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.sweep(now)
	r := b.limiter(k).ReserveN(now, n)
	if !r.OK() {
		return nil, time.Duration(math.MaxInt64)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, d
	}
	return r, 0
}

// settle gives back a reservation and takes used tokens instead (0: none).
func (b *buckets) settle(k bucketKey, r *rate.Reservation, used int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	r.CancelAt(now)
	if used > 0 {
		if l := b.m[k.key]; l != nil {
			l.ReserveN(now, min(used, l.Burst()))
		}
	}
}

// uploadBudget is what one client address may add to the disk in files,
// in KiB: a file takes its size from it, and a new upload needs room for
// the largest file first.
type uploadBudget struct {
	burstKiB   int // at once
	perHourKiB int // then, sustained
}

// defaultUploadBudget: 100 MB at once, then 200 MB an hour.
var defaultUploadBudget = uploadBudget{burstKiB: 100 << 10, perHourKiB: 200 << 10}

// withUploadBudget runs upload, a customer's file upload, within the client
// address's byte budget: the budget must hold the largest file before the
// upload is read, and the file then takes its real size from it. It
// returns how long to wait, without running upload, when the budget is
// short.
func (s *Server) withUploadBudget(c echo.Context, upload func() (kustomer.Attachment, error)) (kustomer.Attachment, time.Duration, error) {
	k := s.uploadBucket(c)
	res, wait := s.limiter.reserveN(k, kustomer.MaxAttachmentBytes>>10+1)
	if wait > 0 {
		return kustomer.Attachment{}, wait, nil
	}
	a, err := upload()
	used := 0
	if err == nil {
		used = int(a.Size>>10) + 1
	}
	s.limiter.settle(k, res, used)
	return a, 0, err
}

// uploadBucket is the client address's upload budget.
func (s *Server) uploadBucket(c echo.Context) bucketKey {
	b := s.uploads
	return bucketKey{key: "upload|addr|" + clientKey(c), limit: rate.Limit(float64(b.perHourKiB) / 3600), burst: b.burstKiB}
}

// limitsFor returns the limits in effect for form f ("" or unknown: the
// server's).
func (s *Server) limitsFor(formID string) kustomer.Limits {
	if f, ok := s.engine.Config().Form(formID); ok {
		return f.Limits.Over(s.opts.Limits)
	}
	return s.opts.Limits
}

// clientKey is the rate-limit identity of the client's address: the
// address itself for IPv4, its /64 for IPv6 (one subscriber's usual share).
func clientKey(c echo.Context) string {
	a, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return c.RealIP()
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// allowHandoff takes a hand-off token for the client's address and, when
// the session already holds a customer, for that customer. It returns 0
// when the hand-off may go ahead, else how long to wait.
func (s *Server) allowHandoff(c echo.Context, formID, customerID string) time.Duration {
	l := s.limitsFor(formID)
	lim, burst := rate.Limit(l.HandoffRate.PerSecond()), l.HandoffBurst
	keys := []bucketKey{{key: "handoff|" + formID + "|addr|" + clientKey(c), limit: lim, burst: burst}}
	if customerID != "" {
		keys = append(keys, bucketKey{key: "handoff|" + formID + "|customer|" + customerID, limit: lim, burst: burst})
	}
	return s.limiter.take(keys...)
}

// allowSend takes a send token from the customer's bucket for the form,
// shared by all their sockets and requests.
func (s *Server) allowSend(formID, customerID string) time.Duration {
	l := s.limitsFor(formID)
	return s.limiter.take(bucketKey{key: "send|" + formID + "|" + customerID, limit: rate.Limit(l.SendRate.PerSecond()), burst: l.SendBurst})
}

// allowCustomerSend is allowSend for an HTTP send to conversation id: it
// reads the conversation for its form, which also checks that the customer
// owns it.
func (s *Server) allowCustomerSend(c echo.Context, actor kustomer.Actor, id string) (time.Duration, error) {
	conv, err := s.engine.Conversation(c.Request().Context(), actor, id)
	if err != nil {
		return 0, err
	}
	return s.allowSend(conv.FormID, actor.ID), nil
}

// retryAfter sets Retry-After (whole seconds, at least 1) and counts the
// refusal by route.
func (s *Server) retryAfter(c echo.Context, wait time.Duration) int {
	secs := retrySeconds(wait)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	s.opts.Metrics.rateLimited(c.Path())
	return secs
}

func retrySeconds(wait time.Duration) int {
	const maxRetry = 24 * 60 * 60
	if wait >= maxRetry*time.Second {
		return maxRetry
	}
	return max(1, int(math.Ceil(wait.Seconds())))
}

// errRateLimited is the JSON API's answer over a limit.
func errRateLimited(secs int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Title: "Too many requests",
		Detail: fmt.Sprintf("Too many requests from this client; try again in %s.", waitWords(secs)), Wait: secs}
}

// localWait says a wait of secs seconds in words a customer reads, in l's
// language.
func localWait(l *locale.Localizer, secs int) string {
	switch {
	case secs <= 1:
		return l.Tn("wait.seconds", 1, nil)
	case secs < 90:
		return l.Tn("wait.seconds", secs, nil)
	case secs < 90*60:
		return l.Tn("wait.minutes", (secs+30)/60, nil)
	default:
		return l.Tn("wait.hours", (secs+1800)/3600, nil)
	}
}

// waitWords is localWait in English, for the API's error details.
func waitWords(secs int) string { return localWait(locale.English(), secs) }
