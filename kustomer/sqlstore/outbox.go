package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/handoff/handoff/kustomer"
)

const outboxCols = `id, kind, key, batch, conversation_id, payload, state, due_at, attempts, last_error, created_at, updated_at, ordering, ord`

func scanOutboxItem(row scanner) (kustomer.OutboxItem, error) {
	var (
		it                    kustomer.OutboxItem
		batch, conv, payload  sql.NullString
		ordering              sql.NullString
		ord                   sql.NullInt64
		due, created, updated int64
		kind, state           string
	)
	err := row.Scan(&it.ID, &kind, &it.Key, &batch, &conv, &payload, &state, &due, &it.Attempts, &it.LastError, &created, &updated, &ordering, &ord)
	if err != nil {
		return it, err
	}
	it.Kind, it.State = kustomer.OutboxKind(kind), kustomer.OutboxState(state)
	it.Batch, it.ConversationID = batch.String, conv.String
	it.Ordering, it.Ord = ordering.String, ord.Int64
	if payload.Valid {
		it.Payload = []byte(payload.String)
	}
	it.DueAt, it.CreatedAt, it.UpdatedAt = time.UnixMilli(due).UTC(), time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return it, nil
}

// enqueue inserts items inside tx, skipping those whose key exists or whose
// batch has a waiting row, and returns how many it inserted.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, items []kustomer.OutboxItem) (int, error) {
	var n int
	err := s.runSteps(ctx, tx, s.enqueueSteps(items, &n))
	return n, err
}

// enqueueSteps plans adding items (those not queued already); added, if
// set, counts the ones added.
func (s *Store) enqueueSteps(items []kustomer.OutboxItem, added *int) []step {
	steps := make([]step, 0, len(items))
	for _, it := range items {
		if it.ID == "" {
			it.ID = kustomer.NewID()
		}
		var payload sql.NullString
		if len(it.Payload) > 0 {
			payload = sql.NullString{String: string(it.Payload), Valid: true}
		}
		created := it.CreatedAt
		if created.IsZero() {
			created = it.DueAt
		}
		// An ordered row without a place takes the next one: inside the
		// transaction that also locked its conversation's row, so the
		// places of one conversation's rows follow their commits.
		nextOrd := it.Ordering != "" && it.Ord == 0
		args := make([]any, 0, 11)
		args = append(args, it.ID, string(it.Kind), it.Key, nullString(it.Batch), nullString(it.ConversationID), payload,
			ms(it.DueAt), ms(created), ms(created), nullString(it.Ordering))
		if !nextOrd {
			args = append(args, sql.NullInt64{Int64: it.Ord, Valid: it.Ord != 0})
		}
		st := step{query: enqueueQueries[b2i(nextOrd)][b2i(it.Subscribed)], args: args}
		if added != nil {
			st.affected = func(n int64) error { *added += int(n); return nil }
		}
		steps = append(steps, st)
	}
	return steps
}

// enqueueQueries are the outbox's INSERT … SELECT (for the condition; the
// casts give the parameters their types where the database infers none),
// by [whether the row takes the next place][whether it is written only
// while a webhook endpoint is enabled].
var enqueueQueries = func() (q [2][2]string) {
	for next := range 2 {
		for subscribed := range 2 {
			ord := `CAST(? AS BIGINT)`
			if next == 1 {
				ord = `(SELECT COALESCE(MAX(ord), 0) + 1 FROM outbox)`
			}
			cond := `TRUE`
			if subscribed == 1 {
				cond = `EXISTS (SELECT 1 FROM webhooks WHERE enabled = TRUE)`
			}
			q[next][subscribed] = `INSERT INTO outbox (` + outboxCols + `, claimed)
			SELECT ?, ?, ?, ?, ?, ?, 'pending', CAST(? AS BIGINT), 0, '', CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ` + ord + `, FALSE
			WHERE ` + cond + ` ON CONFLICT DO NOTHING`
		}
	}
	return q
}()

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Enqueue implements kustomer.Outbox.
func (s *Store) Enqueue(ctx context.Context, items ...kustomer.OutboxItem) (int, error) {
	var n int
	err := s.tx(ctx, "enqueue", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		n, err = s.enqueue(ctx, tx, items)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: %w", err)
	}
	return n, nil
}

// ClaimOutbox implements kustomer.Outbox. On PostgreSQL, rows another
// instance is claiming are skipped (SKIP LOCKED); on SQLite the one writer
// runs claims one after the other.
func (s *Store) ClaimOutbox(ctx context.Context, kind kustomer.OutboxKind, now time.Time, lease time.Duration, limit int) ([]kustomer.OutboxItem, error) {
	// Dispatchers poll: look on the read pool first, so that an idle
	// outbox costs no write transaction (on SQLite, the committer's idle
	// time is when it truncates the WAL).
	var due int
	err := s.read().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM outbox o WHERE kind = ? AND state = 'pending' AND due_at <= ?`+firstInOrdering+` LIMIT 1) d`,
		string(kind), ms(now)).Scan(&due)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim outbox %s: %w", kind, err)
	}
	if due == 0 {
		return nil, nil
	}
	var items []kustomer.OutboxItem
	err = s.tx(ctx, "claim_outbox", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		items = items[:0]
		rows, err := s.on(tx).QueryContext(ctx, `UPDATE outbox SET claimed = TRUE, leased = TRUE, attempts = attempts + 1, due_at = ?, updated_at = ?
			WHERE id IN (SELECT id FROM outbox o WHERE kind = ? AND state = 'pending' AND due_at <= ?`+firstInOrdering+`
				ORDER BY due_at, id LIMIT ?`+s.d.skipLocked+`)
			RETURNING `+outboxCols, ms(now.Add(lease)), ms(now), string(kind), ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanOutboxItem(rows)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim outbox %s: %w", kind, err)
	}
	// RETURNING gives no order; the oldest claimed rows go first. The
	// claim moved every due_at by the same lease, so CreatedAt is the tie
	// breaker only.
	slices.SortFunc(items, func(a, b kustomer.OutboxItem) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return items, nil
}

// firstInOrdering keeps, of the outbox rows o, those no pending row of the
// same ordering comes before. A claimed row stays pending until it is
// settled, so the next in its ordering waits for it, on every instance.
const firstInOrdering = ` AND (o.ordering IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p
	WHERE p.ordering = o.ordering AND p.state = 'pending' AND p.ord < o.ord))`

// settle applies set to a claimed row while its claim is current.
func (s *Store) settle(ctx context.Context, op string, it kustomer.OutboxItem, set string, args ...any) error {
	err := s.tx(ctx, op, lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE outbox SET leased = FALSE, `+set+` WHERE id = ? AND attempts = ? AND state = 'pending' AND leased = TRUE`,
			append(args, it.ID, it.Attempts)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = &kustomer.ConflictError{Code: "claim_lost", Reason: "the outbox row is no longer claimed by this attempt"}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: %s %s: %w", op, it.ID, err)
	}
	return nil
}

// CompleteOutbox implements kustomer.Outbox.
func (s *Store) CompleteOutbox(ctx context.Context, it kustomer.OutboxItem, at time.Time) error {
	return s.settle(ctx, "complete_outbox", it, `state = 'done', last_error = '', updated_at = ?`, ms(at))
}

// RetryOutbox implements kustomer.Outbox. The row stays out of its batch:
// causes that came meanwhile have a waiting row of their own.
func (s *Store) RetryOutbox(ctx context.Context, it kustomer.OutboxItem, due time.Time, lastError string, at time.Time) error {
	return s.settle(ctx, "retry_outbox", it, `due_at = ?, last_error = ?, updated_at = ?`, ms(due), lastError, ms(at))
}

// ParkOutbox implements kustomer.Outbox.
func (s *Store) ParkOutbox(ctx context.Context, it kustomer.OutboxItem, lastError string, at time.Time) error {
	return s.settle(ctx, "park_outbox", it, `state = 'parked', last_error = ?, updated_at = ?`, lastError, ms(at))
}

// OutboxItems implements kustomer.Outbox.
func (s *Store) OutboxItems(ctx context.Context, state kustomer.OutboxState, kindPrefix string, limit int) ([]kustomer.OutboxItem, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = ? AND substr(kind, 1, ?) = ?
		ORDER BY updated_at DESC, id LIMIT ?`, string(state), len(kindPrefix), kindPrefix, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: outbox items: %w", err)
	}
	defer rows.Close()
	items := []kustomer.OutboxItem{}
	for rows.Next() {
		it, err := scanOutboxItem(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: outbox items: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: outbox items: %w", err)
	}
	return items, nil
}

// RequeueOutbox implements kustomer.Outbox.
func (s *Store) RequeueOutbox(ctx context.Context, ids []string, due, at time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := s.tx(ctx, "requeue_outbox", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		args := []any{ms(due), ms(at), ms(at)}
		for _, id := range ids {
			args = append(args, id)
		}
		res, err := s.on(tx).ExecContext(ctx, `UPDATE outbox SET state = 'pending', leased = FALSE, claimed = TRUE, attempts = 0, last_error = '',
			due_at = ?, created_at = ?, updated_at = ? WHERE id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`) AND state IN ('parked', 'done')`, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: requeue outbox: %w", err)
	}
	return int(n), nil
}

// OutboxOrdered implements kustomer.Outbox.
func (s *Store) OutboxOrdered(ctx context.Context, ordering string, state kustomer.OutboxState, limit int) ([]kustomer.OutboxItem, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE ordering = ? AND state = ? ORDER BY ord, id LIMIT ?`,
		ordering, string(state), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: outbox ordered: %w", err)
	}
	defer rows.Close()
	items := []kustomer.OutboxItem{}
	for rows.Next() {
		it, err := scanOutboxItem(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: outbox ordered: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: outbox ordered: %w", err)
	}
	return items, nil
}

// OutboxItem implements kustomer.Outbox.
func (s *Store) OutboxItem(ctx context.Context, id string) (kustomer.OutboxItem, error) {
	it, err := scanOutboxItem(s.read().QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("outbox row %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("sqlstore: %w", err)
	}
	return it, nil
}

// OutboxCounts implements kustomer.Outbox.
func (s *Store) OutboxCounts(ctx context.Context) ([]kustomer.OutboxCount, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM outbox WHERE state <> 'done' GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: outbox counts: %w", err)
	}
	defer rows.Close()
	counts := []kustomer.OutboxCount{}
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: outbox counts: %w", err)
		}
		counts = append(counts, kustomer.OutboxCount{Kind: kustomer.OutboxKind(kind), State: kustomer.OutboxState(state), N: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: outbox counts: %w", err)
	}
	return counts, nil
}

// PruneOutbox implements kustomer.Outbox.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.tx(ctx, "prune_outbox", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `DELETE FROM outbox WHERE id IN
			(SELECT id FROM outbox WHERE state = 'done' AND updated_at < ? LIMIT ?)`, ms(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune outbox: %w", err)
	}
	return int(n), nil
}
