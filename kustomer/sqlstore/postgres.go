package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrationLockClass is the first key of the advisory lock migrations take
// on PostgreSQL ("hand"); the second is a hash of the schema, so stores on
// different schemas of one database do not wait for each other.
const migrationLockClass = 0x68616e64

var postgresDialect = dialect{
	name:         "postgres",
	dollarParams: true,
	orderBatches: true,
	pipelines:    true,
	// NO KEY UPDATE, not UPDATE: the rows are locked to change columns that
	// no foreign key refers to, so inserting a message or a read position
	// (whose foreign key takes a KEY SHARE lock on the conversation) is not
	// blocked by it, and two such batches cannot deadlock upgrading locks.
	forUpdate:  " FOR NO KEY UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	uniqueViolation: func(err error) bool {
		return pgCode(err) == "23505" // unique_violation
	},
	retryable: func(err error) bool {
		code := pgCode(err)
		return code == "40P01" || code == "40001" // deadlock_detected, serialization_failure
	},
	lockMigrations:   fmt.Sprintf(`SELECT pg_advisory_lock(%d, hashtext(current_schema()))`, migrationLockClass),
	unlockMigrations: fmt.Sprintf(`SELECT pg_advisory_unlock(%d, hashtext(current_schema()))`, migrationLockClass),
	blobType:         "BYTEA",
}

// pgCode is err's SQLSTATE when it is a PostgreSQL error, else "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// PostgresOptions tunes a PostgreSQL store. The zero value gives the
// defaults.
type PostgresOptions struct {
	// MaxReadConns bounds the connections reads use; 0 means 16. Writes use
	// at most writeConns more.
	MaxReadConns int
}

// defaultConnectTimeout bounds a connection attempt when the URL does not
// say (connect_timeout).
const defaultConnectTimeout = 10 * time.Second

// writeConns is how many connections a PostgreSQL store's writer uses: the
// committer's transaction, and one to prepare statements while it is open.
const writeConns = 2

// OpenPostgres connects to the PostgreSQL database at databaseURL (a
// postgres:// URL or key=value string, as pgx accepts; a search_path set
// there with options=-c search_path=… selects the schema) and applies
// pending migrations under an advisory lock, so that instances starting
// together do not race.
func OpenPostgres(ctx context.Context, databaseURL string, opts PostgresOptions) (*Store, error) {
	if opts.MaxReadConns <= 0 {
		opts.MaxReadConns = 16
	}
	// pgx leaves the password out of its parse errors.
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: PostgreSQL URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		// Without connect_timeout in the URL, an unreachable server would
		// hold start-up (and every reconnection) for the system's TCP
		// timeout, minutes.
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	w := stdlib.OpenDB(*cfg)
	w.SetMaxOpenConns(writeConns)
	w.SetMaxIdleConns(writeConns)
	r := stdlib.OpenDB(*cfg)
	r.SetMaxOpenConns(opts.MaxReadConns)
	r.SetMaxIdleConns(opts.MaxReadConns)
	s := newStore(w, r, postgresDialect)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL at %s: %w", describe(cfg), err)
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	go s.committer()
	s.indexerDone = make(chan struct{})
	go s.searchIndexer()
	return s, nil
}

// describe names the server and database of cfg, without credentials.
func describe(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// runPipelined is runBatch for a batch of planned writes on PostgreSQL (see
// step): BEGIN, every write's statements and COMMIT go in one round trip.
// A batch whose statements the server answered one at a time would hold
// the rows it locked for a round trip per statement. When a step of the
// batch has a check the database cannot enforce (veto), COMMIT waits for
// the answers and goes in a second round trip. A failed write is handled
// as in runBatch without isolate.
func (s *Store) runPipelined(batch []*writeReq, runAgain bool) ([]error, error) {
	ctx := context.Background()
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	errs := make([]error, len(batch))
	var out error
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		live, commitWith := 0, true
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			live++
			for _, st := range r.steps {
				b.Queue(s.d.bind(st.query), st.args...)
				commitWith = commitWith && !st.veto
			}
		}
		if commitWith {
			b.Queue("COMMIT")
		}
		br := pc.SendBatch(ctx, b)
		_, failure := br.Exec() // BEGIN
		failed := -1
	read:
		for i, r := range batch {
			if failure != nil {
				break
			}
			if errs[i] != nil {
				continue
			}
			for j := range r.steps {
				if failure = readStep(br, &r.steps[j]); failure != nil {
					failed = i
					break read
				}
			}
		}
		commitFailed := false
		if failure == nil && commitWith {
			_, failure = br.Exec()
			commitFailed = failure != nil
		}
		if err := br.Close(); failure == nil {
			failure = err
		}
		if failure == nil && !commitWith {
			failure = execErr(pc.Exec(ctx, "COMMIT"))
			commitFailed = failure != nil
		}
		if failure == nil {
			s.commits.Add(1)
			s.pipelinedCommits.Add(1)
			return nil
		}
		if commitFailed {
			// The transaction is over, rolled back.
			if runAgain && s.d.isRetryable(failure) {
				out = errRunAgain
				return nil
			}
			return failure
		}
		if pc.PgConn().TxStatus() == 'I' && commitWith {
			// A check failed and yet the database raised no error, so the
			// COMMIT ran: a step lacks its veto mark.
			return fmt.Errorf("sqlstore: a batch committed although a write of it failed (a step without veto): %w", failure)
		}
		if err := execErr(pc.Exec(ctx, "ROLLBACK")); err != nil {
			return errors.Join(failure, err)
		}
		switch {
		case runAgain && s.d.isRetryable(failure):
			out = errRunAgain
		case live == 1 && failed >= 0:
			errs[failed] = failure
		default:
			out = errIsolate
		}
		return nil
	})
	if err == nil {
		err = out
	}
	if err != nil {
		return nil, err
	}
	return errs, nil
}

func execErr(_ pgconn.CommandTag, err error) error { return err }

// readStep reads the answer to st from br and judges it.
func readStep(br pgx.BatchResults, st *step) error {
	if st.dest != nil {
		err := br.QueryRow().Scan(st.dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			return st.result(false, 0)
		}
		if err != nil {
			return err
		}
		return st.result(true, 0)
	}
	tag, err := br.Exec()
	if err != nil {
		return err
	}
	return st.result(false, tag.RowsAffected())
}
