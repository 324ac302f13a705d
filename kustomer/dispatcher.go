package kustomer

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrNothingToDeliver, returned by a Deliver, says that the row turned out
// to need no delivery when it came due (a follow-up whose replies were read
// meanwhile): the row is done, and observed as "skipped".
var ErrNothingToDeliver = errors.New("outbox: nothing to deliver")

// Dispatcher delivers the outbox rows of one kind: it claims due rows,
// hands each to Deliver, and marks it done, retries it after an
// exponential backoff with jitter, or parks it after MaxAttempts or a
// permanent failure. Delivery is at least once: a crash between delivering
// and marking done delivers again, with the row's stable Key.
type Dispatcher struct {
	Outbox Outbox
	Kind   OutboxKind
	// Deliver sends one row. An error for which Permanent reports true
	// parks the row at once; any other is retried.
	Deliver   func(ctx context.Context, it OutboxItem) error
	Permanent func(error) bool
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Poll is how often the outbox is checked for due rows (default 1 s).
	Poll time.Duration
	// Lease is how long a claimed row is left to its delivery before it is
	// claimed again (default 5 min).
	Lease time.Duration
	// Batch is how many rows one claim takes (default 10).
	Batch int
	// MaxAttempts is the number of deliveries tried before a row is parked
	// (default 8).
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before a retry (defaults
	// 30 s and 1 h): MinBackoff doubled per attempt, capped, then a random
	// part of up to half of it taken off so retries spread out.
	MinBackoff, MaxBackoff time.Duration
	// Observe, when set, is told each outcome: "sent", "skipped",
	// "retried" or "parked".
	Observe func(kind OutboxKind, outcome string)
	// Log is told about failures by row id and kind only; the error texts
	// it logs must name no address, body or secret.
	Log *slog.Logger

	once sync.Once
}

// defaults fills in the zero fields, once: set fields before the first
// call of Run, RunOnce or Backoff.
func (d *Dispatcher) defaults() { d.once.Do(d.setDefaults) }

func (d *Dispatcher) setDefaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Poll <= 0 {
		d.Poll = time.Second
	}
	if d.Lease <= 0 {
		d.Lease = 5 * time.Minute
	}
	if d.Batch <= 0 {
		d.Batch = 10
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 8
	}
	if d.MinBackoff <= 0 {
		d.MinBackoff = 30 * time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = time.Hour
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Permanent == nil {
		d.Permanent = func(error) bool { return false }
	}
}

// Run delivers due rows until ctx ends, then returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.defaults()
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		for {
			n, err := d.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.Log.Error("outbox claim", "kind", d.Kind, "err", err)
			}
			if err != nil || n < d.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due rows and settles each; it returns how
// many it claimed.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.defaults()
	items, err := d.Outbox.ClaimOutbox(ctx, d.Kind, d.Now(), d.Lease, d.Batch)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		d.deliver(ctx, it)
	}
	return len(items), nil
}

func (d *Dispatcher) deliver(ctx context.Context, it OutboxItem) {
	dctx, cancel := context.WithTimeout(ctx, d.Lease)
	err := d.Deliver(dctx, it)
	cancel()
	// The outcome is recorded even when ctx ended meanwhile (shutdown):
	// otherwise a sent row would wait out its lease and be sent again.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := d.Now()
	var outcome string
	var serr error
	switch {
	case err == nil:
		outcome, serr = "sent", d.Outbox.CompleteOutbox(sctx, it, now)
	case errors.Is(err, ErrNothingToDeliver):
		outcome, serr = "skipped", d.Outbox.CompleteOutbox(sctx, it, now)
	case d.Permanent(err) || it.Attempts >= d.MaxAttempts:
		outcome, serr = "parked", d.Outbox.ParkOutbox(sctx, it, err.Error(), now)
		d.Log.Warn("outbox row parked", "kind", d.Kind, "id", it.ID, "attempts", it.Attempts, "err", err)
	default:
		outcome, serr = "retried", d.Outbox.RetryOutbox(sctx, it, now.Add(d.Backoff(it.Attempts)), err.Error(), now)
		d.Log.Info("outbox row retried", "kind", d.Kind, "id", it.ID, "attempts", it.Attempts, "err", err)
	}
	if serr != nil {
		if !errors.Is(serr, ErrConflict) {
			d.Log.Error("outbox settle", "kind", d.Kind, "id", it.ID, "err", serr)
		}
		return
	}
	if d.Observe != nil {
		d.Observe(d.Kind, outcome)
	}
}

// Backoff is the wait before the retry that follows attempt n (1-based).
func (d *Dispatcher) Backoff(n int) time.Duration {
	d.defaults()
	b := d.MinBackoff
	for i := 1; i < n && b < d.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.MaxBackoff)
	return b - rand.N(b/2+1)
}
