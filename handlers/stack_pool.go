package handlers

import (
	"runtime"
	"sync/atomic"
	"time"
)

// A socket's long-lived reader calls the store (SQLite's translated C uses
// large frames) through onFreshStack, so that its own stack stays small
// while it waits for the next frame, and its writer, which runs only while
// something is due, renders and writes on the same pool. The calls run on
// a few pooled goroutines whose stacks have already grown: a new goroutine
// per frame or delivery would grow its stack from a few kilobytes, copying
// it at each doubling, every time. The pool is bounded (beyond it a call gets a goroutine
// of its own, as it would without the pool), and a worker idle for a while
// exits, giving its stack back.
type workerPool struct {
	work    chan func()
	workers atomic.Int32
	max     int32
	idle    atomic.Int64 // how long a worker waits for work, in nanoseconds
}

var stackPool = newWorkerPool(4*runtime.GOMAXPROCS(0), 2*time.Second)

func newWorkerPool(size int, idle time.Duration) *workerPool {
	p := &workerPool{work: make(chan func()), max: int32(size)}
	p.idle.Store(int64(idle))
	return p
}

// onFreshStack runs fn on a pooled goroutine (or a new one) and waits for
// it.
func onFreshStack(fn func() error) error { return stackPool.run(fn) }

// run runs fn on a pooled goroutine and waits for it.
func (p *workerPool) run(fn func() error) error {
	done := make(chan error, 1)
	p.goOn(func() { done <- fn() })
	return <-done
}

// goOn runs fn on a pooled goroutine, without waiting: an idle worker, a
// new one while the pool has room, else a goroutine of its own.
func (p *workerPool) goOn(fn func()) {
	select {
	case p.work <- fn: // an idle worker took it
	default:
		if p.workers.Add(1) <= p.max {
			go p.worker(fn)
		} else {
			p.workers.Add(-1)
			go fn()
		}
	}
}

// worker runs job, then the jobs handed to it, until it has been idle for
// p.idle.
func (p *workerPool) worker(job func()) {
	defer p.workers.Add(-1)
	idle := time.NewTimer(time.Duration(p.idle.Load()))
	defer idle.Stop()
	for {
		job()
		idle.Reset(time.Duration(p.idle.Load()))
		select {
		case job = <-p.work:
		case <-idle.C:
			return
		}
	}
}
