// Package sqlstore is the SQL implementation of kustomer.Store. One set of
// queries and migrations serves SQLite (modernc.org/sqlite, WAL) and, through
// a small dialect, PostgreSQL.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/handoff/handoff/kustomer"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a kustomer.Store over a SQL database.
type Store struct {
	w *sql.DB // writes: one connection on SQLite, so writers queue in Go
	r *sql.DB // reads
	d dialect
	// ObserveTx, when set, is told how long each write took, from queueing
	// to commit, by operation, for metrics.
	ObserveTx func(op string, d time.Duration)

	writes           chan *writeReq
	commits          atomic.Int64 // transactions committed by the committer
	closed           chan struct{}
	committerDone    chan struct{}
	mu               sync.RWMutex // guards isClosed against queueing
	isClosed         bool
	checkpointerDone chan struct{} // nil when the dialect needs no checkpoints
	wStmts           stmtMap       // statements prepared on w
	rStmts           stmtMap       // statements prepared on r
}

var _ kustomer.Store = (*Store)(nil)

// OpenSQLite opens (creating if needed) the SQLite database at path in WAL
// mode and applies pending migrations.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlstore: create %s: %w", dir, err)
		}
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		q["_pragma"] = []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return "file:" + path + "?" + q.Encode()
	}
	// Commits never checkpoint (that would stall every write queued behind
	// them); the checkpointer goroutine does it in the background.
	w, err := sql.Open("sqlite", dsn("_txlock", "immediate", "_pragma", "wal_autocheckpoint(0)"))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	// Writes are serialized by the committer, which holds one connection
	// for its transaction; the second lets statements be prepared (once
	// each) while that transaction is open.
	w.SetMaxOpenConns(2)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("_pragma", "query_only(ON)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := newStore(w, r, sqliteDialect)
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.checkpointerDone = make(chan struct{})
	go s.checkpointer(checkpointInterval)
	return s, nil
}

// checkpointInterval is how often the WAL is copied back into the database.
const checkpointInterval = 500 * time.Millisecond

// checkpointer copies committed WAL frames into the database file in the
// background (PASSIVE: it never blocks writers or readers), and truncates
// the WAL when the store closes.
func (s *Store) checkpointer(every time.Duration) {
	defer close(s.checkpointerDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// Runs on the writer pool's second connection while the
			// committer uses the first.
			s.w.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		case <-s.closed:
			return
		}
	}
}

func newStore(w, r *sql.DB, d dialect) *Store {
	s := &Store{w: w, r: r, d: d, writes: make(chan *writeReq, maxBatch), closed: make(chan struct{}), committerDone: make(chan struct{})}
	go s.committer()
	return s
}

// Close stops the committer and closes the database handles. Writes after
// Close fail.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.isClosed {
		s.isClosed = true
		close(s.closed)
	}
	s.mu.Unlock()
	<-s.committerDone
	if s.checkpointerDone != nil {
		<-s.checkpointerDone
		s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	s.wStmts.close()
	s.rStmts.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping implements kustomer.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// migrate applies, in name order and each in its own transaction, every
// embedded migration not yet recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", version, err)
		}
		err = s.direct(ctx, func(tx *sql.Tx) error {
			var n int
			if err := s.on(tx).QueryRowContext(ctx, (`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range splitSQL(string(body)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", firstLine(stmt), err)
				}
			}
			_, err := s.on(tx).ExecContext(ctx, (`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", version, err)
		}
	}
	return nil
}

// tx runs fn in a write transaction named op and returns once that
// transaction has committed (or fn's error). Writes queue for the one
// committer, which runs every request waiting at that moment in a single
// transaction, each inside its own savepoint (group commit): a request whose
// fn fails is rolled back alone, and every caller hears back only after the
// commit that made its write durable.
func (s *Store) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	if s.ObserveTx != nil {
		start := time.Now()
		defer func() { s.ObserveTx(op, time.Since(start)) }()
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	// The read lock keeps Close from finishing while a write is being
	// queued, so nothing is left in the queue after the committer stops.
	s.mu.RLock()
	if s.isClosed {
		s.mu.RUnlock()
		return errClosed
	}
	select {
	case s.writes <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	// Wait for the outcome even if ctx ends now: the write may commit, and
	// the caller must not report a failure for a stored change.
	return <-req.done
}

var errClosed = errors.New("sqlstore: store closed")

// direct runs fn in a transaction of its own, outside the committer.
func (s *Store) direct(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// writeReq is one queued write.
type writeReq struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error
}

// maxBatch bounds how many writes share one transaction.
const maxBatch = 128

// committer runs queued writes in batches until the store closes, then
// runs what is still queued.
func (s *Store) committer() {
	defer close(s.committerDone)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		closing := false
		select {
		case req := <-s.writes:
			batch = append(batch[:0], req)
		case <-s.closed:
			closing = true
			batch = batch[:0]
		}
	more:
		for len(batch) < maxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break more
			}
		}
		if len(batch) > 0 {
			s.commit(batch)
		}
		if closing && len(s.writes) == 0 {
			return
		}
	}
}

// commit runs one batch in one transaction.
func (s *Store) commit(batch []*writeReq) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		fail(err)
		return
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := s.on(tx).ExecContext(r.ctx, "SAVEPOINT w"); err != nil {
			errs[i] = err
			continue
		}
		if err := r.fn(tx); err != nil {
			errs[i] = err
			if _, rerr := s.on(tx).ExecContext(context.Background(), "ROLLBACK TO SAVEPOINT w"); rerr != nil {
				tx.Rollback()
				fail(errors.Join(err, rerr))
				return
			}
		}
		if _, err := s.on(tx).ExecContext(context.Background(), "RELEASE SAVEPOINT w"); err != nil {
			tx.Rollback()
			fail(err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(err)
		return
	}
	s.commits.Add(1)
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// splitSQL splits a migration into statements at semicolons that end a line,
// dropping comment lines.
func splitSQL(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
