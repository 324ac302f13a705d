package handlers

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestOnFreshStack(t *testing.T) {
	p := newWorkerPool(4, 50*time.Millisecond)
	want := errors.New("from fn")
	if err := p.run(func() error { return want }); err != want {
		t.Fatalf("onFreshStack = %v, want fn's error", err)
	}

	ran := make(chan struct{})
	p.goOn(func() { close(ran) })
	<-ran

	// More calls at once than the pool holds: each runs, the workers stay
	// within the bound, and the rest get goroutines of their own.
	n := 3 * int(p.max)
	release := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	for range n {
		go func() {
			defer finished.Done()
			_ = p.run(func() error { started.Done(); <-release; return nil })
		}()
	}
	started.Wait()
	if w := p.workers.Load(); w > p.max || w < 1 {
		t.Errorf("%d workers for %d calls at once, want 1 to %d", w, n, p.max)
	}
	close(release)
	finished.Wait()

	// Idle workers give their stacks back.
	deadline := time.Now().Add(5 * time.Second)
	for p.workers.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still alive after %v idle", p.workers.Load(), 5*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
