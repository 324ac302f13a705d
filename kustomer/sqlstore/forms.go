package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

// FormAssistants implements kustomer.Store.
func (s *Store) FormAssistants(ctx context.Context) (map[string]string, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT form_id, assistant_id FROM form_settings`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: form settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var form, assistant string
		if err := rows.Scan(&form, &assistant); err != nil {
			return nil, fmt.Errorf("sqlstore: form settings: %w", err)
		}
		out[form] = assistant
	}
	return out, rows.Err()
}

// SetFormAssistant implements kustomer.Store.
func (s *Store) SetFormAssistant(ctx context.Context, e kustomer.FormAuditEntry) error {
	err := s.tx(ctx, "set_form_assistant", func(tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO form_settings (form_id, assistant_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (form_id) DO UPDATE SET assistant_id = excluded.assistant_id, updated_at = excluded.updated_at`,
			e.FormID, e.To, ms(e.At)); err != nil {
			return err
		}
		_, err := s.on(tx).ExecContext(ctx, `INSERT INTO form_audit (id, form_id, agent_id, agent_name, from_assistant, to_assistant, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ID, e.FormID, e.AgentID, e.AgentName, e.From, e.To, ms(e.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set form assistant %s: %w", e.FormID, err)
	}
	return nil
}

// FormAudit implements kustomer.Store.
func (s *Store) FormAudit(ctx context.Context, limit int) ([]kustomer.FormAuditEntry, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT id, form_id, agent_id, agent_name, from_assistant, to_assistant, at
		FROM form_audit ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: form audit: %w", err)
	}
	defer rows.Close()
	out := []kustomer.FormAuditEntry{}
	for rows.Next() {
		var e kustomer.FormAuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.FormID, &e.AgentID, &e.AgentName, &e.From, &e.To, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: form audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
