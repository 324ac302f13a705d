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
	return s, nil
}

// describe names the server and database of cfg, without credentials.
func describe(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}
