package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

const savedReplyCols = `id, owner_id, title, body, created_by, created_at, updated_at`

func scanSavedReply(row scanner) (kustomer.SavedReply, error) {
	var (
		r                kustomer.SavedReply
		created, updated int64
	)
	err := row.Scan(&r.ID, &r.OwnerID, &r.Title, &r.Body, &r.CreatedBy, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// SavedReplies implements kustomer.Store.
func (s *Store) SavedReplies(ctx context.Context, agentID string) ([]kustomer.SavedReply, error) {
	return queryList(ctx, s, "saved replies", scanSavedReply,
		`SELECT `+savedReplyCols+` FROM saved_replies WHERE owner_id IN ('', ?) ORDER BY lower(title), id`, agentID)
}

// SavedReply implements kustomer.Store.
func (s *Store) SavedReply(ctx context.Context, id string) (kustomer.SavedReply, error) {
	r, err := scanSavedReply(s.read().QueryRowContext(ctx, `SELECT `+savedReplyCols+` FROM saved_replies WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("saved reply %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlstore: saved reply %s: %w", id, err)
	}
	return r, nil
}

// errTitleTaken is the conflict of a saved reply's title with another's.
var errTitleTaken = &kustomer.ConflictError{Code: "title_taken", Reason: "a saved reply with this title exists"}

// CreateSavedReply implements kustomer.Store.
func (s *Store) CreateSavedReply(ctx context.Context, r kustomer.SavedReply, limit int, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "create_saved_reply", lockKey{'r', r.OwnerID}, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := s.on(tx).QueryRowContext(ctx, `SELECT COUNT(*) FROM saved_replies WHERE owner_id = ?`, r.OwnerID).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return &kustomer.ConflictError{Code: "too_many_replies", Reason: fmt.Sprintf("at most %d replies can be kept; delete one first", limit)}
		}
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO saved_replies (`+savedReplyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.OwnerID, r.Title, r.Body, r.CreatedBy, ms(r.CreatedAt), ms(r.UpdatedAt)); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		if s.d.uniqueViolation(err) {
			return errTitleTaken
		}
		var cerr *kustomer.ConflictError
		if errors.As(err, &cerr) {
			return err
		}
		return fmt.Errorf("sqlstore: create saved reply: %w", err)
	}
	return nil
}

// UpdateSavedReply implements kustomer.Store.
func (s *Store) UpdateSavedReply(ctx context.Context, r kustomer.SavedReply, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "update_saved_reply", lockKey{'r', r.OwnerID}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE saved_replies SET title = ?, body = ?, updated_at = ? WHERE id = ?`,
			r.Title, r.Body, ms(r.UpdatedAt), r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("saved reply %s: %w", r.ID, kustomer.ErrNotFound))
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		if s.d.uniqueViolation(err) {
			return errTitleTaken
		}
		return fmt.Errorf("sqlstore: update saved reply: %w", err)
	}
	return nil
}

// DeleteSavedReply implements kustomer.Store.
func (s *Store) DeleteSavedReply(ctx context.Context, id string, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "delete_saved_reply", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `DELETE FROM saved_replies WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("saved reply %s: %w", id, kustomer.ErrNotFound))
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete saved reply: %w", err)
	}
	return nil
}
