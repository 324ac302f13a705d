package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPostgresURL is the PostgreSQL server the postgres scenario uses
// when neither -postgres nor HANDOFF_BENCH_POSTGRES_URL says otherwise: a
// URL of a database the bench may connect to in order to create and drop
// its own.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// pgAdmin creates fresh databases on one PostgreSQL server for a run and
// drops them all at the end.
type pgAdmin struct {
	url     *url.URL // the administrative connection's URL
	conn    *pgx.Conn
	created []string
}

// openPGAdmin connects to the PostgreSQL server at rawURL, giving up after
// 5 s unless the URL sets connect_timeout.
func openPGAdmin(ctx context.Context, rawURL string) (*pgAdmin, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("want a postgres:// URL")
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return &pgAdmin{url: u, conn: conn}, nil
}

// create makes a fresh, empty database named handoff_bench_<random>_<suffix>
// and returns its URL and name.
func (a *pgAdmin) create(ctx context.Context, suffix string) (dbURL, name string, err error) {
	var b [4]byte
	rand.Read(b[:])
	name = "handoff_bench_" + hex.EncodeToString(b[:]) + "_" + suffix
	if _, err := a.conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	a.created = append(a.created, name)
	u := *a.url
	u.Path = "/" + name
	return u.String(), name, nil
}

// pgBackendTicks is the CPU time, in clock ticks, of each PostgreSQL
// backend process on this machine serving database db, by pid. A backend's
// process title is "postgres: <cluster>: <user> <database> <client> <state>".
func pgBackendTicks(db string) map[int]uint64 {
	out := map[int]uint64{}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.HasPrefix(b, []byte("postgres: ")) || !bytes.Contains(b, []byte(" "+db+" ")) {
			continue
		}
		if t, err := procCPU(pid); err == nil {
			out[pid] = t
		}
	}
	return out
}

// startPGCPU starts measuring the CPU that PostgreSQL's backends serving
// database db use (those that still run when it ends: a backend that exits
// in between takes its time with it). The returned function ends the
// measurement with the clock ticks used and the CPUs kept busy.
func startPGCPU(db string) func() (ticks uint64, cpus float64) {
	start, before := time.Now(), pgBackendTicks(db)
	return func() (uint64, float64) {
		var sum uint64
		for pid, t := range pgBackendTicks(db) {
			if t >= before[pid] {
				sum += t - before[pid]
			}
		}
		el := time.Since(start).Seconds()
		if el <= 0 {
			return sum, 0
		}
		return sum, float64(sum) / clockTicks / el
	}
}

// close drops every database created (disconnecting whoever is left on
// them) and closes the connection.
func (a *pgAdmin) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, name := range a.created {
		if _, err := a.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	errs = append(errs, a.conn.Close(ctx))
	return errors.Join(errs...)
}

// barePGStatements are the bare SQLite loop's message statements in
// PostgreSQL's spelling, prepared once on the connection.
var barePGStatements = map[string]string{
	"find_msg": `SELECT seq FROM messages WHERE conversation_id = $1 AND client_message_id = $2`,
	"ended_at": `SELECT ended_at FROM conversations WHERE id = $1`,
	"bump_seq": `UPDATE conversations SET last_seq = last_seq + 1, updated_at = $1, last_message_at = $2, preview = $3 WHERE id = $4 RETURNING last_seq`,
	"ins_msg": `INSERT INTO messages (id, conversation_id, seq, body, direction, author_type, author_name, client_message_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
	"ins_customer": `INSERT INTO customers (id, name, emails, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
	"ins_conv": `INSERT INTO conversations (id, customer_id, form_id, client_ref, created_at, updated_at, last_message_at, preview, custom, context, last_seq)
		VALUES ($1, $2, 'contact', $3, $4, $4, $4, '', '{}', '{}', 0)`,
}

// barePGAppend appends msgs in one transaction on conn the way the bare
// SQLite loop does: per message an idempotency lookup by client id, the
// ended check, the seq bump and the insert, each a prepared statement.
func barePGAppend(ctx context.Context, conn *pgx.Conn, msgs []bareMsg) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := time.Now().UnixMilli()
	for _, m := range msgs {
		var seq int64
		err := tx.QueryRow(ctx, "find_msg", m.ConversationID, m.ClientID).Scan(&seq)
		if err == nil {
			continue // a retry: already stored
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var ended *int64
		if err := tx.QueryRow(ctx, "ended_at", m.ConversationID).Scan(&ended); err != nil {
			return err
		}
		if ended != nil {
			return errors.New("conversation ended")
		}
		preview := m.Body
		if len(preview) > 140 {
			preview = preview[:140]
		}
		if err := tx.QueryRow(ctx, "bump_seq", now, now, preview, m.ConversationID).Scan(&seq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "ins_msg", newBareID(), m.ConversationID, seq, m.Body, m.Direction, m.AuthorType, m.Author, m.ClientID, now); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// barePGInsert inserts msgs as message rows in one transaction on conn, a
// prepared INSERT each, with the seqs given: the bare insert loop.
func barePGInsert(ctx context.Context, conn *pgx.Conn, msgs []bareMsg, seqs []int64) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := time.Now().UnixMilli()
	for i, m := range msgs {
		if _, err := tx.Exec(ctx, "ins_msg", newBareID(), m.ConversationID, seqs[i], m.Body, m.Direction, m.AuthorType, m.Author, m.ClientID, now); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// barePGResult is what the bare pgx loops measured: rows per second with
// one row (or message) per transaction and with GroupSize.
type barePGResult struct {
	InsertTxPerSec   float64 `json:"insertTxPerSec"`   // INSERT only, one row per transaction
	InsertRowsPerSec float64 `json:"insertRowsPerSec"` // INSERT only, GroupSize rows per transaction
	MessageTxPerSec  float64 `json:"messageTxPerSec"`  // the four message statements, one message per transaction
	GroupMsgsPerSec  float64 `json:"groupMsgsPerSec"`  // the same, GroupSize messages per transaction
	GroupSize        int     `json:"groupSize"`
	Conversations    int     `json:"conversations"`
	SecondsPerPhase  float64 `json:"secondsPerPhase"`
}

// runBarePG measures the bare pgx loops on the empty database at dbURL, on
// one connection with prepared statements, in the bare SQLite loop's tables
// (BIGINT for its integers) with convs conversations: message rows
// inserted with nothing else, one per transaction and groupSize per
// transaction; then messages appended the way the bare SQLite loop appends
// them (lookup, ended check, seq bump, insert), one and groupSize per
// transaction. Each phase runs for d.
func runBarePG(ctx context.Context, dbURL string, d time.Duration, convs, groupSize int) (barePGResult, error) {
	res := barePGResult{GroupSize: groupSize, SecondsPerPhase: d.Seconds()}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer conn.Close(context.Background())
	for _, stmt := range bareSchema {
		if _, err := conn.Exec(ctx, strings.ReplaceAll(stmt, "INTEGER", "BIGINT")); err != nil {
			return res, fmt.Errorf("bare schema: %w", err)
		}
	}
	for name, q := range barePGStatements {
		if _, err := conn.Prepare(ctx, name, q); err != nil {
			return res, fmt.Errorf("bare prepare %s: %w", name, err)
		}
	}
	// The insert loop takes seqs itself, in conversations of its own; the
	// append loop's come from the conversation rows.
	newConvs := func() ([]string, error) {
		ids := make([]string, convs)
		now := time.Now().UnixMilli()
		for i := range ids {
			ids[i] = newBareID()
			cust := newBareID()
			if _, err := conn.Exec(ctx, "ins_customer", cust, fmt.Sprintf("Bench Customer %d", i), `["bench@example.com"]`, now, now); err != nil {
				return nil, err
			}
			if _, err := conn.Exec(ctx, "ins_conv", ids[i], cust, newBareID(), now); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}
	insertIDs, err := newConvs()
	if err != nil {
		return res, err
	}
	appendIDs, err := newConvs()
	if err != nil {
		return res, err
	}
	res.Conversations = convs

	n := 0
	msg := func(ids []string) bareMsg {
		n++
		tag := fmt.Sprintf("m%d", n)
		return bareMsg{ConversationID: ids[n%len(ids)], ClientID: tag, Body: benchBody(tag), Direction: "in", AuthorType: "customer", Author: "Bench Customer"}
	}
	// phase runs fn on batches of size messages for d and returns messages
	// per second.
	phase := func(size int, fn func([]bareMsg) error) (float64, error) {
		batch := make([]bareMsg, size)
		done := 0
		start := time.Now()
		for time.Since(start) < d && ctx.Err() == nil {
			if err := fn(batch); err != nil {
				return 0, err
			}
			done += size
		}
		return perSecond(done, time.Since(start)), ctx.Err()
	}
	lastSeq := map[string]int64{}
	insert := func(batch []bareMsg) error {
		seqs := make([]int64, len(batch))
		for i := range batch {
			batch[i] = msg(insertIDs)
			lastSeq[batch[i].ConversationID]++
			seqs[i] = lastSeq[batch[i].ConversationID]
		}
		return barePGInsert(ctx, conn, batch, seqs)
	}
	appendMsgs := func(batch []bareMsg) error {
		for i := range batch {
			batch[i] = msg(appendIDs)
		}
		return barePGAppend(ctx, conn, batch)
	}
	if res.InsertTxPerSec, err = phase(1, insert); err != nil {
		return res, fmt.Errorf("bare insert: %w", err)
	}
	if res.InsertRowsPerSec, err = phase(groupSize, insert); err != nil {
		return res, fmt.Errorf("bare insert, %d per transaction: %w", groupSize, err)
	}
	if res.MessageTxPerSec, err = phase(1, appendMsgs); err != nil {
		return res, fmt.Errorf("bare message: %w", err)
	}
	if res.GroupMsgsPerSec, err = phase(groupSize, appendMsgs); err != nil {
		return res, fmt.Errorf("bare group commit: %w", err)
	}
	return res, nil
}

// bareNotifyResult is the bare NOTIFY→LISTEN round trip's outcome.
type bareNotifyResult struct {
	Rate       float64 `json:"ratePerSec"` // asked
	Sent       int     `json:"sent"`
	SentPerSec float64 `json:"sentPerSec"`
	Received   int64   `json:"received"`
	Latency    Summary `json:"latency"` // pg_notify called → notification read on the other connection
}

// bareNotifyChannel is the reference's channel, apart from the servers'.
const bareNotifyChannel = "handoff_bench_bare"

// runBareNotify sends one NOTIFY per event at rate a second for d, each by
// SELECT pg_notify on one connection with a payload shaped like the
// broker's (one message event), and times its arrival on a second
// connection that LISTENs.
func runBareNotify(ctx context.Context, dbURL string, rate float64, d time.Duration) (bareNotifyResult, error) {
	res := bareNotifyResult{Rate: rate}
	listener, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer listener.Close(context.Background())
	sender, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer sender.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN "+bareNotifyChannel); err != nil {
		return res, err
	}
	// The payload is shaped like the broker's: the sender and one message
	// event (with the send time in nanoseconds).
	type bareNote struct {
		Type string `json:"t"`
		Conv string `json:"c"`
		Seq  int64  `json:"s"`
		At   int64  `json:"at"`
	}
	type barePayload struct {
		Instance string     `json:"i"`
		Notes    []bareNote `json:"n"`
	}
	var lat Recorder
	var received atomic.Int64
	lctx, stopListening := context.WithCancel(ctx)
	listened := make(chan error, 1)
	go func() {
		for {
			n, err := listener.WaitForNotification(lctx)
			if err != nil {
				listened <- err
				return
			}
			at := time.Now()
			var p barePayload
			if json.Unmarshal([]byte(n.Payload), &p) != nil || len(p.Notes) != 1 {
				continue
			}
			lat.Record(at.Sub(time.Unix(0, p.Notes[0].At)))
			received.Add(1)
		}
	}()

	start := time.Now()
	for i := 0; ; i++ {
		due := slot(start, i, rate)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		p := barePayload{Instance: "0123456789abcdef", Notes: []bareNote{{Type: "message.created", Conv: newBareID(), Seq: int64(i + 2), At: time.Now().UnixNano()}}}
		payload, _ := json.Marshal(p)
		if _, err := sender.Exec(ctx, "SELECT pg_notify($1, $2)", bareNotifyChannel, string(payload)); err != nil {
			stopListening()
			return res, errors.Join(fmt.Errorf("notify: %w", err), listenError(<-listened))
		}
		res.Sent++
	}
	res.SentPerSec = perSecond(res.Sent, time.Since(start))
	// Whatever is still on its way arrives within a second.
	deadline := time.Now().Add(time.Second)
	for received.Load() < int64(res.Sent) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stopListening()
	if err := listenError(<-listened); err != nil {
		return res, err
	}
	res.Received = received.Load()
	res.Latency = lat.Summary()
	return res, nil
}

// pgActivity counts what the backends serving one database were doing,
// sampled from pg_stat_activity: every non-idle backend once per sample,
// by state and wait event (e.g. "idle in transaction ClientRead": a
// transaction waiting for its client's next statement; "active
// Lock/transactionid": waiting for another transaction's row lock).
type pgActivity struct {
	Samples int            `json:"samples"`
	ByState map[string]int `json:"byState"`
}

// samplePGActivity samples pg_stat_activity for database db on its own
// connection every interval until the returned function is called, which
// returns the counts.
func samplePGActivity(ctx context.Context, a *pgAdmin, db string, every time.Duration) func() pgActivity {
	res := pgActivity{ByState: map[string]int{}}
	conn, err := pgx.Connect(ctx, a.url.String())
	if err != nil {
		return func() pgActivity { return res }
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close(context.Background())
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			rows, err := conn.Query(sctx, `SELECT state || coalesce(' ' || wait_event_type || '/' || wait_event, '')
				FROM pg_stat_activity WHERE datname = $1 AND state <> 'idle'`, db)
			if err == nil {
				states, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err == nil {
					res.Samples++
					for _, st := range states {
						res.ByState[st]++
					}
				}
			}
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() pgActivity {
		stop()
		<-done
		return res
	}
}

// top lists the n most frequent states with their share of all
// observations, e.g. "active Lock/transactionid 21%".
func (a pgActivity) top(n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	total := 0
	for k, v := range a.ByState {
		all = append(all, kv{k, v})
		total += v
	}
	if total == 0 {
		return "no samples"
	}
	slices.SortFunc(all, func(x, y kv) int { return cmp.Or(y.v-x.v, strings.Compare(x.k, y.k)) })
	var parts []string
	for _, e := range all[:min(n, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", e.k, 100*float64(e.v)/float64(total)))
	}
	return strings.Join(parts, ", ")
}

// pgDatabaseStats are PostgreSQL's counters for one database.
type pgDatabaseStats struct {
	Commits   int64 `json:"xactCommit"`
	Rollbacks int64 `json:"xactRollback"`
	Deadlocks int64 `json:"deadlocks"`
}

// stats reads database db's counters (pg_stat_database; its backends
// report them when they end or every second or so).
func (a *pgAdmin) stats(ctx context.Context, db string) (pgDatabaseStats, error) {
	var s pgDatabaseStats
	err := a.conn.QueryRow(ctx, `SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database WHERE datname = $1`, db).
		Scan(&s.Commits, &s.Rollbacks, &s.Deadlocks)
	return s, err
}

// probeRate is how often a probe beside the rooms run measures: often
// enough for a p99, too seldom to add load of its own worth counting.
const probeRate = 50

// probeResult is what bare round trips cost while the servers carry the
// rooms run: the floor under that load of the hops a delivery is made of.
type probeResult struct {
	Notify bareNotifyResult `json:"notify"` // NOTIFY→LISTEN, as runBareNotify
	Insert Summary          `json:"insertTx"`
}

// runProbes runs, side by side for d on the database at dbURL, the bare
// NOTIFY→LISTEN round trip and a bare one-row INSERT transaction (BEGIN,
// INSERT, COMMIT on one connection), each probeRate times a second.
func runProbes(ctx context.Context, dbURL string, d time.Duration) (probeResult, error) {
	var res probeResult
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS probe (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL)`); err != nil {
		return res, err
	}
	var nerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res.Notify, nerr = runBareNotify(ctx, dbURL, probeRate, d)
	}()
	var lat Recorder
	start := time.Now()
	for i := 0; ; i++ {
		due := slot(start, i, probeRate)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		t0 := time.Now()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO probe (at) VALUES ($1)`, t0.UnixNano())
			return err
		})
		if err != nil {
			<-done
			return res, fmt.Errorf("insert probe: %w", err)
		}
		lat.Record(time.Since(t0))
	}
	<-done
	res.Insert = lat.Summary()
	return res, nerr
}

// listenError is the listener's error once it was stopped: nil when it
// stopped because it was told to.
func listenError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("listen: %w", err)
}
