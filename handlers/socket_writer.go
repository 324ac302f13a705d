package handlers

import (
	"io"
	"sync"
)

// wakeup is what a socket's writer is started (or kept running) for,
// besides frames the reader queued.
type wakeup uint8

const (
	wakeEvents   wakeup = 1 << iota // the subscription has events, or ended
	wakePing                        // the ping is due
	wakeHello                       // the client did not say hello in time
	wakeFlush                       // the inbox's coalesced frame is due
	wakeShutdown                    // the server is shutting down
	wakeEnded                       // the agent's session ended
)

// maxQueuedFrames is how many of the reader's frames may wait for the
// writer; beyond that the reader waits, so that a client that floods the
// socket and never reads holds a bounded queue.
const maxQueuedFrames = 8

// outbound is a request from the reader to the writer: a frame to write, or
// (hello) the position to resume from.
type outbound struct {
	frame []byte
	hello bool
	after int64
}

// socketWriter runs a socket's writer only while something is due, on the
// stack pool (see workerPool): an idle socket holds its reader's goroutine
// alone. Whatever becomes
// due (wake, enqueue) starts a writer unless one runs; a running writer
// looks again before it exits, under the same lock, so nothing is missed.
// At most one writer runs at a time, so it alone writes to the connection
// (control frames aside), and what one writer leaves (the delivery
// position) the next finds, ordered by mu.
type socketWriter struct {
	conn io.Closer // the connection: closing it ends the reader
	// write writes what is due and the queued frames, in order; false
	// closes the socket.
	write func(due wakeup, frames []outbound) bool

	mu      sync.Mutex
	cond    sync.Cond // on mu: a writer stopped, or took the queued frames
	serving bool      // start has been called: writers may run
	running bool      // a writer runs
	stopped bool      // the socket is closing: no writer starts any more
	due     wakeup
	frames  []outbound // nil while none wait
}

// start begins serving conn with write: a writer starts for what is due,
// including what became due before.
func (w *socketWriter) start(conn io.Closer, write func(wakeup, []outbound) bool) {
	w.mu.Lock()
	w.cond.L = &w.mu
	w.conn, w.write = conn, write
	w.serving = true
	run := w.claim()
	w.mu.Unlock()
	if run {
		stackPool.goOn(w.run)
	}
}

// claim reports whether the caller is to start a writer, and marks one
// running if so; the caller holds mu.
func (w *socketWriter) claim() bool {
	if !w.serving || w.running || w.stopped || (w.due == 0 && len(w.frames) == 0) {
		return false
	}
	w.running = true
	return true
}

// wake records that d is due.
func (w *socketWriter) wake(d wakeup) {
	w.mu.Lock()
	w.due |= d
	run := w.claim()
	w.mu.Unlock()
	if run {
		stackPool.goOn(w.run)
	}
}

// enqueue hands a frame to the writer, waiting while maxQueuedFrames wait
// already; false once the socket is closing.
func (w *socketWriter) enqueue(o outbound) bool {
	w.mu.Lock()
	for len(w.frames) >= maxQueuedFrames && !w.stopped {
		w.cond.Wait()
	}
	if w.stopped {
		w.mu.Unlock()
		return false
	}
	w.frames = append(w.frames, o)
	run := w.claim()
	w.mu.Unlock()
	if run {
		stackPool.goOn(w.run)
	}
	return true
}

// run is the writer: it writes what is due until nothing is, then exits.
// When it closes the socket it closes the connection too, which ends the
// reader.
func (w *socketWriter) run() {
	for {
		w.mu.Lock()
		due, frames := w.due, w.frames
		w.due, w.frames = 0, nil
		if w.stopped || (due == 0 && len(frames) == 0) {
			w.running = false
			w.cond.Broadcast()
			w.mu.Unlock()
			return
		}
		if len(frames) > 0 {
			w.cond.Broadcast() // room for the reader's frames
		}
		w.mu.Unlock()
		if !w.write(due, frames) {
			break
		}
	}
	w.mu.Lock()
	w.stopped = true
	w.running = false
	w.cond.Broadcast()
	w.mu.Unlock()
	w.conn.Close()
}

// stop is the reader's, once its read failed: no writer starts any more, a
// write in progress fails at once, and stop returns when no writer runs.
func (w *socketWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.conn.Close()
	w.mu.Lock()
	for w.running {
		w.cond.Wait()
	}
	w.frames = nil
	w.mu.Unlock()
}
