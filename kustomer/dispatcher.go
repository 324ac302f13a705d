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
	// Wait, when set, is how long the receiver asked to be left alone
	// after err (a 429's Retry-After): a retry is not due before.
	Wait func(err error) time.Duration
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
	// (default 8, or unbounded when MaxAge is set).
	MaxAttempts int
	// MaxAge, when set, parks a row that fails once it was created that
	// long ago: it is retried for that long, however many attempts it
	// takes.
	MaxAge time.Duration
	// Parallel is how many rows are delivered at once (default 1). With
	// more than one, Run claims rows as deliveries finish, so that a slow
	// receiver holds one slot, not the rows behind it. The rows of one
	// Ordering are never delivered at the same time.
	Parallel int
	// Wake, when set, makes Run look for due rows at once when it
	// receives, beside every Poll.
	Wake <-chan struct{}
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
	if d.MaxAttempts <= 0 && d.MaxAge <= 0 {
		d.MaxAttempts = 8
	}
	if d.Parallel <= 0 {
		d.Parallel = 1
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

// Run delivers due rows until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.defaults()
	if d.Parallel > 1 {
		d.runParallel(ctx)
		return
	}
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		for {
			n, err := d.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.Log.Error("outbox claim", "kind", d.Kind, "err", err)
			}
			// A short claim may still leave rows due: those an ordered
			// row held back until it was delivered.
			if err != nil || n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.Wake:
		}
	}
}

// runParallel is Run with up to Parallel deliveries in flight: a claim
// takes as many rows as there are free slots, and a finished delivery
// frees its slot and looks for more. A claimed row stays leased while it
// is delivered, so no claim takes it twice.
func (d *Dispatcher) runParallel(ctx context.Context) {
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	slots := make(chan struct{}, d.Parallel)
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		for free := d.Parallel - len(slots); free > 0; free = d.Parallel - len(slots) {
			items, err := d.Outbox.ClaimOutbox(ctx, d.Kind, d.Now(), d.Lease, min(free, d.Batch))
			if err != nil && ctx.Err() == nil {
				d.Log.Error("outbox claim", "kind", d.Kind, "err", err)
			}
			if err != nil || len(items) == 0 {
				break
			}
			for _, it := range items {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() {
						<-slots
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					d.deliver(ctx, it)
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.Wake:
		case <-freed:
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
	case d.Permanent(err) || d.MaxAttempts > 0 && it.Attempts >= d.MaxAttempts || d.MaxAge > 0 && now.Sub(it.CreatedAt) >= d.MaxAge:
		outcome, serr = "parked", d.Outbox.ParkOutbox(sctx, it, err.Error(), now)
		d.Log.Warn("outbox row parked", "kind", d.Kind, "id", it.ID, "attempts", it.Attempts, "err", err)
	default:
		wait := d.Backoff(it.Attempts)
		if d.Wait != nil {
			wait = max(wait, d.Wait(err))
		}
		outcome, serr = "retried", d.Outbox.RetryOutbox(sctx, it, now.Add(wait), err.Error(), now)
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
