package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	err := s.tx(ctx, "set_form_assistant", lockKey{'f', e.FormID}, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO form_settings (form_id, assistant_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (form_id) DO UPDATE SET assistant_id = excluded.assistant_id, updated_at = excluded.updated_at`,
			e.FormID, e.To, ms(e.At)); err != nil {
			return err
		}
		return s.audit(ctx, tx, e, kustomer.FormSettingAssistant)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set form assistant %s: %w", e.FormID, err)
	}
	return nil
}

// audit records e as a change of setting, in the forms' own history and
// in the audit log.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, e kustomer.FormAuditEntry, setting string) error {
	_, err := s.on(tx).ExecContext(ctx, `INSERT INTO form_audit (id, form_id, setting, agent_id, agent_name, from_assistant, to_assistant, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.FormID, setting, e.AgentID, e.AgentName, e.From, e.To, ms(e.At))
	if err != nil {
		return err
	}
	return s.recordAudit(ctx, tx, kustomer.AuditEntry{
		ID: e.ID, At: e.At, ActorID: e.AgentID, ActorName: e.AgentName, Area: kustomer.AuditForms,
		TargetID: e.FormID, TargetName: e.FormID, Action: setting,
		Changes: []kustomer.AuditChange{{Field: setting, From: e.From, To: e.To}},
	})
}

// FormOrigins implements kustomer.Store.
func (s *Store) FormOrigins(ctx context.Context, formID string) ([]string, bool, error) {
	var raw string
	err := s.read().QueryRowContext(ctx, `SELECT origins FROM form_origins WHERE form_id = ?`, formID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: form origins %s: %w", formID, err)
	}
	origins := []string{}
	if err := json.Unmarshal([]byte(raw), &origins); err != nil {
		return nil, false, fmt.Errorf("sqlstore: form origins %s: %w", formID, err)
	}
	return origins, true, nil
}

// SetFormOrigins implements kustomer.Store.
func (s *Store) SetFormOrigins(ctx context.Context, e kustomer.FormAuditEntry, origins []string) error {
	var raw []byte
	if origins != nil {
		var err error
		if raw, err = json.Marshal(origins); err != nil {
			return fmt.Errorf("sqlstore: set form origins %s: %w", e.FormID, err)
		}
	}
	err := s.tx(ctx, "set_form_origins", lockKey{'f', e.FormID}, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if origins == nil {
			_, err = s.on(tx).ExecContext(ctx, `DELETE FROM form_origins WHERE form_id = ?`, e.FormID)
		} else {
			_, err = s.on(tx).ExecContext(ctx, `INSERT INTO form_origins (form_id, origins, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (form_id) DO UPDATE SET origins = excluded.origins, updated_at = excluded.updated_at`,
				e.FormID, string(raw), ms(e.At))
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, e, kustomer.FormSettingAllowedOrigins)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set form origins %s: %w", e.FormID, err)
	}
	return nil
}

// FormAudit implements kustomer.Store.
func (s *Store) FormAudit(ctx context.Context, limit int) ([]kustomer.FormAuditEntry, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT id, form_id, setting, agent_id, agent_name, from_assistant, to_assistant, at
		FROM form_audit ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: form audit: %w", err)
	}
	defer rows.Close()
	out := []kustomer.FormAuditEntry{}
	for rows.Next() {
		var e kustomer.FormAuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.FormID, &e.Setting, &e.AgentID, &e.AgentName, &e.From, &e.To, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: form audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
