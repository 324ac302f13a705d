package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	insert := func(k string) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO t (k) VALUES (?)`, k)
			return err
		}
	}
	before := s.commits.Load()
	release := make(chan struct{})
	holding := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.tx(ctx, "hold", func(tx *sql.Tx) error {
			close(holding)
			<-release
			return insert("first")(tx)
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
			results[i] = s.tx(ctx, "w", func(tx *sql.Tx) error {
				if err := insert(fmt.Sprint(i))(tx); err != nil {
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
			err := s.tx(ctx, "w", func(tx *sql.Tx) error {
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

// TestCheckpointKeepsWALBounded writes a lot without the automatic
// checkpoint and checks that the background checkpointer copies the WAL
// back, so that it is restarted instead of growing without bound.
func TestCheckpointKeepsWALBounded(t *testing.T) {
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
	for i := range 3000 { // about 3,000 pages of WAL
		if err := s.tx(ctx, "w", func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprint(i, big))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A checkpoint has run: the WAL's frames are in the database file.
	var busy, logFrames, checkpointed int
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.r.QueryRow(`PRAGMA wal_checkpoint(NOOP)`).Scan(&busy, &logFrames, &checkpointed); err == nil && logFrames > 0 && checkpointed == logFrames {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL not checkpointed: %d frames, %d checkpointed", logFrames, checkpointed)
		}
		runtime.Gosched()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Errorf("WAL is %d bytes after Close, want it truncated", st.Size())
	}
}
