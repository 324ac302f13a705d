package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// runner runs queries on a transaction or on the read pool. Each distinct
// statement is prepared once per pool and reused (SQLite spends a large part
// of a short transaction parsing SQL otherwise); placeholders are adapted to
// the dialect once, when the statement is prepared.
type runner struct {
	s  *Store
	tx *sql.Tx  // set for writes
	db *sql.DB  // the pool the statement is prepared on
	st *stmtMap // that pool's statements
}

// stmtMap holds prepared statements by query text as written (with ?
// placeholders).
type stmtMap struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// on runs queries inside tx (a transaction of the writer).
func (s *Store) on(tx *sql.Tx) runner { return runner{s: s, tx: tx, db: s.w, st: &s.wStmts} }

// read runs queries on the read pool.
func (s *Store) read() runner { return runner{s: s, db: s.r, st: &s.rStmts} }

func (r runner) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	if st, ok := r.st.m[query]; ok {
		return st, nil
	}
	st, err := r.db.PrepareContext(ctx, r.s.d.bind(query))
	if err != nil {
		return nil, err
	}
	if r.st.m == nil {
		r.st.m = make(map[string]*sql.Stmt)
	}
	r.st.m[query] = st
	return st, nil
}

func (r runner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := r.prepare(ctx, query)
	if err != nil || r.tx == nil {
		return st, err
	}
	return r.tx.StmtContext(ctx, st), nil
}

// QueryRowContext runs a query expected to return at most one row.
func (r runner) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs a query returning rows.
func (r runner) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// ExecContext runs a statement.
func (r runner) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// errRow is a row whose query failed before it ran.
type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

// closeStatements closes every prepared statement.
func (m *stmtMap) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.m {
		st.Close()
	}
	m.m = nil
}
