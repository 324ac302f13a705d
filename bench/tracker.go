package main

import (
	"sort"
	"sync"
)

// Tracker checks that every message reaches every socket ("stream") exactly
// once and in seq order. A sender declares what a stream must receive
// (Expect, once the server has committed it, with the seq the server
// assigned when known); a socket reader reports what arrived (Deliver).
// Deliveries and expectations may come in either order. Safe for concurrent
// use.
type Tracker struct {
	mu      sync.Mutex
	streams map[string]*trackedStream
}

type trackedStream struct {
	start     int64            // deliveries are expected from start+1 on
	last      int64            // highest seq delivered
	bySeq     map[int64]string // seq → tag delivered
	byTag     map[string]int64 // tag → seq delivered
	expected  map[string]int64 // tag → committed seq (0: unknown)
	delivered int
	dups      int
	outOrder  int
	mismatch  int
}

// TrackerReport counts what a Tracker saw. Violations is the sum of every
// kind of failure; it must be 0.
type TrackerReport struct {
	Streams    int `json:"streams"`
	Expected   int `json:"expected"`
	Delivered  int `json:"delivered"`
	Missing    int `json:"missing"`    // expected but never delivered
	Holes      int `json:"holes"`      // seqs below the highest delivered that never arrived
	Duplicated int `json:"duplicated"` // a seq or tag delivered again
	OutOfOrder int `json:"outOfOrder"` // delivered after a higher seq
	Mismatched int `json:"mismatched"` // delivered with another seq than the server committed
	Violations int `json:"violations"`
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker { return &Tracker{streams: map[string]*trackedStream{}} }

func (t *Tracker) stream(name string) *trackedStream {
	s := t.streams[name]
	if s == nil {
		s = &trackedStream{bySeq: map[int64]string{}, byTag: map[string]int64{}, expected: map[string]int64{}}
		t.streams[name] = s
	}
	return s
}

// Start opens a stream that resumes after afterSeq: its first delivery
// should be afterSeq+1. Call it before the stream's first delivery.
func (t *Tracker) Start(stream string, afterSeq int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stream(stream)
	s.start, s.last = afterSeq, afterSeq
}

// Expect records that stream must receive the message tagged tag, which the
// server committed as seq (0 when the seq is not known).
func (t *Tracker) Expect(stream, tag string, seq int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stream(stream)
	if _, ok := s.expected[tag]; ok && seq == 0 {
		return
	}
	s.expected[tag] = seq
	if got, ok := s.byTag[tag]; ok && seq != 0 && got != seq {
		s.mismatch++
	}
}

// Deliver records that stream received seq tagged tag (tag may be empty).
func (t *Tracker) Deliver(stream string, seq int64, tag string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stream(stream)
	_, seqSeen := s.bySeq[seq]
	_, tagSeen := s.byTag[tag]
	if seqSeen || (tag != "" && tagSeen) || seq <= s.start {
		// Delivered before, or replayed from before the resume point.
		s.dups++
		return
	}
	s.delivered++
	s.bySeq[seq] = tag
	if tag != "" {
		s.byTag[tag] = seq
		if want := s.expected[tag]; want != 0 && want != seq {
			s.mismatch++
		}
	}
	if seq < s.last {
		s.outOrder++
		return
	}
	s.last = seq
}

// Pending is how many expected messages have not arrived yet, over every
// stream.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.streams {
		for tag := range s.expected {
			if _, ok := s.byTag[tag]; !ok {
				n++
			}
		}
	}
	return n
}

// Report counts deliveries and violations over every stream.
func (t *Tracker) Report() TrackerReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	var r TrackerReport
	for _, s := range t.streams {
		r.Streams++
		r.Expected += len(s.expected)
		r.Delivered += s.delivered
		r.Duplicated += s.dups
		r.OutOfOrder += s.outOrder
		r.Mismatched += s.mismatch
		for tag := range s.expected {
			if _, ok := s.byTag[tag]; !ok {
				r.Missing++
			}
		}
		for seq := s.start + 1; seq < s.last; seq++ {
			if _, ok := s.bySeq[seq]; !ok {
				r.Holes++
			}
		}
	}
	r.Violations = r.Missing + r.Holes + r.Duplicated + r.OutOfOrder + r.Mismatched
	return r
}

// MissingTags lists up to n expected tags that never arrived, for the
// report's evidence.
func (t *Tracker) MissingTags(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for name, s := range t.streams {
		for tag := range s.expected {
			if _, ok := s.byTag[tag]; !ok {
				out = append(out, name+":"+tag)
			}
		}
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}
