package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

// recordAudit adds entries to the audit log in tx.
func (s *Store) recordAudit(ctx context.Context, tx *sql.Tx, entries ...kustomer.AuditEntry) error {
	for _, e := range entries {
		changes := e.Changes
		if changes == nil {
			changes = []kustomer.AuditChange{}
		}
		raw, err := json.Marshal(changes)
		if err != nil {
			return err
		}
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO audit_log (id, at, seq, actor_id, actor_name, area, target_id, target_name, action, changes)
			VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log), ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, ms(e.At), e.ActorID, e.ActorName, string(e.Area), e.TargetID, e.TargetName, e.Action, string(raw)); err != nil {
			return fmt.Errorf("audit entry: %w", err)
		}
	}
	return nil
}

// AuditLog implements kustomer.Store.
func (s *Store) AuditLog(ctx context.Context, q kustomer.AuditQuery) ([]kustomer.AuditEntry, error) {
	query := `SELECT id, at, actor_id, actor_name, area, target_id, target_name, action, changes FROM audit_log WHERE TRUE`
	var args []any
	if q.Area != "" {
		query += ` AND area = ?`
		args = append(args, string(q.Area))
	}
	if q.Before != "" {
		query += ` AND (at, seq, id) < (SELECT at, seq, id FROM audit_log WHERE id = ?)`
		args = append(args, q.Before)
	}
	query += ` ORDER BY at DESC, seq DESC, id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit log: %w", err)
	}
	defer rows.Close()
	out := []kustomer.AuditEntry{}
	for rows.Next() {
		var (
			e       kustomer.AuditEntry
			at      int64
			area    string
			changes string
		)
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.ActorName, &area, &e.TargetID, &e.TargetName, &e.Action, &changes); err != nil {
			return nil, fmt.Errorf("sqlstore: audit log: %w", err)
		}
		e.At, e.Area = fromMS(at), kustomer.AuditArea(area)
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("sqlstore: audit log entry %s: %w", e.ID, err)
		}
		if len(e.Changes) == 0 {
			e.Changes = nil
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
