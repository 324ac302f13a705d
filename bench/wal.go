package main

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// walSampler records the largest size the server's SQLite write-ahead log
// file reaches, by looking at it every few milliseconds.
type walSampler struct {
	path string
	peak atomic.Int64
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// sampleWAL starts sampling the file at path every interval.
func sampleWAL(path string, every time.Duration) *walSampler {
	w := &walSampler{path: path, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			w.sample()
			select {
			case <-t.C:
			case <-w.quit:
				return
			}
		}
	}()
	return w
}

func (w *walSampler) sample() {
	st, err := os.Stat(w.path)
	if err != nil {
		return // not created yet
	}
	if n := st.Size(); n > w.peak.Load() {
		w.peak.Store(n)
	}
}

// stop ends the sampling; it may be called more than once.
func (w *walSampler) stop() {
	w.once.Do(func() {
		close(w.quit)
		<-w.done
	})
}

// peakMB is the largest size seen, in MB (2^20 bytes).
func (w *walSampler) peakMB() float64 { return float64(w.peak.Load()) / (1 << 20) }
