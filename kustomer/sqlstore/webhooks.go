package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/handoff/handoff/kustomer"
)

const webhookCols = `id, url, description, events, private, secret, enabled, disabled_reason, disabled_at,
	failures, failing_since, last_success_at, created_by, created_at, updated_at`

func scanWebhook(row scanner) (kustomer.Webhook, error) {
	var (
		w                            kustomer.Webhook
		events                       string
		disabledAt, failing, success sql.NullInt64
		created, updated             int64
	)
	err := row.Scan(&w.ID, &w.URL, &w.Description, &events, &w.Private, &w.Secret, &w.Enabled, &w.DisabledReason, &disabledAt,
		&w.Failures, &failing, &success, &w.CreatedBy, &created, &updated)
	if err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return w, fmt.Errorf("decode events of webhook %s: %w", w.ID, err)
	}
	w.DisabledAt, w.FailingSince, w.LastSuccessAt = optTime(disabledAt), optTime(failing), optTime(success)
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, nil
}

func webhookEvents(w kustomer.Webhook) string {
	b, err := json.Marshal(w.Events)
	if err != nil || w.Events == nil {
		return "[]"
	}
	return string(b)
}

// CreateWebhook implements kustomer.WebhookStore.
func (s *Store) CreateWebhook(ctx context.Context, w kustomer.Webhook, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "create_webhook", lockKey{'w', w.ID}, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.on(tx).ExecContext(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?, ?, ?)`,
			w.ID, w.URL, w.Description, webhookEvents(w), w.Private, w.Secret, w.Enabled, w.DisabledReason, optMS(w.DisabledAt),
			w.CreatedBy, ms(w.CreatedAt), ms(w.UpdatedAt))
		if err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create webhook: %w", err)
	}
	return nil
}

// Webhook implements kustomer.WebhookStore.
func (s *Store) Webhook(ctx context.Context, id string) (kustomer.Webhook, error) {
	w, err := scanWebhook(s.read().QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("webhook %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("sqlstore: %w", err)
	}
	return w, nil
}

// Webhooks implements kustomer.WebhookStore.
func (s *Store) Webhooks(ctx context.Context) ([]kustomer.Webhook, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+webhookCols+` FROM webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhooks: %w", err)
	}
	defer rows.Close()
	out := []kustomer.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: webhooks: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: webhooks: %w", err)
	}
	return out, nil
}

// UpdateWebhook implements kustomer.WebhookStore.
func (s *Store) UpdateWebhook(ctx context.Context, w kustomer.Webhook, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "update_webhook", lockKey{'w', w.ID}, func(ctx context.Context, tx *sql.Tx) error {
		// Enabling clears the failures and the reason it was disabled.
		res, err := s.on(tx).ExecContext(ctx, `UPDATE webhooks SET url = ?, description = ?, events = ?, private = ?, secret = ?, updated_at = ?,
			failures = CASE WHEN ? AND NOT enabled THEN 0 ELSE failures END,
			failing_since = CASE WHEN ? AND NOT enabled THEN NULL ELSE failing_since END,
			disabled_reason = CASE WHEN ? THEN '' ELSE ? END,
			disabled_at = CASE WHEN ? THEN NULL WHEN enabled THEN ? ELSE disabled_at END,
			enabled = ?
			WHERE id = ?`,
			w.URL, w.Description, webhookEvents(w), w.Private, w.Secret, ms(w.UpdatedAt),
			w.Enabled, w.Enabled, w.Enabled, w.DisabledReason, w.Enabled, ms(w.UpdatedAt), w.Enabled, w.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("webhook %s: %w", w.ID, kustomer.ErrNotFound))
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: update webhook: %w", err)
	}
	return nil
}

// DeleteWebhook implements kustomer.WebhookStore. Its deliveries still
// waiting are parked when they come due (the endpoint is gone).
func (s *Store) DeleteWebhook(ctx context.Context, id string, audit ...kustomer.AuditEntry) error {
	err := s.tx(ctx, "delete_webhook", lockKey{'w', id}, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `DELETE FROM webhook_attempts WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		res, err := s.on(tx).ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("webhook %s: %w", id, kustomer.ErrNotFound))
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete webhook: %w", err)
	}
	return nil
}

// RecordWebhookAttempt implements kustomer.WebhookStore.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a kustomer.WebhookAttempt, p kustomer.WebhookFailurePolicy) (kustomer.Webhook, bool, error) {
	var (
		w        kustomer.Webhook
		disabled bool
	)
	err := s.tx(ctx, "record_webhook_attempt", lockKey{'w', a.WebhookID}, func(ctx context.Context, tx *sql.Tx) error {
		disabled = false
		var err error
		w, err = scanWebhook(s.on(tx).QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`+s.d.forUpdate, a.WebhookID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("webhook %s: %w", a.WebhookID, kustomer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if a.ID == "" {
			a.ID = kustomer.NewID()
		}
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO webhook_attempts (id, webhook_id, delivery_id, event_id, event_type, conversation_id,
			attempt, status, error, duration_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.WebhookID, a.DeliveryID, a.EventID, a.EventType, a.ConversationID, a.Attempt, a.Status, a.Error, a.DurationMS, ms(a.At)); err != nil {
			return err
		}
		if a.OK() {
			w.Failures, w.FailingSince, w.LastSuccessAt = 0, nil, &a.At
		} else {
			w.Failures++
			if w.FailingSince == nil {
				w.FailingSince = &a.At
			}
			if w.Enabled && (p.Gone || p.Failures > 0 && w.Failures >= p.Failures && a.At.Sub(*w.FailingSince) >= p.Window) {
				disabled = true
				w.Enabled, w.DisabledAt = false, &a.At
				w.DisabledReason = fmt.Sprintf("%d deliveries in a row failed since %s; the last: %s",
					w.Failures, w.FailingSince.Format(time.RFC3339), attemptOutcome(a))
				if p.Gone {
					w.DisabledReason = "the endpoint answered 410 Gone"
				}
			}
		}
		_, err = s.on(tx).ExecContext(ctx, `UPDATE webhooks SET failures = ?, failing_since = ?, last_success_at = ?,
			enabled = ?, disabled_reason = ?, disabled_at = ? WHERE id = ?`,
			w.Failures, optMS(w.FailingSince), optMS(w.LastSuccessAt), w.Enabled, w.DisabledReason, optMS(w.DisabledAt), w.ID)
		return err
	})
	if err != nil {
		return w, false, fmt.Errorf("sqlstore: record webhook attempt: %w", err)
	}
	return w, disabled, nil
}

// attemptOutcome says how an attempt ended, in a few words.
func attemptOutcome(a kustomer.WebhookAttempt) string {
	if a.Status != 0 {
		return fmt.Sprintf("HTTP %d", a.Status)
	}
	return a.Error
}

// WebhookAttempts implements kustomer.WebhookStore.
func (s *Store) WebhookAttempts(ctx context.Context, webhookID string, limit int) ([]kustomer.WebhookAttempt, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT id, webhook_id, delivery_id, event_id, event_type, conversation_id, attempt, status, error,
		duration_ms, at FROM webhook_attempts WHERE webhook_id = ? ORDER BY at DESC, attempt DESC, id LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhook attempts: %w", err)
	}
	defer rows.Close()
	out := []kustomer.WebhookAttempt{}
	for rows.Next() {
		var (
			a  kustomer.WebhookAttempt
			at int64
		)
		if err := rows.Scan(&a.ID, &a.WebhookID, &a.DeliveryID, &a.EventID, &a.EventType, &a.ConversationID, &a.Attempt, &a.Status, &a.Error,
			&a.DurationMS, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: webhook attempts: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: webhook attempts: %w", err)
	}
	return out, nil
}

// WebhookDeliveries implements kustomer.WebhookStore: an endpoint's rows
// are those whose ordering starts with its id.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID string, state kustomer.OutboxState, limit int) ([]kustomer.OutboxItem, error) {
	if strings.ContainsAny(webhookID, `%_:\`) {
		return []kustomer.OutboxItem{}, nil // not an id: no rows
	}
	rows, err := s.read().QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE kind = ? AND state = ? AND ordering LIKE ?
		ORDER BY updated_at DESC, id LIMIT ?`, string(kustomer.OutboxWebhookDelivery), string(state), webhookID+":%", limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
	}
	defer rows.Close()
	items := []kustomer.OutboxItem{}
	for rows.Next() {
		it, err := scanOutboxItem(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
	}
	return items, nil
}

// PruneWebhookAttempts implements kustomer.WebhookStore.
func (s *Store) PruneWebhookAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.tx(ctx, "prune_webhook_attempts", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `DELETE FROM webhook_attempts WHERE id IN
			(SELECT id FROM webhook_attempts WHERE at < ? LIMIT ?)`, ms(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune webhook attempts: %w", err)
	}
	return int(n), nil
}
