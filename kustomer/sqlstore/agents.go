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

// savedAgentCols are the columns SaveAgent writes; agentCols adds those of
// presence and assignment, which only their own operations change.
const (
	savedAgentCols = `id, email, name, password_hash, role, skills, disabled, created_at, updated_at, capacity`
	agentCols      = savedAgentCols + `, status, status_reason, status_at, seen_at, last_assigned_at`
)

// agentColsOf is agentCols qualified by a table alias.
func agentColsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(agentCols, ", ", ", "+alias+".")
}

// scanAgent scans agentCols, after the columns that before point to.
func scanAgent(row scanner, before ...any) (kustomer.Agent, error) {
	var (
		a                            kustomer.Agent
		skills                       string
		created, updated             int64
		statusAt, seenAt, lastAssign sql.NullInt64
	)
	if err := row.Scan(append(before, &a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.Role, &skills, &a.Disabled, &created, &updated,
		&a.Capacity, &a.Status, &a.StatusReason, &statusAt, &seenAt, &lastAssign)...); err != nil {
		return a, err
	}
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	a.StatusAt, a.SeenAt, a.LastAssignedAt = optTime(statusAt), optTime(seenAt), optTime(lastAssign)
	if err := json.Unmarshal([]byte(skills), &a.Skills); err != nil {
		return a, fmt.Errorf("decode skills: %w", err)
	}
	if a.Skills == nil {
		a.Skills = []string{}
	}
	return a, nil
}

func (s *Store) agentWhere(ctx context.Context, cond string, arg any) (kustomer.Agent, error) {
	a, err := scanAgent(s.read().QueryRowContext(ctx, (`SELECT ` + agentCols + ` FROM agents WHERE ` + cond), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sqlstore: agent: %w", kustomer.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("sqlstore: agent: %w", err)
	}
	return a, nil
}

// Agent implements kustomer.Store.
func (s *Store) Agent(ctx context.Context, id string) (kustomer.Agent, error) {
	return s.agentWhere(ctx, `id = ?`, id)
}

// AgentByEmail implements kustomer.Store.
func (s *Store) AgentByEmail(ctx context.Context, email string) (kustomer.Agent, error) {
	return s.agentWhere(ctx, `email = ?`, strings.ToLower(email))
}

// Agents implements kustomer.Store.
func (s *Store) Agents(ctx context.Context) ([]kustomer.Agent, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY name, email`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: agents: %w", err)
	}
	defer rows.Close()
	out := []kustomer.Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: agents: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: agents: %w", err)
	}
	return out, nil
}

// SaveAgent implements kustomer.Store.
func (s *Store) SaveAgent(ctx context.Context, a kustomer.Agent, audit ...kustomer.AuditEntry) error {
	skills, err := json.Marshal(a.Skills)
	if err != nil {
		return err
	}
	err = s.tx(ctx, "save_agent", lockKey{'a', a.ID}, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.on(tx).ExecContext(ctx, (`INSERT INTO agents (` + savedAgentCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, password_hash = excluded.password_hash,
				role = excluded.role, skills = excluded.skills, disabled = excluded.disabled, updated_at = excluded.updated_at,
				capacity = excluded.capacity`),
			a.ID, strings.ToLower(a.Email), a.Name, a.PasswordHash, string(a.Role), string(skills), a.Disabled, ms(a.CreatedAt), ms(a.UpdatedAt), a.Capacity)
		if err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		if s.d.uniqueViolation(err) {
			return &kustomer.ConflictError{Code: "email_taken", Reason: "an account with this email exists"}
		}
		return fmt.Errorf("sqlstore: save agent %s: %w", a.ID, err)
	}
	return nil
}

// expiredSessionsPerSignIn bounds the expired sessions one sign-in deletes,
// so that a sign-in after a long quiet spell stays quick; the next ones
// delete the rest.
const expiredSessionsPerSignIn = 100

// CreateAgentSession implements kustomer.Store.
func (s *Store) CreateAgentSession(ctx context.Context, as kustomer.AgentSession) error {
	err := s.tx(ctx, "create_agent_session", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `DELETE FROM agent_sessions WHERE id IN
			(SELECT id FROM agent_sessions WHERE expires_at <= ? LIMIT ?)`, ms(as.CreatedAt), expiredSessionsPerSignIn); err != nil {
			return err
		}
		_, err := s.on(tx).ExecContext(ctx, `INSERT INTO agent_sessions (id, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			as.ID, as.AgentID, ms(as.CreatedAt), ms(as.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create agent session: %w", err)
	}
	return nil
}

// AgentSession implements kustomer.Store.
func (s *Store) AgentSession(ctx context.Context, id string) (kustomer.AgentSession, kustomer.Agent, error) {
	var (
		as               kustomer.AgentSession
		created, expires int64
	)
	a, err := scanAgent(s.read().QueryRowContext(ctx, `SELECT s.agent_id, s.created_at, s.expires_at, `+agentColsOf("a")+`
		FROM agent_sessions s JOIN agents a ON a.id = s.agent_id WHERE s.id = ?`, id), &as.AgentID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return as, a, fmt.Errorf("sqlstore: agent session: %w", kustomer.ErrNotFound)
	}
	if err != nil {
		return as, a, fmt.Errorf("sqlstore: agent session: %w", err)
	}
	as.ID, as.CreatedAt, as.ExpiresAt = id, fromMS(created), fromMS(expires)
	return as, a, nil
}

// DeleteAgentSession implements kustomer.Store.
func (s *Store) DeleteAgentSession(ctx context.Context, id string) error {
	err := s.tx(ctx, "delete_agent_session", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.on(tx).ExecContext(ctx, `DELETE FROM agent_sessions WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete agent session: %w", err)
	}
	return nil
}

// DeleteAgentSessions implements kustomer.Store.
func (s *Store) DeleteAgentSessions(ctx context.Context, agentID, keepID string, audit ...kustomer.AuditEntry) (int, error) {
	var n int64
	err := s.tx(ctx, "delete_agent_sessions", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `DELETE FROM agent_sessions WHERE agent_id = ? AND id <> ?`, agentID, keepID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return s.recordAudit(ctx, tx, audit...)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete sessions of agent %s: %w", agentID, err)
	}
	return int(n), nil
}

// SetAgentStatus implements kustomer.Store.
func (s *Store) SetAgentStatus(ctx context.Context, agentID string, status kustomer.AgentStatus, reason string, at time.Time) (kustomer.Agent, error) {
	err := s.tx(ctx, "set_agent_status", lockKey{'a', agentID}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE agents SET status = ?, status_reason = ?, status_at = ? WHERE id = ?`, string(status), reason, ms(at), agentID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("agent %s: %w", agentID, kustomer.ErrNotFound))
		}
		return nil
	})
	if err != nil {
		return kustomer.Agent{}, fmt.Errorf("sqlstore: set status of agent %s: %w", agentID, err)
	}
	return s.Agent(ctx, agentID)
}

// TouchAgent implements kustomer.Store.
func (s *Store) TouchAgent(ctx context.Context, agentID string, at time.Time) (bool, error) {
	var back bool
	err := s.tx(ctx, "touch_agent", lockKey{'a', agentID}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE agents SET status = 'online', status_reason = '', status_at = ?
			WHERE id = ? AND status = 'offline' AND status_reason = ?`, ms(at), agentID, kustomer.StatusGone)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		back = n > 0
		_, err = s.on(tx).ExecContext(ctx, `UPDATE agents SET seen_at = ? WHERE id = ?`, ms(at), agentID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: touch agent %s: %w", agentID, err)
	}
	return back, nil
}

// ExpireAgents implements kustomer.Store.
func (s *Store) ExpireAgents(ctx context.Context, staleBefore, at time.Time) ([]kustomer.Agent, error) {
	// Most passes find nobody: they read, and write nothing.
	var one int
	err := s.read().QueryRowContext(ctx, `SELECT 1 FROM agents WHERE status <> 'offline' AND (seen_at IS NULL OR seen_at < ?)
		AND (status_at IS NULL OR status_at < ?) LIMIT 1`, ms(staleBefore), ms(staleBefore)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: expire agents: %w", err)
	}
	var ids []string
	err = s.tx(ctx, "expire_agents", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		ids = ids[:0]
		rows, err := s.on(tx).QueryContext(ctx, `UPDATE agents SET status = 'offline', status_reason = ?, status_at = ?
			WHERE status <> 'offline' AND (seen_at IS NULL OR seen_at < ?) AND (status_at IS NULL OR status_at < ?) RETURNING id`,
			kustomer.StatusGone, ms(at), ms(staleBefore), ms(staleBefore))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: expire agents: %w", err)
	}
	out := make([]kustomer.Agent, 0, len(ids))
	for _, id := range ids {
		a, err := s.Agent(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// OpenAssignments implements kustomer.Store.
func (s *Store) OpenAssignments(ctx context.Context) (map[string]int, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT assignee_id, COUNT(*) FROM conversations
		WHERE assignee_id IS NOT NULL AND ended_at IS NULL GROUP BY assignee_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open assignments: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: open assignments: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
