package handlers

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closeCounter is a connection that counts its closes.
type closeCounter struct{ n atomic.Int32 }

func (c *closeCounter) Close() error { c.n.Add(1); return nil }

// TestSocketWriterConcurrent has frames queued and wakeups recorded from
// many goroutines at once: one writer runs at a time, every frame is
// written once and each producer's in order, no wakeup is lost, and no
// writer is left running once nothing is due.
func TestSocketWriterConcurrent(t *testing.T) {
	const (
		producers = 8
		perProd   = 300
		wakers    = 4
	)
	var w socketWriter
	var conn closeCounter
	var active, started atomic.Int32
	next := make([]int64, producers) // the writer's alone, one at a time
	var wakes [wakers]atomic.Int32
	var errs []string
	w.start(&conn, func(due wakeup, frames []outbound) bool {
		started.Add(1)
		if active.Add(1) != 1 {
			errs = append(errs, "two writers at once")
		}
		defer active.Add(-1)
		for _, f := range frames {
			p, i := f.after/perProd, f.after%perProd
			if i != next[p] {
				errs = append(errs, "a producer's frames out of order or twice")
			}
			next[p] = i + 1
		}
		for i := range wakers {
			if due&(1<<i) != 0 {
				wakes[i].Add(-1)
			}
		}
		time.Sleep(time.Duration(len(frames)) * time.Microsecond) // overlap with producers
		return true
	})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perProd {
				if !w.enqueue(outbound{after: int64(p*perProd + i)}) {
					t.Error("enqueue refused while serving")
					return
				}
			}
		}()
	}
	for i := range wakers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perProd {
				// Count up before waking: the writer counts down what it
				// saw, so a wakeup never seen leaves the count above zero.
				// Wakeups of one kind merge, so it may go below.
				wakes[i].Store(1)
				w.wake(1 << i)
			}
		}()
	}
	produced := make(chan struct{})
	go func() { wg.Wait(); close(produced) }()
	select {
	case <-produced:
	case <-time.After(5 * time.Second):
		t.Fatal("producers still blocked: queued frames never written")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		running := w.running
		w.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a writer still runs with nothing due")
		}
		time.Sleep(time.Millisecond)
	}
	for _, e := range errs {
		t.Error(e)
	}
	for p, n := range next {
		if n != perProd {
			t.Errorf("producer %d: %d frames written, want %d", p, n, perProd)
		}
	}
	for i := range wakers {
		if n := wakes[i].Load(); n > 0 {
			t.Errorf("wakeup %d: the last was never seen", i)
		}
	}
	t.Logf("%d writers started for %d frames and %d wakeups", started.Load(), producers*perProd, wakers*perProd)

	// The reader stops it: nothing starts any more, nothing is queued.
	w.stop()
	if conn.n.Load() != 1 {
		t.Errorf("stop closed the connection %d times, want once", conn.n.Load())
	}
	before := started.Load()
	w.wake(wakePing)
	if w.enqueue(outbound{}) {
		t.Errorf("enqueue accepted a frame after stop")
	}
	if started.Load() != before {
		t.Errorf("a writer started after stop")
	}
}

// TestSocketWriterClosesOnFailure: a write that fails closes the
// connection (ending the reader) and refuses what comes after.
func TestSocketWriterClosesOnFailure(t *testing.T) {
	var w socketWriter
	var conn closeCounter
	done := make(chan struct{})
	w.start(&conn, func(wakeup, []outbound) bool { close(done); return false })
	w.wake(wakeShutdown)
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for conn.n.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if conn.n.Load() != 1 {
		t.Fatalf("connection closed %d times, want once", conn.n.Load())
	}
	if w.enqueue(outbound{}) {
		t.Errorf("enqueue accepted a frame after the writer closed the socket")
	}
	w.stop() // the reader's, after its read failed: returns at once
}
