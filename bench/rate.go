package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// perSecond is n events over elapsed, in events per second; 0 when no time
// passed.
func perSecond(n int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}

// msOf is d in (fractional) milliseconds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// slot is when the i-th (0-based) event of a paced run at rate per second
// is due, counted from start.
func slot(start time.Time, i int, rate float64) time.Time {
	return start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
}

// spread is the offset of member i of n spread evenly over period: the
// phase at which room i sends so that n rooms do not send at once.
func spread(i, n int, period time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(int64(period) * int64(i) / int64(n))
}

// runStats is the outcome of a bounded run.
type runStats struct {
	OK      int           `json:"ok"`
	Failed  int           `json:"failed"`
	Elapsed time.Duration `json:"elapsedNs"`
}

// Rate is the successful operations per second.
func (s runStats) Rate() float64 { return perSecond(s.OK, s.Elapsed) }

// runClosed runs fn with workers goroutines, each starting its next
// operation when the last one ends, until max operations have started or d
// has passed. Elapsed runs until the last operation ended.
func runClosed(ctx context.Context, workers, max int, d time.Duration, fn func(ctx context.Context, i int) error) runStats {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var next, ok, failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= max {
					return
				}
				if err := fn(ctx, i); err != nil {
					if ctx.Err() != nil {
						return // cut off by the deadline: not a failure of the server
					}
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return runStats{OK: int(ok.Load()), Failed: int(failed.Load()), Elapsed: time.Since(start)}
}

// runPaced starts operations at rate per second (open loop, up to workers
// at once) until max have started or d has passed. An operation that finds
// every worker busy waits, so the rate achieved can fall short: compare
// Rate() with rate.
func runPaced(ctx context.Context, workers int, rate float64, max int, d time.Duration, fn func(ctx context.Context, i int) error) runStats {
	ctx, cancel := context.WithTimeout(ctx, d+10*time.Second)
	defer cancel()
	tickets := make(chan int)
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range tickets {
				if err := fn(ctx, i); err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				ok.Add(1)
			}
		}()
	}
	start := time.Now()
	stop := start.Add(d)
dispatch:
	for i := 0; i < max; i++ {
		due := slot(start, i, rate)
		if due.After(stop) {
			break
		}
		if w := time.Until(due); w > 0 {
			select {
			case <-ctx.Done():
				break dispatch
			case <-time.After(w):
			}
		}
		select {
		case tickets <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(tickets)
	wg.Wait()
	return runStats{OK: int(ok.Load()), Failed: int(failed.Load()), Elapsed: time.Since(start)}
}
