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

const labelCols = `id, name, color, created_at, updated_at`

// labelsCol is a conversation's label IDs, space-separated, in convCols.
const labelsCol = `(SELECT string_agg(l.label_id, ' ') FROM conversation_labels l WHERE l.conversation_id = c.id)`

// splitLabels reads labelsCol: sorted IDs, or nil for none.
func splitLabels(v sql.NullString) []string {
	if !v.Valid || v.String == "" {
		return nil
	}
	ids := strings.Fields(v.String)
	slices.Sort(ids)
	return ids
}

func scanLabel(row scanner) (kustomer.Label, error) {
	var (
		l                kustomer.Label
		created, updated int64
	)
	err := row.Scan(&l.ID, &l.Name, &l.Color, &created, &updated)
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	return l, err
}

// Labels implements kustomer.Store.
func (s *Store) Labels(ctx context.Context) ([]kustomer.Label, error) {
	return queryList(ctx, s, "labels", scanLabel, `SELECT `+labelCols+` FROM labels ORDER BY lower(name), id`)
}

// Label implements kustomer.Store.
func (s *Store) Label(ctx context.Context, id string) (kustomer.Label, error) {
	l, err := scanLabel(s.read().QueryRowContext(ctx, `SELECT `+labelCols+` FROM labels WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("label %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("sqlstore: label %s: %w", id, err)
	}
	return l, nil
}

var errLabelNameTaken = &kustomer.ConflictError{Code: "name_taken", Reason: "a label with this name exists"}

// CreateLabel implements kustomer.Store.
func (s *Store) CreateLabel(ctx context.Context, l kustomer.Label, limit int, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "create_label", lockKey{'l', ""}, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := s.on(tx).QueryRowContext(ctx, `SELECT COUNT(*) FROM labels`).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return &kustomer.ConflictError{Code: "too_many_labels", Reason: fmt.Sprintf("at most %d labels can be defined; delete one first", limit)}
		}
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO labels (`+labelCols+`) VALUES (?, ?, ?, ?, ?)`,
			l.ID, l.Name, l.Color, ms(l.CreatedAt), ms(l.UpdatedAt)); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	var cerr *kustomer.ConflictError
	switch {
	case err == nil:
		return nil
	case s.d.uniqueViolation(err):
		return errLabelNameTaken
	case errors.As(err, &cerr):
		return err
	}
	return fmt.Errorf("sqlstore: create label: %w", err)
}

// UpdateLabel implements kustomer.Store.
func (s *Store) UpdateLabel(ctx context.Context, l kustomer.Label, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "update_label", lockKey{'l', ""}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE labels SET name = ?, color = ?, updated_at = ? WHERE id = ?`, l.Name, l.Color, ms(l.UpdatedAt), l.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("label %s: %w", l.ID, kustomer.ErrNotFound))
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		if s.d.uniqueViolation(err) {
			return errLabelNameTaken
		}
		return fmt.Errorf("sqlstore: update label: %w", err)
	}
	return nil
}

// DeleteLabel implements kustomer.Store.
func (s *Store) DeleteLabel(ctx context.Context, id string, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "delete_label", lockKey{'l', ""}, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `DELETE FROM conversation_labels WHERE label_id = ?`, id); err != nil {
			return err
		}
		res, err := s.on(tx).ExecContext(ctx, `DELETE FROM labels WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("label %s: %w", id, kustomer.ErrNotFound))
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete label: %w", err)
	}
	return nil
}

// SetConversationLabels implements kustomer.Store.
func (s *Store) SetConversationLabels(ctx context.Context, conversationID string, labelIDs []string, at time.Time) (kustomer.Conversation, error) {
	var c kustomer.Conversation
	err := s.tx(ctx, "set_conversation_labels", lockKey{'c', conversationID}, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockConversation(ctx, tx, conversationID); err != nil {
			return err
		}
		if len(labelIDs) > 0 {
			var n int
			q := `SELECT COUNT(*) FROM labels WHERE id IN (?` + strings.Repeat(`, ?`, len(labelIDs)-1) + `)`
			if err := s.on(tx).QueryRowContext(ctx, q, anys(labelIDs)...).Scan(&n); err != nil {
				return err
			}
			if n != len(labelIDs) {
				return &kustomer.ConflictError{Code: "unknown_label", Reason: "a label does not exist"}
			}
		}
		if _, err := s.on(tx).ExecContext(ctx, `DELETE FROM conversation_labels WHERE conversation_id = ?`, conversationID); err != nil {
			return err
		}
		for _, id := range labelIDs {
			if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO conversation_labels (conversation_id, label_id, added_at) VALUES (?, ?, ?)`,
				conversationID, id, ms(at)); err != nil {
				return err
			}
		}
		var err error
		c, err = s.conversation(ctx, s.on(tx), conversationID)
		return err
	})
	var cerr *kustomer.ConflictError
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &cerr), errors.Is(err, kustomer.ErrNotFound):
		return c, err
	}
	return c, fmt.Errorf("sqlstore: set labels of %s: %w", conversationID, err)
}

// anys converts ss for query arguments.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// queryList runs a query on the read pool and scans each row with scan;
// what names the list in errors. No row is an empty list.
func queryList[T any](ctx context.Context, s *Store, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return out, nil
}
