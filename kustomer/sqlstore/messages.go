package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/handoff/handoff/kustomer"
)

const msgCols = `id, conversation_id, seq, body, payload, direction, author_type, author_id, author_name,
	author_avatar, attachments, client_message_id, created_at, private, meta, lang`

func scanMessage(row scanner) (kustomer.Message, error) { return newMessageRow().scan(row) }

// messageRow is where a message's columns are scanned to, made once per
// query: fresh variables for every row would cost a heap allocation for
// them and another for the list of their addresses, row after row.
type messageRow struct {
	m                     kustomer.Message
	payload, meta, client sql.NullString
	attachments           string
	created               int64
	dest                  []any
}

func newMessageRow() *messageRow {
	r := &messageRow{}
	r.dest = []any{&r.m.ID, &r.m.ConversationID, &r.m.Seq, &r.m.Body, &r.payload, &r.m.Direction, &r.m.SentBy.Type, &r.m.SentBy.ID,
		&r.m.SentBy.DisplayName, &r.m.SentBy.AvatarURL, &r.attachments, &r.client, &r.created, &r.m.Private, &r.meta, &r.m.Lang}
	return r
}

// scan reads the current row of row; the message returned shares nothing
// with r, which the next row overwrites.
func (r *messageRow) scan(row scanner) (kustomer.Message, error) {
	if err := row.Scan(r.dest...); err != nil {
		return kustomer.Message{}, err
	}
	m := r.m
	if r.payload.Valid {
		m.Payload = json.RawMessage(r.payload.String)
	}
	if r.meta.Valid {
		m.Meta = json.RawMessage(r.meta.String)
	}
	m.ClientMessageID = r.client.String
	m.CreatedAt = fromMS(r.created)
	if r.attachments != "[]" {
		if err := json.Unmarshal([]byte(r.attachments), &m.Attachments); err != nil {
			return m, fmt.Errorf("decode attachments: %w", err)
		}
	}
	if m.Attachments == nil {
		m.Attachments = []kustomer.Attachment{}
	}
	return m, nil
}

// AppendMessage implements kustomer.Store.
//
// The write is planned as two statements, the seq bump and the insert, so
// that on PostgreSQL a batch of sends costs one round trip, not two per
// send, while it holds the conversations' row locks. A resent
// clientMessageId is refused by the unique index, and the message stored
// the first time is read back and returned instead.
func (s *Store) AppendMessage(ctx context.Context, in kustomer.NewMessage) (kustomer.Message, bool, error) {
	for attempt := 0; ; attempt++ {
		var m kustomer.Message
		err := s.plan(ctx, "append_message", lockKey{'c', in.ConversationID}, s.appendSteps(&m, in, true))
		if err == nil {
			return m, true, nil
		}
		if errors.Is(err, errRefused) {
			// Ended, gone, another customer's or the assistant's: which
			// one is read after the fact. Changed back meanwhile: the send
			// is tried again.
			if err = s.refusal(ctx, in); err == nil && attempt < 3 {
				continue
			}
			if errors.Is(err, kustomer.ErrForbidden) || errors.Is(err, kustomer.ErrAssistantMode) {
				return kustomer.Message{}, false, fmt.Errorf("sqlstore: append message to %s: %w", in.ConversationID, err)
			}
		}
		var conflict *kustomer.ConflictError
		if in.ClientMessageID != "" && (s.d.uniqueViolation(err) || errors.As(err, &conflict)) {
			// A retry of a send that was stored (perhaps before the
			// conversation ended): answer what was stored, as the first
			// time.
			m, err2 := scanMessage(s.read().QueryRowContext(ctx, (`SELECT ` + msgCols + ` FROM messages
				WHERE conversation_id = ? AND client_message_id = ?`), in.ConversationID, in.ClientMessageID))
			if err2 == nil {
				return m, false, nil
			}
		}
		if err == nil {
			err = errRefused
		}
		return kustomer.Message{}, false, fmt.Errorf("sqlstore: append message to %s: %w", in.ConversationID, err)
	}
}

// errRefused is a message refused because its conversation has ended,
// does not exist, or is not as its guard (NewMessage.OwnerID) wants.
var errRefused = errors.New("the conversation has ended or does not exist")

// refusal tells why message in was refused: not found, another
// customer's, ended, in assistant mode, or nil when it would be taken now.
func (s *Store) refusal(ctx context.Context, in kustomer.NewMessage) error {
	id := in.ConversationID
	var (
		endedAt   sql.NullInt64
		owner     string
		assistant bool
	)
	err := s.read().QueryRowContext(ctx, `SELECT ended_at, customer_id, assistant_mode FROM conversations WHERE id = ?`, id).Scan(&endedAt, &owner, &assistant)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
	case err != nil:
		return err
	case in.OwnerID != "" && owner != in.OwnerID:
		return fmt.Errorf("conversation %s: %w", id, kustomer.ErrForbidden)
	case endedAt.Valid && !in.Private:
		return &kustomer.ConflictError{Code: "conversation_ended", Reason: "the conversation has ended"}
	case in.OwnerID != "" && assistant:
		return fmt.Errorf("conversation %s: %w", id, kustomer.ErrAssistantMode)
	}
	return nil
}

// appendMessage takes the conversation's next seq and inserts the message,
// inside tx, for writes that do more than append; see appendSteps.
func (s *Store) appendMessage(ctx context.Context, tx *sql.Tx, in kustomer.NewMessage, openOnly bool) (kustomer.Message, error) {
	var m kustomer.Message
	err := s.runSteps(ctx, tx, s.appendSteps(&m, in, openOnly))
	return m, err
}

// appendSteps plans appending in.Message: the steps fill *out with the
// message as stored. Incrementing last_seq locks the conversation row, so
// seqs are assigned in commit order without gaps; the insert reads the seq
// back from the row. Only messages the customer sees move the preview and
// last activity; a customer's message starts the wait for an answer and an
// agent's reply ends it. With openOnly, a message other than a private
// note is refused (errRefused) once the conversation has ended; writes
// that end a conversation append their system event themselves.
func (s *Store) appendSteps(out *kustomer.Message, in kustomer.NewMessage, openOnly bool) []step {
	m := in.Message
	if m.Attachments == nil {
		m.Attachments = []kustomer.Attachment{}
	}
	*out = m
	at := ms(m.CreatedAt)
	shape := bumpShape{open: openOnly && !m.Private, owner: in.OwnerID != ""}
	args := make([]any, 0, 4)
	args = append(args, at)
	if !m.Private && m.SentBy.Type != kustomer.AuthorSystem {
		shape.visible = true
		args = append(args, at)
		if in.Preview != "" {
			shape.preview = true
			args = append(args, in.Preview)
		}
		shape.out = m.Direction == kustomer.DirectionOut
		switch m.SentBy.Type {
		case kustomer.AuthorCustomer:
			shape.author = 1
			args = append(args, at)
		case kustomer.AuthorAgent:
			shape.author = 2
			args = append(args, at)
		}
	}
	q := bumpQueries(shape)
	args = append(args, m.ConversationID)
	seqArgs := []any{m.ConversationID}
	if shape.owner {
		args = append(args, in.OwnerID)
		seqArgs = append(seqArgs, in.OwnerID)
	}
	bump := step{
		query: q.bump,
		args:  args,
		dest:  []any{&out.Seq},
		noRow: fmt.Errorf("conversation %s: %w", m.ConversationID, kustomer.ErrNotFound),
	}
	if shape.open || shape.owner {
		bump.noRow = errRefused
	}
	att, err := json.Marshal(m.Attachments)
	if err != nil {
		panic(err) // IDs, names, types and sizes always encode
	}
	var payload sql.NullString
	if len(m.Payload) > 0 {
		payload = sql.NullString{String: string(m.Payload), Valid: true}
	}
	steps := []step{bump, {
		query: q.insert,
		args: append(append([]any{m.ID, m.ConversationID}, seqArgs...), m.Body, payload, string(m.Direction), string(m.SentBy.Type), m.SentBy.ID,
			m.SentBy.DisplayName, m.SentBy.AvatarURL, string(att), nullString(m.ClientMessageID), at, m.Private, nullString(string(m.Meta)), m.Lang),
	}}
	steps = append(steps, s.claimSteps(m)...)
	if s.d.name == "postgres" {
		// The conversation's words take the message's in the next batch
		// (see indexPendingPG).
		steps = append(steps, step{query: `INSERT INTO search_log (conversation_id) VALUES (?)`, args: []any{m.ConversationID}})
	}
	return append(steps, s.enqueueSteps(in.Outbox, nil)...)
}

// bumpShape is which of its variants a message's bump of the conversation
// takes: whether the customer sees the message (it moves the preview and
// the last activity), whether it has a preview, whether it goes out (the
// customer's unread count), who wrote it (1 customer: the wait for an
// answer starts; 2 agent: it ends), whether an ended conversation
// refuses it, and whether it is guarded by its owner (NewMessage.OwnerID).
type bumpShape struct {
	visible, preview, out, open, owner bool
	author                             int8
}

// appendQueries are the bump and the insert of a message of one shape.
type appendQueries struct{ bump, insert string }

// appendQueryCache keeps the queries of each shape (a few dozen at most),
// made once rather than for every message.
var appendQueryCache sync.Map // bumpShape → appendQueries

// bumpQueries returns the queries of a message of shape sh. Incrementing
// last_seq locks the conversation row, so seqs are assigned in commit
// order without gaps; the insert reads the seq back under the bump's
// condition: when the bump found no row, the seq is NULL and the insert
// fails (NOT NULL), so a refused send always comes with a database error.
func bumpQueries(sh bumpShape) appendQueries {
	if q, ok := appendQueryCache.Load(sh); ok {
		return q.(appendQueries)
	}
	set := `last_seq = last_seq + 1, updated_at = ?`
	if sh.visible {
		set += `, last_message_at = ?`
		if sh.preview {
			set += `, preview = ?`
		}
		if sh.out {
			set += `, customer_unread = customer_unread + 1`
		}
		switch sh.author {
		case 1:
			set += `, awaiting_since = COALESCE(awaiting_since, ?)`
		case 2:
			set += `, awaiting_since = NULL, first_response_at = COALESCE(first_response_at, ?)`
		}
	}
	cond := `id = ?`
	if sh.owner {
		cond += ` AND customer_id = ? AND assistant_mode = FALSE`
	}
	if sh.open {
		cond += ` AND ended_at IS NULL`
	}
	where, seq := ` WHERE `+cond, `(SELECT last_seq FROM conversations WHERE `+cond+`)`
	q := appendQueries{
		bump:   `UPDATE conversations SET ` + set + where + ` RETURNING last_seq`,
		insert: `INSERT INTO messages (` + msgCols + `) VALUES (?, ?, ` + seq + `, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	}
	appendQueryCache.Store(sh, q)
	return q
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
	if len(q.IDs) > 0 {
		where += ` AND id IN (?` + strings.Repeat(`, ?`, len(q.IDs)-1) + `)`
		for _, id := range q.IDs {
			args = append(args, id)
		}
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
	out := make([]kustomer.Message, 0, min(max, 100))
	r := newMessageRow()
	for rows.Next() {
		m, err := r.scan(rows)
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
