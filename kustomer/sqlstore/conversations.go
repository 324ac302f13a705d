package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// convCols are the columns scanConversation reads, in order. The last one
// counts the messages sent to the customer after their read position.
const convCols = `c.id, c.customer_id, c.form_id, c.assistant_id, c.created_at, c.updated_at,
	c.last_message_at, c.preview, c.ended_at, c.ended_by, c.assistant_mode, c.custom, c.context, c.last_seq,
	(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out'
		AND m.seq > COALESCE((SELECT r.seq FROM reads r WHERE r.conversation_id = c.id AND r.reader = 'customer'), 0))`

type scanner interface{ Scan(dest ...any) error }

func scanConversation(row scanner) (kustomer.Conversation, error) {
	var (
		c                         kustomer.Conversation
		created, updated, lastMsg int64
		endedAt                   sql.NullInt64
		endedBy                   sql.NullString
		custom, context           string
	)
	err := row.Scan(&c.ID, &c.CustomerID, &c.FormID, &c.AssistantID, &created, &updated, &lastMsg, &c.Preview,
		&endedAt, &endedBy, &c.IsInAssistantMode, &custom, &context, &c.LastSeq, &c.CustomerUnread)
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt, c.LastMessageAt = fromMS(created), fromMS(updated), fromMS(lastMsg)
	if endedAt.Valid {
		t := fromMS(endedAt.Int64)
		c.EndedAt, c.Ended = &t, true
	}
	if endedBy.Valid && endedBy.String != "" {
		var a kustomer.Author
		if err := json.Unmarshal([]byte(endedBy.String), &a); err != nil {
			return c, fmt.Errorf("decode ended_by: %w", err)
		}
		c.EndedBy = &a
	}
	if err := json.Unmarshal([]byte(custom), &c.CustomAttributes); err != nil {
		return c, fmt.Errorf("decode custom: %w", err)
	}
	if c.CustomAttributes == nil {
		c.CustomAttributes = kustomer.Attributes{}
	}
	if err := json.Unmarshal([]byte(context), &c.Context); err != nil {
		return c, fmt.Errorf("decode context: %w", err)
	}
	return c, nil
}

func (s *Store) conversation(ctx context.Context, q queryer, id string) (kustomer.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, s.d.bind(`SELECT `+convCols+` FROM conversations c WHERE c.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlstore: conversation %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlstore: conversation %s: %w", id, err)
	}
	return c, nil
}

// conversationExists returns an ErrNotFound error when there is no
// conversation id.
func (s *Store) conversationExists(ctx context.Context, q queryer, id string) error {
	var one int
	err := q.QueryRowContext(ctx, s.d.bind(`SELECT 1 FROM conversations WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
	}
	return err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Conversation implements kustomer.Store.
func (s *Store) Conversation(ctx context.Context, id string) (kustomer.Conversation, error) {
	return s.conversation(ctx, s.r, id)
}

// Conversations implements kustomer.Store.
func (s *Store) Conversations(ctx context.Context, f kustomer.ConversationFilter, offset, limit int) ([]kustomer.Conversation, int, error) {
	where, args := "", []any{}
	if f.CustomerID != "" {
		where = ` WHERE c.customer_id = ?`
		args = append(args, f.CustomerID)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.bind(`SELECT COUNT(*) FROM conversations c`+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: count conversations: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.bind(`SELECT `+convCols+` FROM conversations c`+where+
		` ORDER BY c.last_message_at DESC, c.id DESC LIMIT `+itoa(limit)+` OFFSET `+itoa(offset)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list conversations: %w", err)
	}
	defer rows.Close()
	var out []kustomer.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlstore: list conversations: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list conversations: %w", err)
	}
	return out, total, nil
}

// CreateConversation implements kustomer.Store.
func (s *Store) CreateConversation(ctx context.Context, in kustomer.NewConversation) (kustomer.Conversation, kustomer.Message, bool, error) {
	var (
		conv    kustomer.Conversation
		first   kustomer.Message
		created bool
	)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if in.ClientRef != "" {
			var id string
			err := tx.QueryRowContext(ctx, s.d.bind(`SELECT id FROM conversations WHERE client_ref = ?`), in.ClientRef).Scan(&id)
			if err == nil {
				conv, err = s.conversation(ctx, tx, id)
				if err != nil {
					return err
				}
				msgs, err := s.messages(ctx, tx, id, kustomer.MessageQuery{Max: 1})
				if err == nil && len(msgs) > 0 {
					first = msgs[0]
				}
				return err
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if err := s.upsertCustomer(ctx, tx, in.Customer); err != nil {
			return err
		}
		c := in.Conversation
		custom, err := json.Marshal(nonNil(c.CustomAttributes))
		if err != nil {
			return err
		}
		pctx, err := json.Marshal(c.Context)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.d.bind(`INSERT INTO conversations (id, customer_id, form_id, assistant_id, client_ref,
			created_at, updated_at, last_message_at, preview, assistant_mode, custom, context, last_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`),
			c.ID, in.Customer.ID, c.FormID, c.AssistantID, nullString(in.ClientRef),
			ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.LastMessageAt), c.Preview, c.IsInAssistantMode, string(custom), string(pctx))
		if err != nil {
			return err
		}
		first, err = s.appendMessage(ctx, tx, kustomer.NewMessage{Message: in.First, Preview: c.Preview})
		if err != nil {
			return err
		}
		conv, err = s.conversation(ctx, tx, c.ID)
		created = true
		return err
	})
	if err != nil {
		if s.d.uniqueViolation(err) && in.ClientRef != "" {
			// A concurrent retry won the race: return its conversation.
			var id string
			if err2 := s.r.QueryRowContext(ctx, s.d.bind(`SELECT id FROM conversations WHERE client_ref = ?`), in.ClientRef).Scan(&id); err2 == nil {
				c, err := s.Conversation(ctx, id)
				if err != nil {
					return c, first, false, err
				}
				msgs, err := s.Messages(ctx, id, kustomer.MessageQuery{Max: 1})
				if err == nil && len(msgs) > 0 {
					first = msgs[0]
				}
				return c, first, false, err
			}
		}
		return conv, first, false, fmt.Errorf("sqlstore: create conversation: %w", err)
	}
	return conv, first, created, nil
}

// UpdateConversationAttributes implements kustomer.Store.
func (s *Store) UpdateConversationAttributes(ctx context.Context, id string, attrs kustomer.Attributes, at time.Time) (kustomer.Conversation, error) {
	var conv kustomer.Conversation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var raw string
		err := tx.QueryRowContext(ctx, s.d.bind(`SELECT custom FROM conversations WHERE id = ?`+s.d.forUpdate), id).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		cur := kustomer.Attributes{}
		if err := json.Unmarshal([]byte(raw), &cur); err != nil {
			return err
		}
		for k, v := range attrs {
			if v == nil {
				delete(cur, k)
			} else {
				cur[k] = v
			}
		}
		b, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.bind(`UPDATE conversations SET custom = ?, updated_at = ? WHERE id = ?`), string(b), ms(at), id); err != nil {
			return err
		}
		conv, err = s.conversation(ctx, tx, id)
		return err
	})
	if err != nil {
		return conv, fmt.Errorf("sqlstore: update conversation %s: %w", id, err)
	}
	return conv, nil
}

// EndConversation implements kustomer.Store.
func (s *Store) EndConversation(ctx context.Context, id string, by kustomer.Author, at time.Time) (kustomer.Conversation, bool, error) {
	var (
		conv    kustomer.Conversation
		changed bool
	)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b, err := json.Marshal(by)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.d.bind(`UPDATE conversations SET ended_at = ?, ended_by = ?, updated_at = ?, assistant_mode = FALSE
			WHERE id = ? AND ended_at IS NULL`), ms(at), string(b), ms(at), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		changed = n == 1
		conv, err = s.conversation(ctx, tx, id)
		return err
	})
	if err != nil {
		return conv, false, fmt.Errorf("sqlstore: end conversation %s: %w", id, err)
	}
	return conv, changed, nil
}

// MarkRead implements kustomer.Store.
func (s *Store) MarkRead(ctx context.Context, conversationID, reader string, seq int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.conversationExists(ctx, tx, conversationID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO reads (conversation_id, reader, seq) VALUES (?, ?, ?)
			ON CONFLICT (conversation_id, reader) DO UPDATE
			SET seq = CASE WHEN excluded.seq > reads.seq THEN excluded.seq ELSE reads.seq END`), conversationID, reader, seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: mark read %s: %w", conversationID, err)
	}
	return nil
}

func nonNil(a kustomer.Attributes) kustomer.Attributes {
	if a == nil {
		return kustomer.Attributes{}
	}
	return a
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
