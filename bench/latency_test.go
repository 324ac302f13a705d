package main

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	// 1..100 ms: the p-th percentile is p ms exactly.
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"empty p99", nil, 99, 0},
		{"one sample p50", []time.Duration{ms(7)}, 50, ms(7)},
		{"one sample p99", []time.Duration{ms(7)}, 99, ms(7)},
		{"one sample p0", []time.Duration{ms(7)}, 0, ms(7)},
		{"two samples p50", []time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{"two samples p51", []time.Duration{ms(1), ms(2)}, 51, ms(2)},
		{"hundred p50", hundred, 50, ms(50)},
		{"hundred p95", hundred, 95, ms(95)},
		{"hundred p99", hundred, 99, ms(99)},
		{"hundred p100", hundred, 100, ms(100)},
		{"hundred p0", hundred, 0, ms(1)},
		{"hundred p99.5", hundred, 99.5, ms(100)},
		{"hundred p0.5", hundred, 0.5, ms(1)},
		// Wikipedia's nearest-rank example: 15 20 35 40 50.
		{"wiki p5", []time.Duration{15, 20, 35, 40, 50}, 5, 15},
		{"wiki p30", []time.Duration{15, 20, 35, 40, 50}, 30, 20},
		{"wiki p40", []time.Duration{15, 20, 35, 40, 50}, 40, 20},
		{"wiki p50", []time.Duration{15, 20, 35, 40, 50}, 50, 35},
		{"wiki p100", []time.Duration{15, 20, 35, 40, 50}, 100, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.samples, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.samples, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeShuffled(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 1000; i++ {
		s = append(s, ms(i))
	}
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	got := Summarize(s)
	want := Summary{Count: 1000, Min: ms(1), Mean: 500500 * time.Microsecond, P50: ms(500), P95: ms(950), P99: ms(990), Max: ms(1000)}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}

func TestSummarizeEdgeCases(t *testing.T) {
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
	one := Summarize([]time.Duration{ms(3)})
	if one.Count != 1 || one.P50 != ms(3) || one.P99 != ms(3) || one.Min != ms(3) || one.Max != ms(3) || one.Mean != ms(3) {
		t.Errorf("Summarize(one) = %+v", one)
	}
	// A tail: 98 fast samples and two slow ones. p99 must see the tail, p95
	// must not.
	var s []time.Duration
	for range 98 {
		s = append(s, ms(1))
	}
	s = append(s, ms(500), ms(900))
	got := Summarize(s)
	if got.P95 != ms(1) || got.P99 != ms(500) || got.Max != ms(900) {
		t.Errorf("tail: %+v", got)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 125 {
				r.Record(ms(w*125 + i + 1))
			}
		}()
	}
	wg.Wait()
	s := r.Summary()
	if s.Count != 1000 || r.Len() != 1000 || s.P50 != ms(500) || s.P99 != ms(990) || s.Max != ms(1000) {
		t.Errorf("concurrent recorder summary = %+v", s)
	}
}
