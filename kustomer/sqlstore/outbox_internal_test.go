package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// TestClaimOutboxIdleWritesNothing: polling an outbox with nothing due
// commits no write transaction, so the SQLite committer stays idle (and
// truncates the WAL) while dispatchers poll.
func TestClaimOutboxIdleWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if _, err := s.Enqueue(ctx, kustomer.OutboxItem{Kind: kustomer.OutboxFollowUp, Key: "later", DueAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before := s.commits.Load()
	for range 20 {
		if items, err := s.ClaimOutbox(ctx, kustomer.OutboxFollowUp, now, time.Minute, 10); err != nil || len(items) != 0 {
			t.Fatalf("ClaimOutbox: %v, %v", items, err)
		}
	}
	if n := s.commits.Load() - before; n != 0 {
		t.Errorf("20 idle claims committed %d transactions, want 0", n)
	}
	items, err := s.ClaimOutbox(ctx, kustomer.OutboxFollowUp, now.Add(time.Hour), time.Minute, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim when due: %v, %v", items, err)
	}
}
