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

// convCols are the columns scanConversation reads, in order, for a viewer:
// the customer's unread count always, the agent's when agentReader is set.
func convCols(agentReader string, lean bool) (string, []any) {
	docs := `c.custom, c.context`
	if lean {
		docs = `'{}', '{}'`
	}
	cols := `c.id, c.customer_id, c.form_id, c.assistant_id, c.created_at, c.updated_at,
	c.last_message_at, c.preview, c.ended_at, c.ended_by, c.assistant_mode, ` + docs + `, c.last_seq,
	c.assignee_id, (SELECT a.name FROM agents a WHERE a.id = c.assignee_id), c.skill, c.awaiting_since,
	c.first_response_at, c.csat_rating, c.csat_comment, c.csat_at, c.customer_unread, c.assistant_state, c.lang, c.suggested_agent_id,
	c.ttr_type, c.ttr_value, c.ttr_seconds, c.manual_ettr, ` + labelsCol
	if agentReader == "" {
		return cols + `, 0`, nil
	}
	return cols + `, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'
		AND m.seq > COALESCE((SELECT r.seq FROM reads r WHERE r.conversation_id = c.id AND r.reader = ?), 0))`, []any{agentReader}
}

type scanner interface{ Scan(dest ...any) error }

// summaryCols are the columns of a customer's list (ConversationFilter.
// Summary): a third of convCols, which a list of a hundred rows reads a
// hundred times.
const summaryCols = `c.id, c.customer_id, c.form_id, c.lang, c.created_at, c.last_message_at, c.preview, c.last_seq,
	c.ended_at, c.assistant_mode, c.assignee_id, (SELECT a.name FROM agents a WHERE a.id = c.assignee_id), c.customer_unread`

// summaryRow is where a summary's columns are scanned to, made once per
// list, as messageRow is.
type summaryRow struct {
	c               kustomer.Conversation
	created, last   int64
	endedAt         sql.NullInt64
	assignee, aName sql.NullString
	dest            []any
}

func newSummaryRow() *summaryRow {
	r := &summaryRow{}
	r.dest = []any{&r.c.ID, &r.c.CustomerID, &r.c.FormID, &r.c.Lang, &r.created, &r.last, &r.c.Preview, &r.c.LastSeq,
		&r.endedAt, &r.c.IsInAssistantMode, &r.assignee, &r.aName, &r.c.CustomerUnread}
	return r
}

func (r *summaryRow) scan(row scanner) (kustomer.Conversation, error) {
	if err := row.Scan(r.dest...); err != nil {
		return kustomer.Conversation{}, err
	}
	c := r.c
	c.CreatedAt, c.LastMessageAt = fromMS(r.created), fromMS(r.last)
	c.EndedAt, c.Ended = optTime(r.endedAt), r.endedAt.Valid
	c.AssigneeID, c.AssigneeName = r.assignee.String, r.aName.String
	c.CustomAttributes = kustomer.Attributes{}
	return c, nil
}

func scanConversation(row scanner) (kustomer.Conversation, error) {
	var (
		c                         kustomer.Conversation
		created, updated, lastMsg int64
		endedAt, awaiting, firstR sql.NullInt64
		csatRating, csatAt        sql.NullInt64
		endedBy, assignee, aName  sql.NullString
		aState                    sql.NullString
		custom, context, csatText string
		manualETTR                sql.NullInt64
		labels                    sql.NullString
	)
	err := row.Scan(&c.ID, &c.CustomerID, &c.FormID, &c.AssistantID, &created, &updated, &lastMsg, &c.Preview,
		&endedAt, &endedBy, &c.IsInAssistantMode, &custom, &context, &c.LastSeq,
		&assignee, &aName, &c.Skill, &awaiting, &firstR, &csatRating, &csatText, &csatAt,
		&c.CustomerUnread, &aState, &c.Lang, &c.SuggestedAgentID, &c.TTR.Type, &c.TTR.Value, &c.TTR.Seconds, &manualETTR, &labels, &c.AgentUnread)
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt, c.LastMessageAt = fromMS(created), fromMS(updated), fromMS(lastMsg)
	c.EndedAt, c.Ended = optTime(endedAt), endedAt.Valid
	c.AwaitingSince, c.FirstResponseAt = optTime(awaiting), optTime(firstR)
	c.TTR.ManualETTR = optTime(manualETTR)
	c.TTREffective = c.TTR.Effective(c.AwaitingSince, c.Ended)
	c.AssigneeID, c.AssigneeName = assignee.String, aName.String
	c.Labels = splitLabels(labels)
	if aState.Valid {
		c.AssistantState = json.RawMessage(aState.String)
	}
	if csatRating.Valid {
		c.Satisfaction = &kustomer.Satisfaction{Rating: int(csatRating.Int64), Comment: csatText, CreatedAt: fromMS(csatAt.Int64)}
	}
	if endedBy.Valid && endedBy.String != "" {
		var a kustomer.Author
		if err := json.Unmarshal([]byte(endedBy.String), &a); err != nil {
			return c, fmt.Errorf("decode ended_by: %w", err)
		}
		c.EndedBy = &a
	}
	if custom != "{}" {
		if err := json.Unmarshal([]byte(custom), &c.CustomAttributes); err != nil {
			return c, fmt.Errorf("decode custom: %w", err)
		}
	}
	if c.CustomAttributes == nil {
		c.CustomAttributes = kustomer.Attributes{}
	}
	if context != "{}" {
		if err := json.Unmarshal([]byte(context), &c.Context); err != nil {
			return c, fmt.Errorf("decode context: %w", err)
		}
	}
	return c, nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func (s *Store) conversation(ctx context.Context, q runner, id string) (kustomer.Conversation, error) {
	cols, args := convCols("", false)
	c, err := scanConversation(q.QueryRowContext(ctx, (`SELECT ` + cols + ` FROM conversations c WHERE c.id = ?`), append(args, id)...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlstore: conversation %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlstore: conversation %s: %w", id, err)
	}
	return c, nil
}

// ConversationHead implements kustomer.Store.
func (s *Store) ConversationHead(ctx context.Context, id string) (kustomer.Conversation, error) {
	c := kustomer.Conversation{ID: id}
	var endedAt, firstR sql.NullInt64
	err := s.read().QueryRowContext(ctx, `SELECT customer_id, form_id, assistant_id, assistant_mode, ended_at, first_response_at, lang, last_seq
		FROM conversations WHERE id = ?`, id).Scan(&c.CustomerID, &c.FormID, &c.AssistantID, &c.IsInAssistantMode, &endedAt, &firstR, &c.Lang, &c.LastSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return kustomer.Conversation{}, fmt.Errorf("sqlstore: conversation %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return kustomer.Conversation{}, fmt.Errorf("sqlstore: conversation %s: %w", id, err)
	}
	c.EndedAt, c.Ended = optTime(endedAt), endedAt.Valid
	c.FirstResponseAt = optTime(firstR)
	return c, nil
}

// conversationExists returns an ErrNotFound error when there is no
// conversation id.
func (s *Store) conversationExists(ctx context.Context, q runner, id string) error {
	return s.findConversation(ctx, q, id, "")
}

// lockConversation locks conversation id's row until tx ends, where the
// database has row locks, and returns an ErrNotFound error when there is
// none. A write to a conversation takes this lock before any other, so
// that all of them lock in one order (see committer).
func (s *Store) lockConversation(ctx context.Context, tx *sql.Tx, id string) error {
	return s.findConversation(ctx, s.on(tx), id, s.d.forUpdate)
}

func (s *Store) findConversation(ctx context.Context, q runner, id, suffix string) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`+suffix, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
	}
	return err
}

// Conversation implements kustomer.Store.
func (s *Store) Conversation(ctx context.Context, id string) (kustomer.Conversation, error) {
	return s.conversation(ctx, s.read(), id)
}

// Conversations implements kustomer.Store.
func (s *Store) Conversations(ctx context.Context, f kustomer.ConversationFilter, offset, limit int) ([]kustomer.Conversation, int, error) {
	var conds []string
	var args []any
	if f.CustomerID != "" {
		conds, args = append(conds, `c.customer_id = ?`), append(args, f.CustomerID)
	}
	order := ` ORDER BY c.last_message_at DESC, c.id DESC`
	switch f.Queue {
	case kustomer.QueueUnassigned:
		conds = append(conds, `c.ended_at IS NULL AND c.assignee_id IS NULL AND c.assistant_mode = FALSE`)
		// First come, first served.
		// The most urgent first: by when the answer is due (see
		// kustomer.TTR), then first come, first served.
		order = ` ORDER BY COALESCE(c.manual_ettr, c.awaiting_since + c.ttr_seconds * 1000, c.last_message_at) ASC, c.id ASC`
	case kustomer.QueueMine:
		// An agent's own conversations, and those suggested to them.
		conds, args = append(conds, `c.ended_at IS NULL AND (c.assignee_id = ? OR c.suggested_agent_id = ?)`), append(args, f.AgentID, f.AgentID)
	case kustomer.QueueOpen:
		conds = append(conds, `c.ended_at IS NULL`)
	case kustomer.QueueEnded:
		conds = append(conds, `c.ended_at IS NOT NULL`)
	}
	if f.FormID != "" {
		conds, args = append(conds, `c.form_id = ?`), append(args, f.FormID)
	}
	if f.Skill != "" {
		conds, args = append(conds, `c.skill = ?`), append(args, f.Skill)
	}
	if f.Skills != nil {
		if len(f.Skills) == 0 {
			conds = append(conds, `FALSE`)
		} else {
			conds = append(conds, `c.skill IN (?`+strings.Repeat(`, ?`, len(f.Skills)-1)+`)`)
			args = append(args, anys(f.Skills)...)
		}
	}
	if f.Unread {
		conds = append(conds, `EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in'
			AND m.seq > COALESCE((SELECT r.seq FROM reads r WHERE r.conversation_id = c.id AND r.reader = ?), 0))`)
		args = append(args, "agent:"+f.AgentID)
	}
	if f.Label != "" {
		conds, args = append(conds, `c.id IN (SELECT l.conversation_id FROM conversation_labels l WHERE l.label_id = ?)`), append(args, f.Label)
	}
	if len(f.Terms) > 0 {
		if err := s.indexPending(ctx); err != nil {
			return nil, 0, err
		}
		sc, sa := s.searchConds(f.Terms)
		conds, args = append(conds, sc...), append(args, sa...)
	}
	where := ""
	if len(conds) > 0 {
		where = ` WHERE ` + strings.Join(conds, ` AND `)
	}
	search := len(f.Terms) > 0
	var total int
	count := func() error {
		if err := s.read().QueryRowContext(ctx, (`SELECT COUNT(*) FROM conversations c` + where), args...).Scan(&total); err != nil {
			return fmt.Errorf("sqlstore: count conversations: %w", err)
		}
		return nil
	}
	if !search {
		if err := count(); err != nil {
			return nil, 0, err
		}
	}
	reader := ""
	if f.AgentID != "" {
		reader = "agent:" + f.AgentID
	}
	cols, colArgs := convCols(reader, f.Lean)
	scan := scanConversation
	if f.Summary {
		cols, colArgs, scan = summaryCols, nil, newSummaryRow().scan
	}
	if search {
		// A search finds its matches once, for the page and their number
		// both: finding them is most of its cost. It reads only their ids
		// (a window over every match would compute every column of each),
		// then the page's rows.
		ids, n, err := s.searchPage(ctx, where+order, args, limit, offset)
		if err != nil {
			return nil, 0, err
		}
		total = n
		if len(ids) == 0 && offset > 0 {
			// A page past the last says how many there are all the same.
			if err := count(); err != nil {
				return nil, 0, err
			}
		}
		out, err := s.conversationsByID(ctx, cols, colArgs, scan, ids)
		return out, total, err
	}
	rows, err := s.read().QueryContext(ctx, `SELECT `+cols+` FROM conversations c`+where+order+` LIMIT ? OFFSET ?`,
		append(append(colArgs, args...), limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list conversations: %w", err)
	}
	defer rows.Close()
	out := make([]kustomer.Conversation, 0, max(0, min(limit, 100)))
	for rows.Next() {
		c, err := scan(rows)
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

// searchPage reads the ids of a page of a search's conversations
// (whereOrder: its conditions and order) and how many match in all.
func (s *Store) searchPage(ctx context.Context, whereOrder string, args []any, limit, offset int) ([]string, int, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT c.id, COUNT(*) OVER () FROM conversations c`+whereOrder+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: search conversations: %w", err)
	}
	defer rows.Close()
	var (
		ids   []string
		total int
	)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id, &total); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: search conversations: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, total, rows.Err()
}

// conversationsByID reads the conversations ids, in their order.
func (s *Store) conversationsByID(ctx context.Context, cols string, colArgs []any, scan func(scanner) (kustomer.Conversation, error), ids []string) ([]kustomer.Conversation, error) {
	out := make([]kustomer.Conversation, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.read().QueryContext(ctx, `SELECT `+cols+` FROM conversations c WHERE c.id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`)`,
		append(colArgs, anys(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list conversations: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]kustomer.Conversation, len(ids))
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list conversations: %w", err)
		}
		byID[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list conversations: %w", err)
	}
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// CreateConversation implements kustomer.Store.
func (s *Store) CreateConversation(ctx context.Context, in kustomer.NewConversation) (kustomer.Conversation, kustomer.Message, bool, error) {
	var (
		conv    kustomer.Conversation
		first   kustomer.Message
		created bool
	)
	err := s.tx(ctx, "create_conversation", lockKey{'u', in.Customer.ID}, func(ctx context.Context, tx *sql.Tx) error {
		conv, first, created = kustomer.Conversation{}, kustomer.Message{}, false
		if in.ClientRef != "" {
			var id string
			err := s.on(tx).QueryRowContext(ctx, (`SELECT id FROM conversations WHERE client_ref = ?`), in.ClientRef).Scan(&id)
			if err == nil {
				conv, err = s.conversation(ctx, s.on(tx), id)
				if err != nil {
					return err
				}
				msgs, err := s.messages(ctx, s.on(tx), id, kustomer.MessageQuery{Max: 1})
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
		ttrType := c.TTR.Type
		if ttrType == "" {
			ttrType = kustomer.TTRNormal
		}
		_, err = s.on(tx).ExecContext(ctx, (`INSERT INTO conversations (id, customer_id, form_id, assistant_id, client_ref,
			created_at, updated_at, last_message_at, preview, assistant_mode, custom, context, last_seq, lang, ttr_type, ttr_value, ttr_seconds)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`),
			c.ID, in.Customer.ID, c.FormID, c.AssistantID, nullString(in.ClientRef),
			ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.LastMessageAt), c.Preview, c.IsInAssistantMode, string(custom), string(pctx), c.Lang,
			ttrType, c.TTR.Value, c.TTR.Seconds)
		if err != nil {
			return err
		}
		first, err = s.appendMessage(ctx, tx, kustomer.NewMessage{Message: in.First, Preview: c.Preview, Outbox: in.Outbox}, false)
		if err != nil {
			return err
		}
		conv, err = s.conversation(ctx, s.on(tx), c.ID)
		created = true
		return err
	})
	if err != nil {
		if s.d.uniqueViolation(err) && in.ClientRef != "" {
			// A concurrent retry won the race: return its conversation.
			var id string
			if err2 := s.read().QueryRowContext(ctx, (`SELECT id FROM conversations WHERE client_ref = ?`), in.ClientRef).Scan(&id); err2 == nil {
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
func (s *Store) UpdateConversationAttributes(ctx context.Context, id string, attrs kustomer.Attributes, at time.Time, outbox ...kustomer.OutboxItem) (kustomer.Conversation, error) {
	var conv kustomer.Conversation
	err := s.tx(ctx, "update_attributes", lockKey{'c', id}, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.mergeAttributes(ctx, tx, id, attrs, at); err != nil {
			return err
		}
		if _, err := s.enqueue(ctx, tx, outbox); err != nil {
			return err
		}
		var err error
		conv, err = s.conversation(ctx, s.on(tx), id)
		return err
	})
	if err != nil {
		return conv, fmt.Errorf("sqlstore: update conversation %s: %w", id, err)
	}
	return conv, nil
}

// mergeAttributes merges attrs into the conversation's custom attributes
// inside tx; a nil value removes the attribute.
func (s *Store) mergeAttributes(ctx context.Context, tx *sql.Tx, id string, attrs kustomer.Attributes, at time.Time) error {
	var raw string
	err := s.on(tx).QueryRowContext(ctx, `SELECT custom FROM conversations WHERE id = ?`+s.d.forUpdate, id).Scan(&raw)
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
	_, err = s.on(tx).ExecContext(ctx, `UPDATE conversations SET custom = ?, updated_at = ? WHERE id = ?`, string(b), ms(at), id)
	return err
}

// ApplyAssistantTurn implements kustomer.Store.
func (s *Store) ApplyAssistantTurn(ctx context.Context, id string, t kustomer.AssistantApply) (kustomer.Conversation, []kustomer.Message, error) {
	var (
		conv kustomer.Conversation
		msgs []kustomer.Message
	)
	err := s.tx(ctx, "assistant_turn", lockKey{'c', id}, func(ctx context.Context, tx *sql.Tx) error {
		conv, msgs = kustomer.Conversation{}, nil
		var state, assistantID sql.NullString
		var endedAt sql.NullInt64
		err := s.on(tx).QueryRowContext(ctx, `SELECT assistant_state, ended_at, assistant_id FROM conversations WHERE id = ?`+s.d.forUpdate, id).
			Scan(&state, &endedAt, &assistantID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		// Compare-and-swap: a turn computed from an older state (a second
		// click racing the first) is not applied.
		if state.String != string(t.ExpectState) || state.Valid != (t.ExpectState != nil) || endedAt.Valid ||
			t.Begin != "" && assistantID.String != "" {
			return kustomer.ErrStaleAnswer
		}
		for _, m := range t.Messages {
			stored, err := s.appendMessage(ctx, tx, m, false)
			if err != nil {
				return err
			}
			msgs = append(msgs, stored)
		}
		if len(t.Set) > 0 {
			if err := s.mergeAttributes(ctx, tx, id, t.Set, t.At); err != nil {
				return err
			}
		}
		set, args := `assistant_state = ?, updated_at = ?`, []any{string(t.State), ms(t.At)}
		if t.Begin != "" {
			set += `, assistant_id = ?`
			args = append(args, t.Begin)
			if !t.LeaveAssistant && t.End == nil {
				set += `, assistant_mode = TRUE`
			}
		}
		if t.LeaveAssistant {
			set += `, assistant_mode = FALSE, skill = ?`
			args = append(args, t.Skill)
		}
		if t.End != nil {
			b, err := json.Marshal(t.End)
			if err != nil {
				return err
			}
			set += `, ended_at = ?, ended_by = ?, assistant_mode = FALSE, awaiting_since = NULL`
			args = append(args, ms(t.At), string(b))
		}
		if _, err := s.on(tx).ExecContext(ctx, `UPDATE conversations SET `+set+` WHERE id = ?`, append(args, id)...); err != nil {
			return err
		}
		if _, err := s.enqueue(ctx, tx, t.Outbox); err != nil {
			return err
		}
		conv, err = s.conversation(ctx, s.on(tx), id)
		return err
	})
	if err != nil {
		return conv, nil, fmt.Errorf("sqlstore: assistant turn %s: %w", id, err)
	}
	return conv, msgs, nil
}

// EndConversation implements kustomer.Store.
func (s *Store) EndConversation(ctx context.Context, id string, by kustomer.Author, at time.Time, event kustomer.NewMessage) (kustomer.Conversation, kustomer.Message, bool, error) {
	b, err := json.Marshal(by)
	if err != nil {
		return kustomer.Conversation{}, kustomer.Message{}, false, err
	}
	return s.transition(ctx, "end_conversation", id, event, `UPDATE conversations SET ended_at = ?, ended_by = ?, updated_at = ?,
		assistant_mode = FALSE, awaiting_since = NULL WHERE id = ? AND ended_at IS NULL`, ms(at), string(b), ms(at), id)
}

// ReopenConversation implements kustomer.Store.
func (s *Store) ReopenConversation(ctx context.Context, id string, at time.Time, event kustomer.NewMessage) (kustomer.Conversation, kustomer.Message, bool, error) {
	// A reopened conversation starts afresh: no rating, nobody waiting.
	return s.transition(ctx, "reopen_conversation", id, event, `UPDATE conversations SET ended_at = NULL, ended_by = NULL, updated_at = ?,
		csat_rating = NULL, csat_comment = '', csat_at = NULL WHERE id = ? AND ended_at IS NOT NULL`, ms(at), id)
}

// transition runs update, a conditional state change of conversation id,
// and when it changed the row appends event, the system message recording
// it; changed=false when the conversation was already in that state.
func (s *Store) transition(ctx context.Context, op, id string, event kustomer.NewMessage, update string, args ...any) (kustomer.Conversation, kustomer.Message, bool, error) {
	var (
		conv    kustomer.Conversation
		msg     kustomer.Message
		changed bool
	)
	err := s.tx(ctx, op, lockKey{'c', id}, func(ctx context.Context, tx *sql.Tx) error {
		conv, msg, changed = kustomer.Conversation{}, kustomer.Message{}, false
		if err := s.lockConversation(ctx, tx, id); err != nil {
			return err
		}
		res, err := s.on(tx).ExecContext(ctx, update, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if changed = n == 1; changed {
			if msg, err = s.appendMessage(ctx, tx, event, false); err != nil {
				return err
			}
		}
		conv, err = s.conversation(ctx, s.on(tx), id)
		return err
	})
	if err != nil {
		return conv, msg, false, fmt.Errorf("sqlstore: %s %s: %w", strings.ReplaceAll(op, "_", " "), id, err)
	}
	return conv, msg, changed, nil
}

// UpdateAssignment implements kustomer.Store.
func (s *Store) UpdateAssignment(ctx context.Context, id string, a kustomer.Assignment, at time.Time, event kustomer.NewMessage) (kustomer.Conversation, kustomer.Message, error) {
	var (
		conv kustomer.Conversation
		msg  kustomer.Message
	)
	err := s.tx(ctx, "update_assignment", lockKey{'c', id}, func(ctx context.Context, tx *sql.Tx) error {
		var (
			endedAt       sql.NullInt64
			assignee      sql.NullString
			suggested     string
			assistantMode bool
		)
		err := s.on(tx).QueryRowContext(ctx, (`SELECT ended_at, assignee_id, suggested_agent_id, assistant_mode FROM conversations WHERE id = ?`+s.d.forUpdate), id).
			Scan(&endedAt, &assignee, &suggested, &assistantMode)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if endedAt.Valid {
			return &kustomer.ConflictError{Code: "conversation_ended", Reason: "the conversation has ended; reopen it first"}
		}
		if a.IfUnassigned && (assignee.Valid || suggested != "" || assistantMode) {
			return &kustomer.ConflictError{Code: "already_assigned", Reason: "the conversation no longer waits in the queue"}
		}
		// Routing to an agent or a queue takes the conversation from the
		// assistant.
		if _, err := s.on(tx).ExecContext(ctx, (`UPDATE conversations SET assignee_id = ?, skill = ?, suggested_agent_id = ?, updated_at = ?,
			assistant_mode = FALSE WHERE id = ?`), nullString(a.AssigneeID), a.Skill, a.SuggestedID, ms(at), id); err != nil {
			return err
		}
		if a.AssigneeID != "" {
			if _, err := s.on(tx).ExecContext(ctx, `UPDATE agents SET last_assigned_at = ? WHERE id = ?`, ms(at), a.AssigneeID); err != nil {
				return err
			}
		}
		if msg, err = s.appendMessage(ctx, tx, event, false); err != nil {
			return err
		}
		conv, err = s.conversation(ctx, s.on(tx), id)
		return err
	})
	if err != nil {
		return conv, msg, fmt.Errorf("sqlstore: assign conversation %s: %w", id, err)
	}
	return conv, msg, nil
}

// RateConversation implements kustomer.Store.
func (s *Store) RateConversation(ctx context.Context, id string, sat kustomer.Satisfaction, outbox ...kustomer.OutboxItem) (kustomer.Conversation, error) {
	var conv kustomer.Conversation
	err := s.tx(ctx, "rate_conversation", lockKey{'c', id}, func(ctx context.Context, tx *sql.Tx) error {
		var (
			endedAt sql.NullInt64
			rating  sql.NullInt64
		)
		err := s.on(tx).QueryRowContext(ctx, (`SELECT ended_at, csat_rating FROM conversations WHERE id = ?`+s.d.forUpdate), id).Scan(&endedAt, &rating)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !endedAt.Valid {
			return &kustomer.ConflictError{Code: "conversation_open", Reason: "a conversation can be rated once it has ended"}
		}
		if rating.Valid {
			return &kustomer.ConflictError{Code: "already_rated", Reason: "this conversation has already been rated"}
		}
		if _, err := s.on(tx).ExecContext(ctx, (`UPDATE conversations SET csat_rating = ?, csat_comment = ?, csat_at = ?, updated_at = ? WHERE id = ?`),
			sat.Rating, sat.Comment, ms(sat.CreatedAt), ms(sat.CreatedAt), id); err != nil {
			return err
		}
		if _, err := s.enqueue(ctx, tx, outbox); err != nil {
			return err
		}
		conv, err = s.conversation(ctx, s.on(tx), id)
		return err
	})
	if err != nil {
		return conv, fmt.Errorf("sqlstore: rate conversation %s: %w", id, err)
	}
	return conv, nil
}

// MarkRead implements kustomer.Store.
func (s *Store) MarkRead(ctx context.Context, conversationID, reader string, seq int64) error {
	err := s.tx(ctx, "mark_read", lockKey{'c', conversationID}, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockConversation(ctx, tx, conversationID); err != nil {
			return err
		}
		_, err := s.on(tx).ExecContext(ctx, (`INSERT INTO reads (conversation_id, reader, seq) VALUES (?, ?, ?)
			ON CONFLICT (conversation_id, reader) DO UPDATE
			SET seq = CASE WHEN excluded.seq > reads.seq THEN excluded.seq ELSE reads.seq END`), conversationID, reader, seq)
		if err != nil || reader != kustomer.ReaderCustomer {
			return err
		}
		// Recount what the customer has not read yet (usually nothing).
		_, err = s.on(tx).ExecContext(ctx, `UPDATE conversations SET customer_unread = (
				SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.direction = 'out'
				AND m.private = FALSE AND m.author_type <> 'system'
				AND m.seq > (SELECT r.seq FROM reads r WHERE r.conversation_id = conversations.id AND r.reader = 'customer'))
			WHERE id = ?`, conversationID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: mark read %s: %w", conversationID, err)
	}
	return nil
}

// ReadPositions implements kustomer.Store.
func (s *Store) ReadPositions(ctx context.Context, conversationID string) (map[string]int64, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT reader, seq FROM reads WHERE conversation_id = ?`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read positions of %s: %w", conversationID, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var reader string
		var seq int64
		if err := rows.Scan(&reader, &seq); err != nil {
			return nil, fmt.Errorf("sqlstore: read positions of %s: %w", conversationID, err)
		}
		out[reader] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read positions of %s: %w", conversationID, err)
	}
	return out, nil
}

// SetTTR implements kustomer.Store.
func (s *Store) SetTTR(ctx context.Context, id string, ttr kustomer.TTR, at time.Time, event kustomer.NewMessage) (kustomer.Conversation, kustomer.Message, error) {
	return s.updateOpen(ctx, "set_ttr", id, event, `ttr_type = ?, ttr_value = ?, ttr_seconds = ?, manual_ettr = ?, updated_at = ?`,
		ttr.Type, ttr.Value, ttr.Seconds, optMS(ttr.ManualETTR), ms(at))
}

// updateOpen sets columns of open conversation id and appends event, the
// message recording the change: ErrNotFound when there is no such
// conversation, a conversation_ended conflict when it has ended.
func (s *Store) updateOpen(ctx context.Context, op, id string, event kustomer.NewMessage, set string, args ...any) (kustomer.Conversation, kustomer.Message, error) {
	var (
		conv kustomer.Conversation
		msg  kustomer.Message
	)
	err := s.tx(ctx, op, lockKey{'c', id}, func(ctx context.Context, tx *sql.Tx) error {
		var endedAt sql.NullInt64
		err := s.on(tx).QueryRowContext(ctx, `SELECT ended_at FROM conversations WHERE id = ?`+s.d.forUpdate, id).Scan(&endedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", id, kustomer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if endedAt.Valid {
			return &kustomer.ConflictError{Code: "conversation_ended", Reason: "the conversation has ended; reopen it first"}
		}
		if _, err := s.on(tx).ExecContext(ctx, `UPDATE conversations SET `+set+` WHERE id = ?`, append(args, id)...); err != nil {
			return err
		}
		if msg, err = s.appendMessage(ctx, tx, event, false); err != nil {
			return err
		}
		conv, err = s.conversation(ctx, s.on(tx), id)
		return err
	})
	if err != nil {
		return conv, msg, fmt.Errorf("sqlstore: %s %s: %w", op, id, err)
	}
	return conv, msg, nil
}

// optMS is an optional time as a nullable ms column.
func optMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

// UnreadByReader implements kustomer.Store.
func (s *Store) UnreadByReader(ctx context.Context, conversationID string, also ...string) (map[string]int, error) {
	// The readers with a position, and those asked for from the start.
	positions := `SELECT reader, seq FROM reads WHERE conversation_id = ?`
	args := []any{conversationID}
	for _, r := range also {
		positions += ` UNION ALL SELECT CAST(? AS TEXT), 0`
		args = append(args, r)
	}
	rows, err := s.read().QueryContext(ctx, `SELECT q.reader, (SELECT COUNT(*) FROM messages m
			WHERE m.conversation_id = ? AND m.seq > q.seq AND m.private = FALSE AND m.author_type <> 'system'
			AND m.direction = CASE WHEN q.reader = 'customer' THEN 'out' ELSE 'in' END)
		FROM (SELECT p.reader AS reader, MAX(p.seq) AS seq FROM (`+positions+`) p GROUP BY p.reader) q`, append([]any{conversationID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: unread of %s: %w", conversationID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var reader string
		var n int
		if err := rows.Scan(&reader, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: unread of %s: %w", conversationID, err)
		}
		out[reader] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: unread of %s: %w", conversationID, err)
	}
	return out, nil
}

func nonNil(a kustomer.Attributes) kustomer.Attributes {
	if a == nil {
		return kustomer.Attributes{}
	}
	return a
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
