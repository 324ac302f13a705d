package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

const msgCols = `id, conversation_id, seq, body, payload, direction, author_type, author_id, author_name,
	author_avatar, attachments, client_message_id, created_at, private, meta`

func scanMessage(row scanner) (kustomer.Message, error) {
	var (
		m           kustomer.Message
		payload     sql.NullString
		meta        sql.NullString
		clientID    sql.NullString
		attachments string
		created     int64
	)
	err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Body, &payload, &m.Direction, &m.SentBy.Type, &m.SentBy.ID,
		&m.SentBy.DisplayName, &m.SentBy.AvatarURL, &attachments, &clientID, &created, &m.Private, &meta)
	if err != nil {
		return m, err
	}
	if payload.Valid {
		m.Payload = json.RawMessage(payload.String)
	}
	if meta.Valid {
		m.Meta = json.RawMessage(meta.String)
	}
	m.ClientMessageID = clientID.String
	m.CreatedAt = fromMS(created)
	if err := json.Unmarshal([]byte(attachments), &m.Attachments); err != nil {
		return m, fmt.Errorf("decode attachments: %w", err)
	}
	if m.Attachments == nil {
		m.Attachments = []kustomer.Attachment{}
	}
	return m, nil
}

// AppendMessage implements kustomer.Store.
//
// The write is two statements, the seq bump (which also reads whether the
// conversation has ended) and the insert: a send is a few round trips on
// PostgreSQL, inside a batch that holds the conversation's row lock until
// it commits. A resent clientMessageId is refused by the unique index, and
// the message stored the first time is read back and returned instead.
func (s *Store) AppendMessage(ctx context.Context, in kustomer.NewMessage) (kustomer.Message, bool, error) {
	var msg kustomer.Message
	err := s.tx(ctx, "append_message", lockKey{'c', in.ConversationID}, func(ctx context.Context, tx *sql.Tx) error {
		m, err := s.appendMessage(ctx, tx, in, true)
		msg = m
		return err
	})
	if err == nil {
		return msg, true, nil
	}
	var conflict *kustomer.ConflictError
	if in.ClientMessageID != "" && (s.d.uniqueViolation(err) || errors.As(err, &conflict)) {
		// A retry of a send that was stored (perhaps before the
		// conversation ended): answer what was stored, as the first time.
		m, err2 := scanMessage(s.read().QueryRowContext(ctx, (`SELECT ` + msgCols + ` FROM messages
			WHERE conversation_id = ? AND client_message_id = ?`), in.ConversationID, in.ClientMessageID))
		if err2 == nil {
			return m, false, nil
		}
	}
	return kustomer.Message{}, false, fmt.Errorf("sqlstore: append message to %s: %w", in.ConversationID, err)
}

// appendMessage takes the conversation's next seq and inserts the message,
// inside tx. Incrementing last_seq locks the conversation row, so seqs are
// assigned in commit order without gaps. Only messages the customer sees
// move the preview and last activity; a customer's message starts the wait
// for an answer and an agent's reply ends it. With openOnly, a message
// other than a private note is refused once the conversation has ended (the
// bump is rolled back with the refused write); the system events of ending
// and of a turn that ends are appended by writes that checked the state
// themselves.
func (s *Store) appendMessage(ctx context.Context, tx *sql.Tx, in kustomer.NewMessage, openOnly bool) (kustomer.Message, error) {
	m := in.Message
	at := ms(m.CreatedAt)
	set, args := `last_seq = last_seq + 1, updated_at = ?`, []any{at}
	if !m.Private && m.SentBy.Type != kustomer.AuthorSystem {
		set += `, last_message_at = ?`
		args = append(args, at)
		if in.Preview != "" {
			set += `, preview = ?`
			args = append(args, in.Preview)
		}
		if m.Direction == kustomer.DirectionOut {
			set += `, customer_unread = customer_unread + 1`
		}
		switch m.SentBy.Type {
		case kustomer.AuthorCustomer:
			set += `, awaiting_since = COALESCE(awaiting_since, ?)`
			args = append(args, at)
		case kustomer.AuthorAgent:
			set += `, awaiting_since = NULL, first_response_at = COALESCE(first_response_at, ?)`
			args = append(args, at)
		}
	}
	var (
		seq     int64
		endedAt sql.NullInt64
	)
	err := s.on(tx).QueryRowContext(ctx, (`UPDATE conversations SET `+set+` WHERE id = ? RETURNING last_seq, ended_at`), append(args, m.ConversationID)...).Scan(&seq, &endedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("conversation %s: %w", m.ConversationID, kustomer.ErrNotFound)
	}
	if err != nil {
		return m, err
	}
	if openOnly && endedAt.Valid && !in.Private {
		return m, &kustomer.ConflictError{Code: "conversation_ended", Reason: "the conversation has ended"}
	}
	m.Seq = seq
	if m.Attachments == nil {
		m.Attachments = []kustomer.Attachment{}
	}
	att, err := json.Marshal(m.Attachments)
	if err != nil {
		return m, err
	}
	var payload sql.NullString
	if len(m.Payload) > 0 {
		payload = sql.NullString{String: string(m.Payload), Valid: true}
	}
	_, err = s.on(tx).ExecContext(ctx, (`INSERT INTO messages (` + msgCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		m.ID, m.ConversationID, m.Seq, m.Body, payload, string(m.Direction), string(m.SentBy.Type), m.SentBy.ID,
		m.SentBy.DisplayName, m.SentBy.AvatarURL, string(att), nullString(m.ClientMessageID), at, m.Private, nullString(string(m.Meta)))
	if err != nil {
		return m, err
	}
	if err := s.claimAttachments(ctx, tx, m); err != nil {
		return m, err
	}
	if len(in.Outbox) == 0 {
		return m, nil
	}
	_, err = s.enqueue(ctx, tx, in.Outbox)
	return m, err
}

// Messages implements kustomer.Store.
func (s *Store) Messages(ctx context.Context, conversationID string, q kustomer.MessageQuery) ([]kustomer.Message, error) {
	msgs, err := s.messages(ctx, s.read(), conversationID, q)
	if err == nil && len(msgs) == 0 {
		// An empty window of an unknown conversation is not-found.
		err = s.conversationExists(ctx, s.read(), conversationID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: messages of %s: %w", conversationID, err)
	}
	return msgs, nil
}

func (s *Store) messages(ctx context.Context, db runner, conversationID string, q kustomer.MessageQuery) ([]kustomer.Message, error) {
	where := ` WHERE conversation_id = ? AND seq > ?`
	args := []any{conversationID, q.AfterSeq}
	switch {
	case !q.IncludePrivate:
		where += ` AND private = FALSE`
	case q.Private == kustomer.PrivateOnly:
		where += ` AND private = TRUE`
	}
	if q.BeforeSeq > 0 {
		where += ` AND seq < ?`
		args = append(args, q.BeforeSeq)
	}
	max := q.Max
	if max <= 0 {
		max = kustomer.DefaultMaxMessage
	}
	order := ` ORDER BY seq ASC`
	if q.Last {
		order = ` ORDER BY seq DESC`
	}
	rows, err := db.QueryContext(ctx, `SELECT `+msgCols+` FROM messages`+where+order+` LIMIT ?`, append(args, max)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kustomer.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if q.Last {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}
