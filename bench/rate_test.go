package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPerSecond(t *testing.T) {
	if got := perSecond(3000, 2*time.Second); got != 1500 {
		t.Errorf("perSecond = %v", got)
	}
	if got := perSecond(10, 0); got != 0 {
		t.Errorf("perSecond over no time = %v", got)
	}
	if got := msOf(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("msOf = %v", got)
	}
}

func TestSlotAndSpread(t *testing.T) {
	start := time.Unix(0, 0)
	if got := slot(start, 0, 100).Sub(start); got != 0 {
		t.Errorf("slot 0 = %v", got)
	}
	if got := slot(start, 250, 100).Sub(start); got != 2500*time.Millisecond {
		t.Errorf("slot 250 at 100/s = %v", got)
	}
	if got := spread(500, 1000, time.Second); got != 500*time.Millisecond {
		t.Errorf("spread = %v", got)
	}
	if got := spread(999, 1000, time.Second); got != 999*time.Millisecond {
		t.Errorf("spread last = %v", got)
	}
	if got := spread(1, 0, time.Second); got != 0 {
		t.Errorf("spread of none = %v", got)
	}
}

func TestRunClosedCountsAndCaps(t *testing.T) {
	var calls atomic.Int64
	st := runClosed(context.Background(), 4, 100, 5*time.Second, func(_ context.Context, i int) error {
		calls.Add(1)
		if i%10 == 0 {
			return errors.New("boom")
		}
		return nil
	})
	if calls.Load() != 100 || st.OK != 90 || st.Failed != 10 {
		t.Errorf("calls %d, stats %+v", calls.Load(), st)
	}
	if st.Rate() <= 0 {
		t.Errorf("rate = %v", st.Rate())
	}
}

func TestRunClosedStopsAtDeadline(t *testing.T) {
	start := time.Now()
	st := runClosed(context.Background(), 2, 1<<30, 200*time.Millisecond, func(ctx context.Context, _ int) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
			return nil
		}
	})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("ran %v past a 200ms deadline", el)
	}
	if st.Failed != 0 || st.OK < 10 || st.OK > 60 {
		t.Errorf("stats %+v", st)
	}
}

func TestRunPacedHoldsTheRate(t *testing.T) {
	st := runPaced(context.Background(), 8, 200, 1000, 500*time.Millisecond, func(context.Context, int) error { return nil })
	// 0.5 s at 200/s: slots 0..100 are due within the window.
	if st.OK < 95 || st.OK > 101 {
		t.Errorf("paced run did %d, want about 100", st.OK)
	}
	st = runPaced(context.Background(), 8, 1e6, 50, time.Second, func(context.Context, int) error { return nil })
	if st.OK != 50 {
		t.Errorf("count cap: did %d, want 50", st.OK)
	}
}

func TestFifthRates(t *testing.T) {
	start := time.Unix(0, 0)
	var done []time.Time
	// 100 completions: the first 50 every 1 ms, the rest every 4 ms.
	at := start
	for i := range 100 {
		done = append(done, at)
		if i < 50 {
			at = at.Add(time.Millisecond)
		} else {
			at = at.Add(4 * time.Millisecond)
		}
	}
	first, last := fifthRates(done)
	if first != 1000 || last != 250 {
		t.Errorf("fifthRates = %v, %v; want 1000, 250", first, last)
	}
	if f, l := fifthRates(done[:5]); f != 0 || l != 0 {
		t.Errorf("too few: %v %v", f, l)
	}
}
