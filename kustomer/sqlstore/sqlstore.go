// Package sqlstore is the SQL implementation of kustomer.Store. One set of
// queries and migrations serves SQLite (modernc.org/sqlite, WAL) and, through
// a small dialect, PostgreSQL.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
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
	batchRetries     atomic.Int64 // batches run again after the database aborted them
	isolatedRuns     atomic.Int64 // batches run again with a savepoint per write
	pipelinedCommits atomic.Int64 // batches committed in one round trip (PostgreSQL)
	closed           chan struct{}
	committerDone    chan struct{}
	mu               sync.RWMutex // guards isClosed against queueing
	isClosed         bool
	checkpointerDone chan struct{} // nil when the dialect needs no checkpoints
	indexerDone      chan struct{} // closed when searchIndexer has stopped
	wStmts           stmtMap       // statements prepared on w
	rStmts           stmtMap       // statements prepared on r

	// SQLite only: the WAL and its checkpoints.
	ck      *sql.DB // one connection, so that checkpoints never overlap
	walPath string
	opts    SQLiteOptions
	log     *slog.Logger
	// retryAt and backoff delay the next truncating checkpoint after one
	// failed; only the committer goroutine uses them.
	retryAt time.Time
	backoff time.Duration
	// restartDue tells the committer that the WAL holds RestartWALAt bytes
	// of frames and the checkpointer has just copied them back: between
	// two batches it copies the few frames committed since, so that the
	// next write starts the WAL over.
	restartDue atomic.Bool
	// restartTried is when the committer last tried to have the WAL start
	// over; restartDueAt when the checkpointer last said it was due.
	restartTried time.Time
	restartDueAt atomic.Int64 // Unix nanoseconds
}

var _ kustomer.Store = (*Store)(nil)

// SQLiteOptions tunes how a SQLite store keeps its write-ahead log (WAL)
// bounded. The zero value gives the defaults.
type SQLiteOptions struct {
	// Logger is told about checkpoints that failed or could not finish;
	// nil discards.
	Logger *slog.Logger
	// TruncateWALAt is the WAL size in bytes past which the committer,
	// between two batches, checkpoints the whole WAL and truncates it; 0
	// means 48 MiB. It is the backstop: the WAL is started over long
	// before (see RestartWALAt), unless readers keep it from that.
	TruncateWALAt int64
	// RestartWALAt is how many bytes of frames the WAL may hold before the
	// committer has the writer start it over; 0 means a third of
	// TruncateWALAt (16 MiB: at 1,000 messages a second, each its own
	// commit, twice a second; every start over pauses writes for a few
	// milliseconds). A WAL file restarted past it is cut back to it
	// (journal_size_limit).
	RestartWALAt int64
	// CheckpointWait bounds how long that checkpoint waits for readers
	// still using the WAL, while writes queue; 0 means 500 ms. A checkpoint
	// that could not finish in time is logged and retried later, backing off.
	CheckpointWait time.Duration
	// ObserveCheckpoint, when set, is told each checkpoint's mode
	// ("passive" in the background; "restart", the copy of the last frames
	// while writes wait so that the writer can start the WAL over; or
	// "truncate"), how long it took and whether it failed.
	ObserveCheckpoint func(mode string, d time.Duration, err error)
}

const (
	defaultTruncateWALAt  = 48 << 20
	defaultCheckpointWait = 500 * time.Millisecond
	// idleInterval is how often, at most, the WAL is copied back into the
	// database in the background, and how long the committer must have been
	// idle before it truncates the WAL.
	idleInterval = 500 * time.Millisecond
	// checkpointRetry is the pause between two tries of a checkpoint
	// that readers held up: a try does not wait (the checkpoint
	// connection has no busy timeout), and a read takes well under a
	// millisecond.
	checkpointRetry = 200 * time.Microsecond
	// restartRetry is how often, at most, the committer tries again to
	// have the WAL start over after readers kept it from doing so.
	restartRetry = time.Millisecond
	// restartPatience is how long a due start over waits for a moment
	// without queued writes before it is tried anyway.
	restartPatience = time.Second
	// maxCheckpointBackoff bounds the wait before retrying a truncating
	// checkpoint that failed.
	maxCheckpointBackoff = 30 * time.Second
)

// OpenSQLite opens (creating if needed) the SQLite database at path in WAL
// mode and applies pending migrations, with the default SQLiteOptions.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	return OpenSQLiteWith(ctx, path, SQLiteOptions{})
}

// OpenSQLiteWith is OpenSQLite with options.
func OpenSQLiteWith(ctx context.Context, path string, opts SQLiteOptions) (*Store, error) {
	if opts.TruncateWALAt <= 0 {
		opts.TruncateWALAt = defaultTruncateWALAt
	}
	if opts.CheckpointWait <= 0 {
		opts.CheckpointWait = defaultCheckpointWait
	}
	if opts.RestartWALAt <= 0 {
		opts.RestartWALAt = opts.TruncateWALAt / 3
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlstore: create %s: %w", dir, err)
		}
	}
	dsn := func(busyTimeout time.Duration, extra ...string) string {
		q := url.Values{}
		q["_pragma"] = []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return "file:" + path + "?" + q.Encode()
	}
	var dbs []*sql.DB
	closeAll := func() {
		for _, db := range dbs {
			db.Close()
		}
	}
	open := func(dsn string) (*sql.DB, error) {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
		}
		dbs = append(dbs, db)
		return db, nil
	}
	// Commits never checkpoint (that would stall every write queued behind
	// them): see "How the WAL stays bounded" below.
	w, err := open(dsn(10*time.Second, "_txlock", "immediate", "_pragma", "wal_autocheckpoint(0)",
		"_pragma", fmt.Sprintf("journal_size_limit(%d)", opts.RestartWALAt)))
	if err != nil {
		return nil, err
	}
	// Writes are serialized by the committer, which holds one connection
	// for its transaction; the second lets statements be prepared (once
	// each) while that transaction is open.
	w.SetMaxOpenConns(2)
	w.SetConnMaxIdleTime(0)
	r, err := open(dsn(10*time.Second, "_pragma", "query_only(ON)"))
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	// No busy timeout: a checkpoint that readers hold up is tried again,
	// see checkpoint.
	ck, err := open(dsn(0))
	if err != nil {
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	s := newStore(w, r, sqliteDialect)
	s.ck, s.walPath, s.opts, s.log = ck, path+"-wal", opts, opts.Logger
	if err := s.migrate(ctx); err != nil {
		closeAll()
		return nil, err
	}
	go s.committer()
	s.checkpointerDone = make(chan struct{})
	go s.checkpointer()
	s.indexerDone = make(chan struct{})
	go s.searchIndexer()
	return s, nil
}

// How the WAL stays bounded. A reader keeps using the WAL frames of the
// snapshot it started on, and a writer starts the WAL over (writes its
// next frames at the start of the file) only when every frame has been
// copied back into the database and no reader still uses one; under steady
// writes the background copy is always a little behind, so the WAL would
// grow without bound. So:
//   - the checkpointer copies frames back in the background (PASSIVE: it
//     never blocks writers or readers), every tick while there are
//     commits;
//   - once the WAL holds RestartWALAt bytes of frames, right after a
//     background copy, the committer, between two batches, tries a RESTART
//     checkpoint: it copies the few frames committed since and, when no
//     reader of an older snapshot is reading at that moment, has the next
//     write start the WAL over; else it tries again after a later batch.
//     Writes queue only while a try runs (well under a millisecond). The
//     file is cut back to RestartWALAt;
//   - the backstop: between two batches, when the WAL file has grown past
//     TruncateWALAt (readers kept the writer from starting it over), or is
//     not empty once writes have stopped, the committer runs a TRUNCATE
//     checkpoint: it waits up to CheckpointWait for the readers of older
//     snapshots to finish, copies the rest back and empties the file.
//     Writes queue meanwhile: the committer is the only writer, so none
//     can slip in and the checkpoint cannot be overtaken;
//   - a truncating checkpoint that could not finish (a reader kept its
//     snapshot past CheckpointWait) is logged and retried after a growing
//     backoff, so a long reader stalls writes now and then, not at every
//     batch.

// checkpointer copies committed WAL frames into the database file in the
// background, every idleInterval/5 while writes are committed (and once
// every idleInterval regardless), and tells the committer when the WAL is
// due to start over.
func (s *Store) checkpointer() {
	defer close(s.checkpointerDone)
	t := time.NewTicker(idleInterval / 5)
	defer t.Stop()
	var last time.Time
	commits := s.commits.Load()
	for {
		select {
		case <-t.C:
			n := s.commits.Load()
			if n == commits && time.Since(last) < idleInterval {
				continue
			}
			commits = n
			start := time.Now()
			frames, _, err := s.checkpoint("PASSIVE", "passive", 0) // logged by checkpoint
			if err == nil && int64(frames)*walFrameBytes >= s.opts.RestartWALAt {
				// The committer's try copies, while writes wait, what was
				// committed during this copy: copy again while a pass
				// takes long, so that little is left for it.
				for range 3 {
					if time.Since(start) < time.Millisecond {
						break
					}
					start = time.Now()
					if _, _, err = s.checkpoint("PASSIVE", "passive", 0); err != nil {
						break
					}
				}
				if err == nil && !s.restartDue.Load() {
					s.restartDueAt.Store(time.Now().UnixNano())
					s.restartDue.Store(true)
				}
			}
			last = time.Now()
		case <-s.closed:
			return
		}
	}
}

// walFrameBytes is the size of one WAL frame: a page (SQLite's default 4
// KiB) and its header.
const walFrameBytes = 4096 + 24

// errCheckpointBusy is a checkpoint that could not finish because readers
// held the WAL (or another checkpoint ran) for longer than it could wait.
var errCheckpointBusy = errors.New("readers held the WAL")

// checkpoint runs a checkpoint of mode (PASSIVE, RESTART or TRUNCATE) on
// the checkpoint connection, then reports it as label and logs a failure.
// It returns how many frames the WAL held and how many of them are copied
// back. A RESTART or TRUNCATE checkpoint that readers hold up is tried
// again every checkpointRetry until wait has passed: each try sees the
// readers as they are now (a checkpoint waiting on a reader's slot would
// keep waiting on it even once the readers using it have moved on, as
// each read takes the slot again).
func (s *Store) checkpoint(mode, label string, wait time.Duration) (frames, copied int, err error) {
	start := time.Now()
	var busy int
	for {
		err = s.ck.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
		if err != nil || busy == 0 || mode == "PASSIVE" || time.Since(start) >= wait {
			break
		}
		time.Sleep(checkpointRetry)
	}
	if err == nil && busy != 0 {
		err = errCheckpointBusy
	}
	took := time.Since(start)
	if s.opts.ObserveCheckpoint != nil {
		s.opts.ObserveCheckpoint(label, took, err)
	}
	if err != nil {
		err = fmt.Errorf("sqlstore: %s checkpoint: %w", label, err)
		s.log.Warn("SQLite checkpoint did not complete", "mode", mode, "took", took, "wal_bytes", s.WALBytes(),
			"wal_frames", frames, "frames_copied", copied, "err", err)
	}
	return frames, copied, err
}

// restartWAL, when the checkpointer said the WAL is due to start over,
// tries a RESTART checkpoint: it copies back the frames committed since the
// checkpointer's copy and, unless a reader of an older snapshot is reading
// right now, has the next write start the WAL over. It does not wait for
// such readers (on two busy cores a reader holding its snapshot may be off
// the CPU for milliseconds): a try that finds one is made again between two
// later batches, at most every restartRetry. Only the committer calls it.
func (s *Store) restartWAL() {
	if !s.restartDue.Load() || time.Since(s.restartTried) < restartRetry {
		return
	}
	// Writes are waiting: they go first, and the try waits for a moment
	// when none is queued (the WAL has room: the backstop is three times
	// further), unless that has not come for a while.
	if len(s.writes) > 0 && time.Since(time.Unix(0, s.restartDueAt.Load())) < restartPatience {
		return
	}
	s.restartTried = time.Now()
	if _, _, err := s.checkpoint("RESTART", "restart", 0); err == nil {
		s.restartDue.Store(false)
	}
}

// truncateWAL runs a TRUNCATE checkpoint when the WAL is at least atLeast
// bytes, unless one failed recently. Only the committer calls it, between
// batches.
func (s *Store) truncateWAL(atLeast int64) {
	if s.WALBytes() < atLeast || time.Now().Before(s.retryAt) {
		return
	}
	if _, _, err := s.checkpoint("TRUNCATE", "truncate", s.opts.CheckpointWait); err != nil {
		s.backoff = max(idleInterval, min(2*s.backoff, maxCheckpointBackoff))
		s.retryAt = time.Now().Add(s.backoff)
		return
	}
	s.backoff, s.retryAt = 0, time.Time{}
}

// WALBytes is the size of the SQLite write-ahead log file, 0 when there is
// none, for metrics.
func (s *Store) WALBytes() int64 {
	if s.walPath == "" {
		return 0
	}
	st, err := os.Stat(s.walPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

func newStore(w, r *sql.DB, d dialect) *Store {
	return &Store{w: w, r: r, d: d, writes: make(chan *writeReq, maxBatch), closed: make(chan struct{}), committerDone: make(chan struct{})}
}

// Close stops the committer, truncates the WAL and closes the database
// handles. Writes after Close fail.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.isClosed {
		s.isClosed = true
		close(s.closed)
	}
	s.mu.Unlock()
	<-s.committerDone
	if s.indexerDone != nil {
		<-s.indexerDone
	}
	if s.checkpointerDone != nil {
		<-s.checkpointerDone
	}
	if s.ck != nil {
		// A failure is logged; the data is safe in the WAL either way.
		_, _, _ = s.checkpoint("TRUNCATE", "truncate", s.opts.CheckpointWait)
	}
	s.wStmts.close()
	s.rStmts.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if s.ck != nil {
		err = errors.Join(err, s.ck.Close())
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
// embedded migration not yet recorded in schema_migrations. Where the
// dialect has a lock for it (PostgreSQL's advisory lock), migrate holds it
// on its connection throughout, so that instances starting together apply
// each migration once, one after the other.
func (s *Store) migrate(ctx context.Context) (err error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if s.d.lockMigrations != "" {
		if _, err := conn.ExecContext(ctx, s.d.lockMigrations); err != nil {
			return fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
		defer func() {
			// Even when ctx has ended: the connection goes back to the pool.
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), s.d.unlockMigrations); uerr != nil {
				err = errors.Join(err, fmt.Errorf("sqlstore: migrate: unlock: %w", uerr))
				_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse a connection that may hold the lock
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
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
		if err := s.applyMigration(ctx, conn, version, string(body)); err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", version, err)
		}
	}
	return nil
}

// applyMigration runs body in a transaction on conn and records version,
// unless version is recorded already.
func (s *Store) applyMigration(ctx context.Context, conn *sql.Conn, version, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, s.d.bind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range splitSQL(body, s.d) {
		if _, err := tx.ExecContext(ctx, s.d.ddl(stmt)); err != nil {
			return fmt.Errorf("%s: %w", firstLine(stmt), err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// lockKey names the row a write locks first, and the only existing row it
// locks besides rows that belong to that one (a conversation's read
// positions): kind 'c' a conversation, 'u' a customer, 'a' an agent, 'f' a
// form's settings, 'r' the saved replies of an owner, 'l' the labels; the zero key a write that locks no row, or rows in no
// particular order. On PostgreSQL, batches run their writes in key order
// (see committer).
type lockKey struct {
	kind byte
	id   string
}

func compareLockKeys(a, b *writeReq) int {
	if a.key.kind != b.key.kind {
		return int(a.key.kind) - int(b.key.kind)
	}
	return strings.Compare(a.key.id, b.key.id)
}

// tx runs fn in a write transaction named op and returns once that
// transaction has committed (or fn's error); key names the row fn locks.
// Writes queue for the one committer, which runs every request waiting at
// that moment in a single transaction (group commit), and every caller
// hears back only after the commit that made its write durable. A request
// whose fn fails is rolled back alone: see commit.
//
// fn may run more than once (see commit), so it sets its results afresh
// each time. It must run its statements with the context it is given, not
// ctx: once its turn has come, it runs to the end even if ctx ends
// meanwhile, since a statement cut short could take the whole batch down
// with it (SQLite rolls the transaction back; pgx closes the connection).
func (s *Store) tx(ctx context.Context, op string, key lockKey, fn func(context.Context, *sql.Tx) error) error {
	return s.queue(ctx, op, &writeReq{ctx: ctx, key: key, fn: fn})
}

// queue hands req to the committer and waits for its outcome.
func (s *Store) queue(ctx context.Context, op string, req *writeReq) error {
	if s.ObserveTx != nil {
		start := time.Now()
		defer func() { s.ObserveTx(op, time.Since(start)) }()
	}
	req.done = make(chan error, 1)
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

// writeReq is one queued write.
type writeReq struct {
	ctx context.Context
	key lockKey
	fn  func(context.Context, *sql.Tx) error
	// steps, when set, are what fn runs, written out so that the batch can
	// send them without waiting for each answer (see plan).
	steps []step
	done  chan error
}

// maxBatch bounds how many writes share one transaction.
const maxBatch = 128

// committer runs queued writes in batches until the store closes, then
// runs what is still queued. On SQLite it also truncates the WAL between
// batches when it has grown too large, and once writes have stopped.
func (s *Store) committer() {
	defer close(s.committerDone)
	var tick <-chan time.Time
	if s.ck != nil {
		t := time.NewTicker(idleInterval)
		defer t.Stop()
		tick = t.C
	}
	commitsAtTick := s.commits.Load()
	batch := make([]*writeReq, 0, maxBatch)
	for {
		closing := false
		select {
		case req := <-s.writes:
			batch = append(batch[:0], req)
		case <-tick:
			if n := s.commits.Load(); n == commitsAtTick {
				s.truncateWAL(1) // nothing committed for a whole interval
			} else {
				commitsAtTick = n
			}
			continue
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
			if s.d.orderBatches {
				// Batches of different instances lock rows in one order,
				// so they wait for each other instead of deadlocking. The
				// writes in a batch are concurrent (each caller waits for
				// its answer before its next write), so any order will do;
				// the sort is stable all the same.
				slices.SortStableFunc(batch, compareLockKeys)
			}
			s.commit(batch)
			if s.ck != nil {
				s.restartWAL()
				s.truncateWAL(s.opts.TruncateWALAt)
			}
		}
		if closing && len(s.writes) == 0 {
			return
		}
	}
}

// maxBatchAttempts bounds how often a batch is run again after the
// database aborted it to break a deadlock with another instance's batch.
const maxBatchAttempts = 5

// commit runs one batch in one transaction, then answers every request.
//
// A batch first runs with nothing between its writes: on PostgreSQL a
// savepoint around each write would cost two more round trips per write,
// and most writes succeed. When one fails, the whole transaction is rolled
// back and the batch is run again with each write inside its own savepoint,
// so that the failed one is rolled back alone and the others commit (its
// error may have come from a write before it in the batch, so it is not
// simply dropped). A batch of one write needs no second run: its error is
// its answer.
//
// On PostgreSQL, instances commit batches side by side, and two batches
// that lock the same rows (conversations, above all) in different orders
// deadlock: the database aborts one. Rolling back only the request that hit
// it would keep the rows its batch already locked, so the other batch would
// still wait, and the request's retry would deadlock again: the whole
// transaction is rolled back instead, releasing every lock, and the batch is
// run again, each request from scratch. Only the last attempt answers such
// an error to the request that hit it (rolled back alone, like any error).
func (s *Store) commit(batch []*writeReq) {
	isolate := false
	for attempt := 1; ; attempt++ {
		var (
			errs []error
			err  error
		)
		if s.d.pipelines && !isolate && planned(batch) {
			errs, err = s.runPipelined(batch, attempt < maxBatchAttempts)
		} else {
			errs, err = s.runBatch(batch, isolate, attempt < maxBatchAttempts)
		}
		if errors.Is(err, errIsolate) {
			s.isolatedRuns.Add(1)
			isolate = true
			attempt--
			continue
		}
		if errors.Is(err, errRunAgain) {
			s.batchRetries.Add(1)
			// Let the batch that won go ahead before trying again.
			time.Sleep(time.Duration(attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
			continue
		}
		for i, r := range batch {
			if err != nil {
				r.done <- err
			} else {
				r.done <- errs[i]
			}
		}
		return
	}
}

// planned reports whether every write of batch is planned as steps.
func planned(batch []*writeReq) bool {
	for _, r := range batch {
		if r.steps == nil {
			return false
		}
	}
	return true
}

// errRunAgain is runBatch rolling back a batch the database aborted to break
// a deadlock (or a serialization failure).
var errRunAgain = errors.New("sqlstore: batch aborted by the database: run again")

// errIsolate is runBatch rolling back a batch in which a write failed, to
// be run again with a savepoint around each write.
var errIsolate = errors.New("sqlstore: a write of the batch failed: run again with savepoints")

// runBatch runs batch in one transaction and commits it. It returns each
// request's own outcome, or an error for the whole batch when the
// transaction failed; with runAgain, errRunAgain when the database aborted
// it in a way that running it again can cure. With isolate each write runs
// inside a savepoint and a failed one is rolled back alone; without it a
// failed write rolls everything back and runBatch returns errIsolate
// (unless the batch is that one write).
func (s *Store) runBatch(batch []*writeReq, isolate, runAgain bool) ([]error, error) {
	errs := make([]error, len(batch))
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		ctx := context.WithoutCancel(r.ctx)
		if isolate {
			if _, err := s.on(tx).ExecContext(ctx, "SAVEPOINT w"); err != nil {
				tx.Rollback()
				return nil, err
			}
		}
		if err := r.fn(ctx, tx); err != nil {
			if runAgain && s.d.isRetryable(err) {
				tx.Rollback()
				return nil, errRunAgain
			}
			if !isolate {
				tx.Rollback()
				if len(batch) == 1 {
					return []error{err}, nil
				}
				return nil, errIsolate
			}
			errs[i] = err
			if _, rerr := s.on(tx).ExecContext(context.Background(), "ROLLBACK TO SAVEPOINT w"); rerr != nil {
				tx.Rollback()
				return nil, errors.Join(err, rerr)
			}
		}
		if isolate {
			if _, err := s.on(tx).ExecContext(context.Background(), "RELEASE SAVEPOINT w"); err != nil {
				tx.Rollback()
				return nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		if runAgain && s.d.isRetryable(err) {
			return nil, errRunAgain
		}
		return nil, err
	}
	s.commits.Add(1)
	return errs, nil
}

// splitSQL splits a migration into statements at semicolons that end a line,
// dropping comment lines (and a CREATE TRIGGER at the line that ends with
// END;), and keeps those meant for dialect d. A statement
// after a line "-- only: NAME" is for the dialect of that name alone: the
// few things the databases spell differently (full-text search above all)
// sit side by side in one migration.
func splitSQL(body string, d dialect) []string {
	var out []string
	var cur strings.Builder
	only := ""
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(t, "-- only:"); ok && cur.Len() == 0 {
			only = strings.TrimSpace(name)
			continue
		}
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		// A trigger's statements end with semicolons too: the trigger
		// ends at its END.
		trigger := strings.HasPrefix(strings.TrimSpace(cur.String()), "CREATE TRIGGER")
		if strings.HasSuffix(t, ";") && (!trigger || strings.HasSuffix(t, "END;")) {
			if only == "" || only == d.name {
				out = append(out, strings.TrimSpace(cur.String()))
			}
			cur.Reset()
			only = ""
		}
	}
	if strings.TrimSpace(cur.String()) != "" && (only == "" || only == d.name) {
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
