package main

import (
	"math"
	"testing"
)

const sampleMetrics = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 23
# TYPE handoff_open_sockets gauge
handoff_open_sockets{kind="customer"} 10000
handoff_open_sockets{kind="agent"} 2
# TYPE handoff_http_request_duration_seconds histogram
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations/:id",status="200",le="0.0005"} 0
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations/:id",status="200",le="0.001"} 10
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations/:id",status="200",le="0.0025"} 90
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations/:id",status="200",le="0.005"} 100
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations/:id",status="200",le="+Inf"} 100
handoff_http_request_duration_seconds_sum{method="GET",route="/conversations/:id",status="200"} 0.17
handoff_http_request_duration_seconds_count{method="GET",route="/conversations/:id",status="200"} 100
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations",status="200",le="0.001"} 5
handoff_http_request_duration_seconds_bucket{method="GET",route="/conversations",status="200",le="+Inf"} 5
weird_label{path="a\"b,c}d"} 1.5e3
`

func TestParseProm(t *testing.T) {
	s, err := parseProm([]byte(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := promValue(s, "go_goroutines", nil); !ok || v != 23 {
		t.Errorf("go_goroutines = %v, %v", v, ok)
	}
	if v, ok := promValue(s, "handoff_open_sockets", map[string]string{"kind": "customer"}); !ok || v != 10000 {
		t.Errorf("customer sockets = %v, %v", v, ok)
	}
	if v, _ := promValue(s, "handoff_open_sockets", nil); v != 10002 {
		t.Errorf("all sockets = %v", v)
	}
	if _, ok := promValue(s, "nope", nil); ok {
		t.Error("a missing metric was found")
	}
	if v, ok := promValue(s, "weird_label", map[string]string{"path": `a"b,c}d`}); !ok || v != 1500 {
		t.Errorf("escaped label: %v, %v", v, ok)
	}
	if _, err := parseProm([]byte("broken{a=\"x\" 1\n")); err == nil {
		t.Error("a broken line parsed")
	}
}

func TestHistogramMedian(t *testing.T) {
	s, err := parseProm([]byte(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	b := promHistogram(s, "handoff_http_request_duration_seconds", map[string]string{"route": "/conversations/:id", "method": "GET"})
	if len(b) != 5 || !math.IsInf(b[4].LE, 1) || b[4].Count != 100 {
		t.Fatalf("buckets = %+v", b)
	}
	// Rank 50 falls in (1ms, 2.5ms] which holds ranks 10..90: 40/80 of the
	// way = 1.75 ms.
	got, ok := histQuantile(b, 0.5)
	if !ok || math.Abs(got-0.00175) > 1e-12 {
		t.Errorf("median = %v, %v; want 0.00175", got, ok)
	}
	// Rank 5 is in the first non-empty bucket (0.5ms, 1ms]: halfway.
	if got, _ := histQuantile(b, 0.05); math.Abs(got-0.00075) > 1e-12 {
		t.Errorf("p5 = %v, want 0.00075", got)
	}
	if got, _ := histQuantile(b, 1); math.Abs(got-0.005) > 1e-12 {
		t.Errorf("p100 = %v, want 0.005", got)
	}
}

func TestHistQuantileEdges(t *testing.T) {
	inf := math.Inf(1)
	if _, ok := histQuantile(nil, 0.5); ok {
		t.Error("no buckets gave a value")
	}
	if _, ok := histQuantile([]bucket{{0.1, 0}, {inf, 0}}, 0.5); ok {
		t.Error("no observations gave a value")
	}
	// Everything in the first bucket: interpolate from 0.
	if got, _ := histQuantile([]bucket{{0.002, 4}, {inf, 4}}, 0.5); math.Abs(got-0.001) > 1e-12 {
		t.Errorf("first bucket median = %v, want 0.001", got)
	}
	// Everything above the last finite bound: the bound itself.
	if got, _ := histQuantile([]bucket{{0.002, 0}, {inf, 8}}, 0.5); got != 0.002 {
		t.Errorf("+Inf median = %v, want 0.002", got)
	}
}

func TestHistDelta(t *testing.T) {
	inf := math.Inf(1)
	before := []bucket{{0.001, 10}, {0.0025, 20}, {inf, 20}}
	after := []bucket{{0.0005, 3}, {0.001, 14}, {0.0025, 30}, {inf, 32}}
	got := histDelta(after, before)
	want := []bucket{{0.0005, 3}, {0.001, 4}, {0.0025, 10}, {inf, 12}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delta = %+v, want %+v", got, want)
		}
	}
	// Median of the delta: cumulative 3, 4, 10, 12, so rank 6 lies in
	// (1ms, 2.5ms], which holds ranks 5..10: 2/6 of the way.
	if m, _ := histQuantile(got, 0.5); math.Abs(m-(0.001+0.0015*2/6)) > 1e-12 {
		t.Errorf("delta median = %v", m)
	}
}

func TestHistBetween(t *testing.T) {
	before, err := parseProm([]byte(`
op_seconds_bucket{op="a",le="0.001"} 10
op_seconds_bucket{op="a",le="0.01"} 10
op_seconds_bucket{op="a",le="+Inf"} 10
op_seconds_sum{op="a"} 0.005
op_seconds_count{op="a"} 10
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseProm([]byte(`
op_seconds_bucket{op="a",le="0.001"} 10
op_seconds_bucket{op="a",le="0.01"} 110
op_seconds_bucket{op="a",le="+Inf"} 110
op_seconds_sum{op="a"} 0.505
op_seconds_count{op="a"} 110
op_seconds_bucket{op="b",le="0.001"} 7
op_seconds_bucket{op="b",le="+Inf"} 7
`))
	if err != nil {
		t.Fatal(err)
	}
	h := histBetween(before, after, "op_seconds", map[string]string{"op": "a"})
	// 100 new observations, all in (1ms, 10ms], summing to 0.5 s.
	if h.Count != 100 || math.Abs(*h.MeanMS-5) > 1e-9 || math.Abs(*h.P50MS-5.5) > 1e-9 || math.Abs(*h.P99MS-9.91) > 1e-9 {
		t.Errorf("histBetween = count %v mean %v p50 %v p99 %v", h.Count, *h.MeanMS, *h.P50MS, *h.P99MS)
	}
	if h := histBetween(after, after, "op_seconds", map[string]string{"op": "a"}); h.Count != 0 || h.P50MS != nil {
		t.Errorf("no new observations: %+v", h)
	}
}
