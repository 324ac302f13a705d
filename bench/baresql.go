package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// bareSchema is the reference's own schema: the tables and indexes a
// hand-off and a message touch, shaped like the server's but owned here, so
// the reference stays bare.
var bareSchema = []string{
	`CREATE TABLE IF NOT EXISTS customers (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL DEFAULT '',
		emails TEXT NOT NULL DEFAULT '[]',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS conversations (
		id TEXT PRIMARY KEY,
		customer_id TEXT NOT NULL REFERENCES customers (id),
		form_id TEXT NOT NULL DEFAULT '',
		client_ref TEXT,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		last_message_at INTEGER NOT NULL,
		preview TEXT NOT NULL DEFAULT '',
		ended_at INTEGER,
		custom TEXT NOT NULL DEFAULT '{}',
		context TEXT NOT NULL DEFAULT '{}',
		last_seq INTEGER NOT NULL DEFAULT 0)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS conversations_client_ref ON conversations (client_ref) WHERE client_ref IS NOT NULL`,
	`CREATE INDEX IF NOT EXISTS conversations_customer_activity ON conversations (customer_id, last_message_at DESC, id DESC)`,
	`CREATE INDEX IF NOT EXISTS conversations_activity ON conversations (last_message_at DESC, id DESC)`,
	`CREATE TABLE IF NOT EXISTS messages (
		id TEXT PRIMARY KEY,
		conversation_id TEXT NOT NULL REFERENCES conversations (id),
		seq INTEGER NOT NULL,
		body TEXT NOT NULL,
		direction TEXT NOT NULL,
		author_type TEXT NOT NULL,
		author_name TEXT NOT NULL DEFAULT '',
		client_message_id TEXT,
		created_at INTEGER NOT NULL,
		UNIQUE (conversation_id, seq))`,
	`CREATE UNIQUE INDEX IF NOT EXISTS messages_client_message_id ON messages (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL`,
}

// bareStore is the bare SQLite reference: modernc SQLite in WAL with
// synchronous=NORMAL, one writer connection, prepared statements.
type bareStore struct {
	w, r *sql.DB

	findRef, findCustomer, insCustomer, updCustomer, insConv *sql.Stmt
	findMsg, endedAt, bumpSeq, insMsg                        *sql.Stmt
	conv, lastMsgs, listConvs, countConvs                    *sql.Stmt // on r
}

func bareDSN(path string, extra ...string) string {
	q := url.Values{}
	q["_pragma"] = []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Add(extra[i], extra[i+1])
	}
	return "file:" + path + "?" + q.Encode()
}

// openBare opens (creating) the reference database at path.
func openBare(ctx context.Context, path string) (*bareStore, error) {
	w, err := sql.Open("sqlite", bareDSN(path, "_txlock", "immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	for _, stmt := range bareSchema {
		if _, err := w.ExecContext(ctx, stmt); err != nil {
			w.Close()
			return nil, fmt.Errorf("bare schema: %w", err)
		}
	}
	r, err := sql.Open("sqlite", bareDSN(path, "_pragma", "query_only(ON)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := &bareStore{w: w, r: r}
	prep := []struct {
		db  *sql.DB
		dst **sql.Stmt
		q   string
	}{
		{w, &s.findRef, `SELECT id, customer_id FROM conversations WHERE client_ref = ?`},
		{w, &s.findCustomer, `SELECT name, emails FROM customers WHERE id = ?`},
		{w, &s.insCustomer, `INSERT INTO customers (id, name, emails, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`},
		{w, &s.updCustomer, `UPDATE customers SET name = ?, emails = ?, updated_at = ? WHERE id = ?`},
		{w, &s.insConv, `INSERT INTO conversations (id, customer_id, form_id, client_ref, created_at, updated_at, last_message_at, preview, custom, context, last_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`},
		{w, &s.findMsg, `SELECT seq FROM messages WHERE conversation_id = ? AND client_message_id = ?`},
		{w, &s.endedAt, `SELECT ended_at FROM conversations WHERE id = ?`},
		{w, &s.bumpSeq, `UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?, last_message_at = ?, preview = ? WHERE id = ? RETURNING last_seq`},
		{w, &s.insMsg, `INSERT INTO messages (id, conversation_id, seq, body, direction, author_type, author_name, client_message_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{r, &s.conv, `SELECT id, customer_id, form_id, created_at, last_message_at, preview, ended_at, last_seq FROM conversations WHERE id = ?`},
		{r, &s.lastMsgs, `SELECT seq, body, direction, author_type, author_name, created_at FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 200`},
		{r, &s.listConvs, `SELECT id, form_id, created_at, last_message_at, preview, ended_at FROM conversations WHERE customer_id = ?
			ORDER BY last_message_at DESC, id DESC LIMIT ?`},
		{r, &s.countConvs, `SELECT COUNT(*) FROM conversations WHERE customer_id = ?`},
	}
	for _, p := range prep {
		if *p.dst, err = p.db.PrepareContext(ctx, p.q); err != nil {
			_ = s.Close() // the prepare's error is the one to report
			return nil, fmt.Errorf("bare prepare: %w", err)
		}
	}
	return s, nil
}

// Close closes both handles.
func (s *bareStore) Close() error { return errors.Join(s.w.Close(), s.r.Close()) }

// newBareID is a random 24-hex-digit id, the size of the server's.
func newBareID() string {
	var b [12]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(b[:])
}

// bareHandoff is one validated form submission.
type bareHandoff struct {
	CustomerID   string // empty: a new customer
	Name, Email  string
	Message      string
	SubmissionID string // idempotency key; may be empty
	Custom       string // JSON object of attributes
	Context      string // JSON object of page context
}

// handoff runs the hand-off transaction: find a retry by submission id,
// create or update the customer, create the conversation, take seq 1 and
// insert the first message.
func (s *bareStore) handoff(ctx context.Context, in bareHandoff) (convID, customerID string, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", "", err
	}
	defer tx.Rollback()
	if in.SubmissionID != "" {
		err := tx.StmtContext(ctx, s.findRef).QueryRowContext(ctx, in.SubmissionID).Scan(&convID, &customerID)
		if err == nil {
			return convID, customerID, tx.Commit()
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", "", err
		}
	}
	now := time.Now().UnixMilli()
	customerID = in.CustomerID
	emails := `["` + in.Email + `"]`
	var name, have string
	found := false
	if customerID != "" {
		err := tx.StmtContext(ctx, s.findCustomer).QueryRowContext(ctx, customerID).Scan(&name, &have)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, sql.ErrNoRows):
			return "", "", err
		}
	} else {
		customerID = newBareID()
	}
	if found {
		_, err = tx.StmtContext(ctx, s.updCustomer).ExecContext(ctx, in.Name, emails, now, customerID)
	} else {
		_, err = tx.StmtContext(ctx, s.insCustomer).ExecContext(ctx, customerID, in.Name, emails, now, now)
	}
	if err != nil {
		return "", "", err
	}
	convID = newBareID()
	var ref any
	if in.SubmissionID != "" {
		ref = in.SubmissionID
	}
	preview := in.Message
	if len(preview) > 140 {
		preview = preview[:140]
	}
	if _, err := tx.StmtContext(ctx, s.insConv).ExecContext(ctx, convID, customerID, "contact", ref, now, now, now, preview, in.Custom, in.Context); err != nil {
		return "", "", err
	}
	var seq int64
	if err := tx.StmtContext(ctx, s.bumpSeq).QueryRowContext(ctx, now, now, preview, convID).Scan(&seq); err != nil {
		return "", "", err
	}
	if _, err := tx.StmtContext(ctx, s.insMsg).ExecContext(ctx, newBareID(), convID, seq, in.Message, "in", "customer", in.Name, ref, now); err != nil {
		return "", "", err
	}
	return convID, customerID, tx.Commit()
}

// bareMsg is one message to append.
type bareMsg struct {
	ConversationID, ClientID, Body string
	Direction, AuthorType, Author  string
}

// appendMessages appends msgs in one transaction, each the way the server
// appends a message: an idempotency lookup by client id, the ended check,
// the seq bump and the insert.
func (s *bareStore) appendMessages(ctx context.Context, msgs []bareMsg) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	findMsg, endedAt := tx.StmtContext(ctx, s.findMsg), tx.StmtContext(ctx, s.endedAt)
	bump, ins := tx.StmtContext(ctx, s.bumpSeq), tx.StmtContext(ctx, s.insMsg)
	now := time.Now().UnixMilli()
	for _, m := range msgs {
		var seq int64
		err := findMsg.QueryRowContext(ctx, m.ConversationID, m.ClientID).Scan(&seq)
		if err == nil {
			continue // a retry: already stored
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var ended sql.NullInt64
		if err := endedAt.QueryRowContext(ctx, m.ConversationID).Scan(&ended); err != nil {
			return err
		}
		if ended.Valid {
			return errors.New("conversation ended")
		}
		preview := m.Body
		if len(preview) > 140 {
			preview = preview[:140]
		}
		if err := bump.QueryRowContext(ctx, now, now, preview, m.ConversationID).Scan(&seq); err != nil {
			return err
		}
		if _, err := ins.ExecContext(ctx, newBareID(), m.ConversationID, seq, m.Body, m.Direction, m.AuthorType, m.Author, m.ClientID, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// bareSQLResult is what the bare SQLite loop measured.
type bareSQLResult struct {
	HandoffTxPerSec  float64 `json:"handoffTxPerSec"`
	MessageTxPerSec  float64 `json:"messageTxPerSec"` // one message per transaction
	GroupMsgsPerSec  float64 `json:"groupMsgsPerSec"` // GroupSize messages per transaction
	GroupSize        int     `json:"groupSize"`
	HandoffTx        int     `json:"handoffTx"`
	MessageTx        int     `json:"messageTx"`
	GroupMessages    int     `json:"groupMessages"`
	Conversations    int     `json:"conversations"`
	SecondsPerPhase  float64 `json:"secondsPerPhase"`
	MessageBodyBytes int     `json:"messageBodyBytes"`
}

// benchBody is a chat message body of a typical length.
func benchBody(tag string) string {
	return "Thanks, could you tell me when the parcel will arrive? I am at home all week. [" + tag + "]"
}

// runBareSQL measures the bare SQLite loop in this process: hand-off
// transactions, message transactions one message each, and message
// transactions of groupSize messages (the group-commit reference), each for
// d, spreading messages over convs conversations.
func runBareSQL(ctx context.Context, path string, d time.Duration, convs, groupSize int) (bareSQLResult, error) {
	res := bareSQLResult{GroupSize: groupSize, Conversations: convs, SecondsPerPhase: d.Seconds(), MessageBodyBytes: len(benchBody("c0-0"))}
	s, err := openBare(ctx, path)
	if err != nil {
		return res, err
	}
	defer func() { _ = s.Close() }()
	var ids []string
	start := time.Now()
	for i := 0; time.Since(start) < d && ctx.Err() == nil; i++ {
		v := formValues(i, nil)
		id, _, err := s.handoff(ctx, bareHandoff{
			Name: v.Get("name"), Email: v.Get("email"), Message: v.Get("message"), SubmissionID: newBareID(),
			Custom:  `{"topicStr":"order","orderNumberStr":"` + v.Get("orderNumber") + `"}`,
			Context: `{"referrer":"http://127.0.0.1/","userAgent":"Go-http-client/1.1","locale":"en-GB"}`,
		})
		if err != nil {
			return res, fmt.Errorf("bare hand-off: %w", err)
		}
		if len(ids) < convs {
			ids = append(ids, id)
		}
		res.HandoffTx++
	}
	res.HandoffTxPerSec = perSecond(res.HandoffTx, time.Since(start))
	if len(ids) == 0 {
		return res, ctx.Err()
	}
	res.Conversations = len(ids)

	n := 0
	msg := func() bareMsg {
		n++
		tag := fmt.Sprintf("m%d", n)
		return bareMsg{ConversationID: ids[n%len(ids)], ClientID: tag, Body: benchBody(tag), Direction: "in", AuthorType: "customer", Author: "Bench Customer"}
	}
	start = time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if err := s.appendMessages(ctx, []bareMsg{msg()}); err != nil {
			return res, fmt.Errorf("bare message: %w", err)
		}
		res.MessageTx++
	}
	res.MessageTxPerSec = perSecond(res.MessageTx, time.Since(start))

	batch := make([]bareMsg, groupSize)
	start = time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		for i := range batch {
			batch[i] = msg()
		}
		if err := s.appendMessages(ctx, batch); err != nil {
			return res, fmt.Errorf("bare group commit: %w", err)
		}
		res.GroupMessages += groupSize
	}
	res.GroupMsgsPerSec = perSecond(res.GroupMessages, time.Since(start))
	return res, nil
}
