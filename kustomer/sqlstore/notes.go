package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

// AddAgentNote implements kustomer.Store.
func (s *Store) AddAgentNote(ctx context.Context, n kustomer.AgentNote) error {
	err := s.tx(ctx, "add_agent_note", lockKey{'c', n.ConversationID}, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockConversation(ctx, tx, n.ConversationID); err != nil {
			return err
		}
		_, err := s.on(tx).ExecContext(ctx, `INSERT INTO agent_notes (id, conversation_id, position, author_id, author_name, body, created_at)
			VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM agent_notes WHERE conversation_id = ?), ?, ?, ?, ?)`,
			n.ID, n.ConversationID, n.ConversationID, n.AgentID, n.AgentName, n.Text, ms(n.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: add agent note to %s: %w", n.ConversationID, err)
	}
	return nil
}

// AgentNotes implements kustomer.Store.
func (s *Store) AgentNotes(ctx context.Context, conversationID string, limit int) ([]kustomer.AgentNote, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT id, conversation_id, author_id, author_name, body, created_at FROM agent_notes
		WHERE conversation_id = ? ORDER BY position DESC LIMIT ?`, conversationID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: agent notes of %s: %w", conversationID, err)
	}
	defer rows.Close()
	out := []kustomer.AgentNote{}
	for rows.Next() {
		var (
			n  kustomer.AgentNote
			at int64
		)
		if err := rows.Scan(&n.ID, &n.ConversationID, &n.AgentID, &n.AgentName, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: agent notes of %s: %w", conversationID, err)
		}
		n.CreatedAt = fromMS(at)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: agent notes of %s: %w", conversationID, err)
	}
	if len(out) == 0 {
		if err := s.conversationExists(ctx, s.read(), conversationID); err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
	}
	return out, nil
}
