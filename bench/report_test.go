package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRowRatiosAndTargets(t *testing.T) {
	tests := []struct {
		name      string
		value     *float64
		ref       *float64
		target    *Target
		wantRatio *float64
		wantPass  *bool
	}{
		{"throughput passes", fp(700), fp(1000), &Target{ratioAtLeast, 0.6}, fp(0.7), ptrBool(true)},
		{"throughput fails", fp(500), fp(1000), &Target{ratioAtLeast, 0.6}, fp(0.5), ptrBool(false)},
		{"exactly at the target", fp(600), fp(1000), &Target{ratioAtLeast, 0.6}, fp(0.6), ptrBool(true)},
		{"latency passes", fp(9), fp(3), &Target{ratioAtMost, 3}, fp(3), ptrBool(true)},
		{"latency fails", fp(9.3), fp(3), &Target{ratioAtMost, 3}, fp(3.1), ptrBool(false)},
		{"no reference fails a ratio target", fp(9), nil, &Target{ratioAtMost, 3}, nil, ptrBool(false)},
		{"zero reference fails a ratio target", fp(9), fp(0), &Target{ratioAtLeast, 0.6}, nil, ptrBool(false)},
		{"absolute passes", fp(1.8), fp(0.4), &Target{valueAtMost, 2}, fp(4.5), ptrBool(true)},
		{"absolute fails", fp(2.1), nil, &Target{valueAtMost, 2}, nil, ptrBool(false)},
		{"not measured fails", nil, fp(1), &Target{valueAtMost, 2}, nil, ptrBool(false)},
		{"violations zero passes", fp(0), nil, &Target{valueEqual, 0}, nil, ptrBool(true)},
		{"one violation fails", fp(1), nil, &Target{valueEqual, 0}, nil, ptrBool(false)},
		{"at least", fp(10000), nil, &Target{valueAtLeast, 10000}, nil, ptrBool(true)},
		{"no target", fp(1), fp(2), nil, fp(0.5), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRow("s", "m", unitMS, tt.value, tt.ref, "bare", tt.target)
			if !eqPtr(r.Ratio, tt.wantRatio) {
				t.Errorf("ratio = %v, want %v", deref(r.Ratio), deref(tt.wantRatio))
			}
			if (r.Pass == nil) != (tt.wantPass == nil) || (r.Pass != nil && *r.Pass != *tt.wantPass) {
				t.Errorf("pass = %v, want %v", r.Pass, tt.wantPass)
			}
		})
	}
}

func TestCountRowsHaveNoRatio(t *testing.T) {
	r := newRow("idle", "sockets held", unitCount, fp(10000), fp(10000), "relay", &Target{valueAtLeast, 10000})
	if r.Ratio != nil || r.Pass == nil || !*r.Pass {
		t.Errorf("row = %+v", r)
	}
}

func ptrBool(b bool) *bool { return &b }

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	d := *a - *b
	return d < 1e-9 && d > -1e-9
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    *float64
		unit string
		want string
	}{
		{nil, unitMS, "—"},
		{fp(1234.4), unitPerSec, "1234/s"},
		{fp(12.34), unitPerSec, "12.3/s"},
		{fp(0.456), unitMS, "0.46 ms"},
		{fp(45.6), unitMS, "45.6 ms"},
		{fp(456.7), unitMS, "457 ms"},
		{fp(27.94), unitKB, "27.9 KB"},
		{fp(16.46), unitMB, "16.5 MB"},
		{fp(3), unitCount, "3"},
		{fp(2.004), unitRatio, "2.00"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", deref(tt.v), tt.unit, got, tt.want)
		}
	}
	if got := (Target{ratioAtLeast, 0.6}).String(); got != "≥ 0.6×" {
		t.Errorf("target = %q", got)
	}
	if got := formatRatio(fp(0.6)); got != "0.60×" {
		t.Errorf("ratio = %q", got)
	}
}

func TestRenderTable(t *testing.T) {
	rows := []Row{
		newRow("handoff", "hand-offs/s", unitPerSec, fp(700), fp(1000), "bare POST", &Target{ratioAtLeast, 0.6}),
		newRow("history", "chat page median", unitMS, fp(2.5), fp(0.5), "bare", &Target{valueAtMost, 2}),
		newRow("chat", "violations", unitCount, fp(0), nil, "", &Target{valueEqual, 0}),
	}
	var b strings.Builder
	if err := renderTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"SCENARIO", "700/s", "1000/s (bare POST)", "0.70×", "≥ 0.6×", "PASS", "2.50 ms", "≤ 2 ms", "FAIL", "= 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("table has %d lines, want 4:\n%s", n, out)
	}
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	rep := &Report{
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Rows: []Row{
			newRow("chat", "violations", unitCount, fp(0), nil, "", &Target{valueEqual, 0}),
			newRow("idle", "KB per socket", unitKB, fp(30), fp(10), "relay", &Target{valueAtMost, 28}),
			newRow("idle", "goroutines per socket", unitRatio, fp(2), fp(2), "relay", nil),
		},
	}
	rep.tally()
	if rep.Passed != 1 || rep.Failed != 1 {
		t.Fatalf("tally = %d passed, %d failed", rep.Passed, rep.Failed)
	}
	paths, err := writeReport(dir, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "latest.json" || filepath.Base(paths[1]) != "20250301T120000Z.json" {
		t.Fatalf("paths = %v", paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 3 || *back.Rows[1].Ratio != 3 || *back.Rows[1].Pass || back.Rows[2].Pass != nil {
		t.Errorf("round trip lost data: %s", b)
	}
}
