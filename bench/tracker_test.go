package main

import (
	"fmt"
	"sync"
	"testing"
)

func TestTrackerClean(t *testing.T) {
	tr := NewTracker()
	for _, st := range []string{"a", "b"} {
		tr.Start(st, 1)
	}
	for seq := int64(2); seq <= 11; seq++ {
		tag := fmt.Sprint("m", seq)
		tr.Expect("a", tag, seq)
		tr.Deliver("a", seq, tag)
		// b hears of it before the commit is known.
		tr.Deliver("b", seq, tag)
		tr.Expect("b", tag, seq)
	}
	got := tr.Report()
	want := TrackerReport{Streams: 2, Expected: 20, Delivered: 20}
	if got != want {
		t.Errorf("report = %+v, want %+v", got, want)
	}
	if tr.Pending() != 0 {
		t.Errorf("pending = %d", tr.Pending())
	}
}

func TestTrackerCatchesViolations(t *testing.T) {
	type step struct {
		expect bool
		seq    int64
		tag    string
		cseq   int64 // committed seq for expect
	}
	tests := []struct {
		name  string
		start int64
		steps []step
		want  TrackerReport
	}{
		{
			name:  "duplicate seq and tag",
			steps: []step{{true, 0, "x", 1}, {false, 1, "x", 0}, {false, 1, "x", 0}},
			want:  TrackerReport{Streams: 1, Expected: 1, Delivered: 1, Duplicated: 1, Violations: 1},
		},
		{
			name:  "same tag under another seq",
			steps: []step{{false, 1, "x", 0}, {false, 2, "x", 0}},
			want:  TrackerReport{Streams: 1, Delivered: 1, Duplicated: 1, Violations: 1},
		},
		{
			name:  "replay from before the resume point",
			start: 5,
			steps: []step{{false, 5, "old", 0}, {false, 6, "new", 0}},
			want:  TrackerReport{Streams: 1, Delivered: 1, Duplicated: 1, Violations: 1},
		},
		{
			name:  "missing message",
			steps: []step{{true, 0, "a", 1}, {true, 0, "b", 2}, {false, 1, "a", 0}},
			want:  TrackerReport{Streams: 1, Expected: 2, Delivered: 1, Missing: 1, Violations: 1},
		},
		{
			name:  "gap never filled",
			steps: []step{{false, 1, "a", 0}, {false, 3, "c", 0}, {false, 4, "d", 0}},
			want:  TrackerReport{Streams: 1, Delivered: 3, Holes: 1, Violations: 1},
		},
		{
			name:  "reordered",
			steps: []step{{false, 1, "a", 0}, {false, 3, "c", 0}, {false, 2, "b", 0}, {false, 4, "d", 0}},
			want:  TrackerReport{Streams: 1, Delivered: 4, OutOfOrder: 1, Violations: 1},
		},
		{
			name:  "seq differs from the committed one",
			steps: []step{{true, 0, "a", 2}, {false, 1, "a", 0}},
			want:  TrackerReport{Streams: 1, Expected: 1, Delivered: 1, Mismatched: 1, Violations: 1},
		},
		{
			name:  "commit seq known after delivery, differing",
			steps: []step{{false, 1, "a", 0}, {true, 0, "a", 2}},
			want:  TrackerReport{Streams: 1, Expected: 1, Delivered: 1, Mismatched: 1, Violations: 1},
		},
		{
			name:  "first delivery skips the first seq",
			start: 1,
			steps: []step{{false, 3, "c", 0}},
			want:  TrackerReport{Streams: 1, Delivered: 1, Holes: 1, Violations: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker()
			tr.Start("s", tt.start)
			for _, s := range tt.steps {
				if s.expect {
					tr.Expect("s", s.tag, s.cseq)
				} else {
					tr.Deliver("s", s.seq, s.tag)
				}
			}
			if got := tr.Report(); got != tt.want {
				t.Errorf("report = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTrackerPendingAndMissingTags(t *testing.T) {
	tr := NewTracker()
	tr.Start("a", 0)
	tr.Expect("a", "one", 1)
	tr.Expect("a", "two", 2)
	if got := tr.Pending(); got != 2 {
		t.Fatalf("pending = %d, want 2", got)
	}
	tr.Deliver("a", 1, "one")
	if got := tr.Pending(); got != 1 {
		t.Fatalf("pending = %d, want 1", got)
	}
	if got := tr.MissingTags(10); len(got) != 1 || got[0] != "a:two" {
		t.Errorf("missing tags = %v", got)
	}
}

func TestTrackerConcurrentStreams(t *testing.T) {
	tr := NewTracker()
	var wg sync.WaitGroup
	for s := range 16 {
		name := fmt.Sprint("s", s)
		tr.Start(name, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := int64(1); seq <= 100; seq++ {
				tag := fmt.Sprint(name, "-", seq)
				tr.Expect(name, tag, seq)
				tr.Deliver(name, seq, tag)
			}
		}()
	}
	wg.Wait()
	if got := tr.Report(); got.Violations != 0 || got.Delivered != 1600 || got.Expected != 1600 {
		t.Errorf("report = %+v", got)
	}
}
