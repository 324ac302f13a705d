package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGroupCommit holds the committer inside one write while 50 more queue,
// then checks that they commit together, each with its own outcome: the
// failing ones are rolled back alone.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.w.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(k string) func(context.Context, *sql.Tx) error {
		return func(_ context.Context, tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO t (k) VALUES (?)`, k)
			return err
		}
	}
	before := s.commits.Load()
	release := make(chan struct{})
	holding := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.tx(ctx, "hold", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
			close(holding)
			<-release
			return insert("first")(ctx, tx)
		})
	}()
	<-holding

	const n = 50
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, n)
	queued := make(chan struct{}, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			queued <- struct{}{}
			results[i] = s.tx(ctx, "w", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
				if err := insert(fmt.Sprint(i))(ctx, tx); err != nil {
					return err
				}
				if i%5 == 0 {
					return errBoom // after writing: its insert must be undone
				}
				return nil
			})
		}()
	}
	for range n {
		<-queued
	}
	// Wait (bounded) until all of them are queued behind the held write.
	deadline := time.Now().Add(10 * time.Second)
	for len(s.writes) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes queued", len(s.writes), n)
		}
		runtime.Gosched()
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range results {
		if want := i%5 == 0; (err != nil) != want || (want && !errors.Is(err, errBoom)) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	var count int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if want := 1 + n - n/5; count != want {
		t.Errorf("%d rows, want %d: failed writes must roll back alone", count, want)
	}
	if got := s.commits.Load() - before; got != 2 {
		t.Errorf("%d commits for %d writes, want 2: the held one, then the 50 queued together", got, n+1)
	}
	// The held write failed nothing; the batch of 50 ran once without
	// savepoints, failed at write 0, and ran again with them.
	if got := s.isolatedRuns.Load(); got != 1 {
		t.Errorf("%d batches run again with savepoints, want 1", got)
	}
}

// TestCloseRunsQueuedWrites closes the store while writes are queued: each
// is run or refused, none is left waiting.
func TestCloseRunsQueuedWrites(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`CREATE TABLE t (k INTEGER)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.tx(ctx, "w", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.Exec(`INSERT INTO t (k) VALUES (?)`, i)
				return err
			})
			if err != nil && !errors.Is(err, errClosed) {
				t.Errorf("write %d: %v", i, err)
			}
		}()
	}
	s.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writers still waiting after Close")
	}
}

// TestCloseTruncatesWAL closes the store right after a write: Close
// checkpoints the WAL and leaves it empty.
func TestCloseTruncatesWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ck.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`CREATE TABLE t (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4000)
	for i := range 100 {
		if err := s.tx(ctx, "w", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprint(i, big))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The WAL is truncated once writes have stopped for a while; just after
	// one, it is not.
	if n := s.WALBytes(); n == 0 {
		t.Fatal("WAL empty before Close")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Errorf("WAL is %d bytes after Close, want it truncated", st.Size())
	}
}

// TestCheckpointHeldByReader keeps a read open (a rows iterator not
// closed) while writes grow the WAL past the threshold: the truncating
// checkpoint cannot finish, which is counted and logged, and writes go on,
// paused only briefly; once the read ends, the WAL is truncated.
func TestCheckpointHeldByReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	var (
		logs   syncBuffer
		mu     sync.Mutex
		failed = map[string]int{}
	)
	const threshold = 1 << 20
	s, err := OpenSQLiteWith(ctx, path, SQLiteOptions{
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
		TruncateWALAt:  threshold,
		CheckpointWait: 50 * time.Millisecond,
		ObserveCheckpoint: func(mode string, d time.Duration, err error) {
			if err != nil {
				mu.Lock()
				failed[mode]++
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.w.Exec(`CREATE TABLE t (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	insert := func(v string) error {
		return s.tx(ctx, "w", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, v)
			return err
		})
	}
	if err := insert("first"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT v FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}

	big := strings.Repeat("x", 8000)
	var slowest time.Duration
	for i := range 400 { // about 3 MB of WAL
		start := time.Now()
		if err := insert(fmt.Sprint(i, big)); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if n := s.WALBytes(); n < 3*threshold {
		t.Errorf("WAL is %d bytes with a reader on its start, want it to have grown past %d", n, 3*threshold)
	}
	mu.Lock()
	n := failed["truncate"]
	mu.Unlock()
	if n == 0 {
		t.Error("no failed truncating checkpoint reported")
	}
	if !strings.Contains(logs.String(), "checkpoint did not complete") || !strings.Contains(logs.String(), "mode=TRUNCATE") {
		t.Errorf("log does not tell of the failed checkpoint:\n%s", logs.String())
	}
	if slowest > 5*time.Second {
		t.Errorf("a write took %v while checkpoints waited on the reader", slowest)
	}

	// The read ends: a later try truncates the WAL.
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(maxCheckpointBackoff + 5*time.Second)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for s.WALBytes() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes after the reader ended", s.WALBytes())
		}
		<-poll.C
	}
	t.Logf("%d truncating checkpoints failed under the reader; slowest write %v; log:\n%s", n, slowest, logs.String())
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
