package main

import (
	"strings"
	"testing"
	"time"
)

// Without PostgreSQL nothing is measured: every row with a target is still
// in the table, and fails.
func TestPostgresRowsUnmeasuredFail(t *testing.T) {
	e := &env{p: quickParams()}
	rows := postgresRows(e, pgResults{})
	targets := 0
	for _, r := range rows {
		if r.Target == nil {
			continue
		}
		targets++
		if r.Pass == nil || *r.Pass {
			t.Errorf("%s: pass = %v, want a failure", r.Metric, r.Pass)
		}
	}
	if targets != 7 {
		t.Errorf("%d rows with a target, want 7 (stored messages, p99, p50, p99 and CPU vs the persisted relay, violations, errors)", targets)
	}
}

func TestPostgresRowsMeasured(t *testing.T) {
	e := &env{p: quickParams(), sqlite: &sqliteFigures{StoredPerSec: fp(3000), RoomsP99: fp(20)}}
	thr := chatThroughputResult{Conversations: 20, MessagesPerSec: 1200}
	rooms := roomsResult{Rooms: 50, Sent: 1000, SentPerSec: 50, Delivery: Summary{Count: 100, P50: 2 * time.Millisecond, P99: 8 * time.Millisecond},
		CPU: &cpuUse{Server: 0.5, Seconds: 20}}
	prelay := roomsResult{Rooms: 50, Sent: 1000, Delivery: Summary{Count: 100, P50: 1500 * time.Microsecond, P99: 5 * time.Millisecond},
		CPU: &cpuUse{Server: 0.3, Seconds: 20}}
	rows := postgresRows(e, pgResults{
		BarePG:     &barePGResult{InsertTxPerSec: 1100, InsertRowsPerSec: 9000, MessageTxPerSec: 600, GroupMsgsPerSec: 4000, GroupSize: 16},
		BareNotify: &bareNotifyResult{Sent: 100, SentPerSec: 50, Latency: Summary{Count: 100, P50: time.Millisecond / 2, P99: 2 * time.Millisecond}},
		Handoff:    &handoffRun{Rate: 300},
		Throughput: &thr,
		Rooms:      &rooms,
		// 10 ms of CPU per message against 6: 1.67×.
		PersistedRelay: &prelay,
	})
	for _, r := range rows {
		if r.Target != nil && (r.Pass == nil || !*r.Pass) {
			t.Errorf("%s: did not pass (value %v, ratio %v)", r.Metric, deref(r.Value), deref(r.Ratio))
		}
		if strings.Contains(r.Metric, "vs SQLite") && strings.Contains(r.Metric, "stored") && (r.Ratio == nil || *r.Ratio != 0.4) {
			t.Errorf("%s: ratio %v, want 0.4 against SQLite's 3000/s", r.Metric, deref(r.Ratio))
		}
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("postgres://bench:s3cret@db.example:5432/handoff?sslmode=disable")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "db.example:5432/handoff") {
		t.Errorf("redactURL = %q", got)
	}
}
