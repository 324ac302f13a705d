package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/handoff/handoff/kustomer"
)

const agentCols = `id, email, name, password_hash, role, skills, disabled, created_at, updated_at`

// agentColsOf is agentCols qualified by a table alias.
func agentColsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(agentCols, ", ", ", "+alias+".")
}

// scanAgent scans agentCols, after the columns that before point to.
func scanAgent(row scanner, before ...any) (kustomer.Agent, error) {
	var (
		a                kustomer.Agent
		skills           string
		created, updated int64
	)
	if err := row.Scan(append(before, &a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.Role, &skills, &a.Disabled, &created, &updated)...); err != nil {
		return a, err
	}
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
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
		_, err := s.on(tx).ExecContext(ctx, (`INSERT INTO agents (` + agentCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, password_hash = excluded.password_hash,
				role = excluded.role, skills = excluded.skills, disabled = excluded.disabled, updated_at = excluded.updated_at`),
			a.ID, strings.ToLower(a.Email), a.Name, a.PasswordHash, string(a.Role), string(skills), a.Disabled, ms(a.CreatedAt), ms(a.UpdatedAt))
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
