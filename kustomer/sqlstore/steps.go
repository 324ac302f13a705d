package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

// A step is one statement of a write whose statements do not need each
// other's answers to be written: each takes its arguments from the caller,
// not from what an earlier statement returned (a later one reads what an
// earlier one changed inside the query, as in INSERT … SELECT). Such a write
// is planned as steps; on SQLite they run one after the other like any
// write, and on PostgreSQL a batch made only of planned writes is sent in
// one round trip (see pipeline), instead of one round trip per statement.
type step struct {
	query string // with ? placeholders
	args  []any
	// dest, when set, receives the one row the statement returns; when it
	// returns none the write fails with noRow.
	dest  []any
	noRow error
	// affected, when set, judges how many rows the statement changed; an
	// error fails the write.
	affected func(n int64) error
	// veto marks a step whose check can fail the write although the
	// database raised no error. Without one in the batch, COMMIT travels
	// with the statements (a failure then always comes with an error that
	// makes PostgreSQL skip the COMMIT); with one, it waits for the checks.
	veto bool
}

// result judges a step's outcome: row is whether a row came back (for
// steps with dest), n the rows changed (for the others).
func (st *step) result(row bool, n int64) error {
	if st.dest != nil {
		if !row {
			return st.noRow
		}
		return nil
	}
	if st.affected != nil {
		return st.affected(n)
	}
	return nil
}

// runSteps runs steps one after the other inside tx, stopping at the first
// that fails.
func (s *Store) runSteps(ctx context.Context, tx *sql.Tx, steps []step) error {
	for i := range steps {
		st := &steps[i]
		if st.dest != nil {
			err := s.on(tx).QueryRowContext(ctx, st.query, st.args...).Scan(st.dest...)
			if errors.Is(err, sql.ErrNoRows) {
				return st.noRow
			}
			if err != nil {
				return err
			}
			continue
		}
		res, err := s.on(tx).ExecContext(ctx, st.query, st.args...)
		if err != nil {
			return err
		}
		if st.affected != nil {
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if err := st.affected(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// plan is tx for a write made of steps: it returns once they have
// committed, or the first one's failure.
func (s *Store) plan(ctx context.Context, op string, key lockKey, steps []step) error {
	return s.queue(ctx, op, &writeReq{ctx: ctx, key: key, steps: steps, fn: func(ctx context.Context, tx *sql.Tx) error {
		return s.runSteps(ctx, tx, steps)
	}})
}
