package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

// The tests below run two stores on one PostgreSQL schema: two instances of
// handoff sharing a database. Correctness across them must come from the
// database (row locks, unique constraints), since each has its own
// committer.

var pgT0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// openPG opens a store on the PostgreSQL database at url and closes it
// when the test ends.
func openPG(t testing.TB, url string) *Store {
	t.Helper()
	s, err := OpenPostgres(t.Context(), url, PostgresOptions{})
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// twoInstances opens two stores on one fresh schema.
func twoInstances(t *testing.T) (*Store, *Store) {
	t.Helper()
	url := sqlstoretest.PostgresURL(t)
	return openPG(t, url), openPG(t, url)
}

// newConversation stores a conversation with its first message (seq 1) and
// returns its id.
func newConversation(t testing.TB, s *Store) string {
	t.Helper()
	custID, convID := kustomer.NewID(), kustomer.NewID()
	_, _, _, err := s.CreateConversation(t.Context(), kustomer.NewConversation{
		Customer: kustomer.Customer{ID: custID, CreatedAt: pgT0, UpdatedAt: pgT0},
		Conversation: kustomer.Conversation{ID: convID, CustomerID: custID, FormID: "contact",
			CreatedAt: pgT0, UpdatedAt: pgT0, LastMessageAt: pgT0, Preview: "hello"},
		First: kustomer.Message{ID: kustomer.NewID(), ConversationID: convID, Body: "hello", Direction: kustomer.DirectionIn,
			CreatedAt: pgT0, SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: custID}},
	})
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	return convID
}

func customerMessage(convID, clientID, body string) kustomer.NewMessage {
	return kustomer.NewMessage{Message: kustomer.Message{ID: kustomer.NewID(), ConversationID: convID, Body: body,
		Direction: kustomer.DirectionIn, CreatedAt: pgT0, ClientMessageID: clientID,
		SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: "c"}}, Preview: body}
}

// TestPostgresMigrateTogether opens four stores on a fresh schema at once,
// as instances started together do: the advisory lock lets one migrate
// while the others wait, and each migration is applied once.
func TestPostgresMigrateTogether(t *testing.T) {
	url := sqlstoretest.PostgresURL(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(t.Context(), url, PostgresOptions{}) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("store %d: %v", i, errs[i])
			continue
		}
		defer s.Close()
	}
	if t.Failed() {
		return
	}
	rows, err := stores[0].r.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	names, _ := migrations.ReadDir("migrations")
	if len(got) != len(names) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("schema_migrations = %v, want each of the %d migrations once", got, len(names))
	}
	// Every store works on the migrated schema.
	for i, s := range stores {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("store %d: Ping: %v", i, err)
		}
	}
	newConversation(t, stores[n-1])
}

// TestPostgresSeqsAcrossInstances: 20 writers spread over two instances
// append to the same five conversations, each in its own random order, so
// that the instances' batches lock the conversations in different orders.
// Every conversation's seqs must be 1…n without gaps or repeats, every
// append must succeed, and each writer must get back the seq it was
// stored with.
func TestPostgresSeqsAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	const convs, writers, perWriter = 5, 20, 25
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = newConversation(t, a)
	}
	var mu sync.Mutex
	got := map[string]map[int64]string{} // conversation → seq → message id
	var wg sync.WaitGroup
	for w := range writers {
		s := []*Store{a, b}[w%2]
		wg.Go(func() {
			for i := range perWriter {
				conv := ids[rand.IntN(convs)]
				m, _, err := s.AppendMessage(t.Context(), customerMessage(conv, fmt.Sprintf("w%d-%d", w, i), "hi"))
				if err != nil {
					t.Errorf("writer %d: AppendMessage: %v", w, err)
					return
				}
				mu.Lock()
				if got[conv] == nil {
					got[conv] = map[int64]string{}
				}
				if prev, dup := got[conv][m.Seq]; dup {
					t.Errorf("conversation %s: seq %d answered twice (%s, %s)", conv, m.Seq, prev, m.ID)
				}
				got[conv][m.Seq] = m.ID
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	total := 1 // each conversation's first message
	for _, conv := range ids {
		msgs, err := a.Messages(t.Context(), conv, kustomer.MessageQuery{Max: writers * perWriter * 2})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("conversation %s: message %d has seq %d: seqs %v", conv, i, m.Seq, seqsOf(msgs))
			}
			if i > 0 && got[conv][m.Seq] != m.ID {
				t.Errorf("conversation %s: seq %d stored %s, answered %s", conv, m.Seq, m.ID, got[conv][m.Seq])
			}
		}
		c, err := b.Conversation(t.Context(), conv)
		if err != nil {
			t.Fatal(err)
		}
		if c.LastSeq != int64(len(msgs)) {
			t.Errorf("conversation %s: last seq %d, %d messages", conv, c.LastSeq, len(msgs))
		}
		total += len(msgs) - 1
	}
	if want := 1 + writers*perWriter; total != want {
		t.Errorf("%d messages stored, want %d", total, want)
	}
	// Each instance sorts its batches by conversation, so they wait for
	// each other's commits and never deadlock (a deadlock costs a second:
	// PostgreSQL's deadlock_timeout).
	if n := a.batchRetries.Load() + b.batchRetries.Load(); n != 0 {
		t.Errorf("%d batches deadlocked and ran again, want 0", n)
	}
	t.Logf("commits: %d + %d", a.commits.Load(), b.commits.Load())
}

func seqsOf(msgs []kustomer.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// TestPostgresIdempotentSendAcrossInstances sends the same clientMessageId
// through both instances at once, many times: each time one message is
// stored, and both senders are answered with it.
func TestPostgresIdempotentSendAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	conv := newConversation(t, a)
	const rounds, perInstance = 30, 3
	for r := range rounds {
		clientID := fmt.Sprint("retry-", r)
		type answer struct {
			m       kustomer.Message
			created bool
			err     error
		}
		answers := make([]answer, 2*perInstance)
		var wg sync.WaitGroup
		for i := range answers {
			s := []*Store{a, b}[i%2]
			wg.Go(func() {
				// Each retry carries a new message id, as a resent frame does.
				m, created, err := s.AppendMessage(t.Context(), customerMessage(conv, clientID, clientID))
				answers[i] = answer{m, created, err}
			})
		}
		wg.Wait()
		created := 0
		for i, an := range answers {
			if an.err != nil {
				t.Fatalf("round %d, sender %d: %v", r, i, an.err)
			}
			if an.created {
				created++
			}
			if an.m.ID != answers[0].m.ID || an.m.Seq != answers[0].m.Seq || an.m.ClientMessageID != clientID {
				t.Errorf("round %d: sender %d answered %s (seq %d), sender 0 %s (seq %d)", r, i, an.m.ID, an.m.Seq, answers[0].m.ID, answers[0].m.Seq)
			}
		}
		if created != 1 {
			t.Errorf("round %d: %d senders were told they created the message, want 1", r, created)
		}
	}
	msgs, err := b.Messages(t.Context(), conv, kustomer.MessageQuery{Max: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1+rounds {
		t.Errorf("%d messages stored, want %d: seqs %v", len(msgs), 1+rounds, seqsOf(msgs))
	}
}

// TestPostgresUseOnceAcrossInstances presents each single-use key through
// both instances at once: exactly one use wins.
func TestPostgresUseOnceAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	const rounds, perInstance = 30, 3
	for r := range rounds {
		key := fmt.Sprint("token-", r)
		errs := make([]error, 2*perInstance)
		var wg sync.WaitGroup
		for i := range errs {
			s := []*Store{a, b}[i%2]
			wg.Go(func() { errs[i] = s.UseOnce(t.Context(), key, pgT0.Add(time.Hour), pgT0) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, kustomer.ErrAlreadyUsed):
				t.Errorf("round %d, use %d: %v", r, i, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d uses of one key succeeded, want 1", r, won)
		}
	}
}

// TestPostgresAssistantTurnAcrossInstances applies two turns computed from
// the same state through both instances at once: the compare-and-swap lets
// exactly one through, and only its message is stored.
func TestPostgresAssistantTurnAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	conv := newConversation(t, a)
	state := json.RawMessage(nil)
	for r := range 20 {
		next := json.RawMessage(fmt.Sprintf(`{"step":%d}`, r))
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range []*Store{a, b} {
			wg.Go(func() {
				msg := kustomer.NewMessage{Message: kustomer.Message{ID: kustomer.NewID(), ConversationID: conv, Body: "answer",
					Direction: kustomer.DirectionOut, CreatedAt: pgT0, SentBy: kustomer.Author{Type: kustomer.AuthorAssistant, ID: "greeter"}}}
				_, _, errs[i] = s.ApplyAssistantTurn(t.Context(), conv, kustomer.AssistantApply{
					ExpectState: state, State: next, Messages: []kustomer.NewMessage{msg}, At: pgT0})
			})
		}
		wg.Wait()
		applied := 0
		for i, err := range errs {
			switch {
			case err == nil:
				applied++
			case !errors.Is(err, kustomer.ErrStaleAnswer):
				t.Fatalf("round %d, instance %d: %v", r, i, err)
			}
		}
		if applied != 1 {
			t.Fatalf("round %d: %d turns from one state applied, want 1", r, applied)
		}
		state = next
	}
	c, err := b.Conversation(t.Context(), conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeq != 21 || string(c.AssistantState) != string(state) {
		t.Errorf("last seq %d, state %s; want 21, %s", c.LastSeq, c.AssistantState, state)
	}
}

// TestPostgresDeadlockRunsBatchAgain makes two instances' batches deadlock
// for certain: each locks one conversation, waits until the other has
// locked the other one, then asks for it. PostgreSQL aborts one; its batch
// must be run again, and both writes must succeed.
func TestPostgresDeadlockRunsBatchAgain(t *testing.T) {
	a, b := twoInstances(t)
	x, y := newConversation(t, a), newConversation(t, a)
	var locked sync.WaitGroup
	locked.Add(2)
	touch := func(ctx context.Context, tx *sql.Tx, id string) error {
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = updated_at + 1 WHERE id = $1`, id)
		return err
	}
	write := func(s *Store, first, second string) error {
		attempt := 0
		return s.tx(t.Context(), "w", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
			attempt++
			if err := touch(ctx, tx, first); err != nil {
				return err
			}
			if attempt == 1 {
				locked.Done()
				locked.Wait()
			}
			return touch(ctx, tx, second)
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = write(a, x, y) })
	wg.Go(func() { errs[1] = write(b, y, x) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if n := a.batchRetries.Load() + b.batchRetries.Load(); n != 1 {
		t.Errorf("%d batches run again, want 1 (the one PostgreSQL aborted)", n)
	}
	for _, id := range []string{x, y} {
		var updated int64
		if err := a.r.QueryRowContext(t.Context(), `SELECT updated_at FROM conversations WHERE id = $1`, id).Scan(&updated); err != nil {
			t.Fatal(err)
		}
		if want := pgT0.UnixMilli() + 2; updated != want {
			t.Errorf("conversation %s: updated_at %d, want %d: both writes once", id, updated, want)
		}
	}
}

// TestPostgresRunAgainResetsResults: a batch that deadlocks after an
// assistant turn has run in it is run again, turn included; the turn's
// caller must hear of the messages stored once, not of both runs.
func TestPostgresRunAgainResetsResults(t *testing.T) {
	a, b := twoInstances(t)
	x, y := newConversation(t, a), newConversation(t, a)
	var locked sync.WaitGroup
	locked.Add(2)
	// deadlock is a write that locks first, then second, meeting the
	// other instance's write in between the first time it runs.
	deadlock := func(first, second string) func(context.Context, *sql.Tx) error {
		attempt := 0
		return func(ctx context.Context, tx *sql.Tx) error {
			attempt++
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = updated_at + 1 WHERE id = $1`, first); err != nil {
				return err
			}
			if attempt == 1 {
				locked.Done()
				locked.Wait()
			}
			_, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = updated_at + 1 WHERE id = $1`, second)
			return err
		}
	}
	type result struct {
		msgs []kustomer.Message
		err  error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	var releases []chan struct{}
	for i, s := range []*Store{a, b} {
		conv := newConversation(t, s)
		first, second := x, y
		if i == 1 {
			first, second = y, x
		}
		// Hold the committer so that the turn and the deadlocking write
		// are queued together and share the next batch.
		release := make(chan struct{})
		releases = append(releases, release)
		holding := make(chan struct{})
		wg.Go(func() {
			if err := s.tx(t.Context(), "gate", lockKey{}, func(context.Context, *sql.Tx) error {
				close(holding)
				<-release
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
		<-holding
		wg.Go(func() {
			msg := kustomer.NewMessage{Message: kustomer.Message{ID: kustomer.NewID(), ConversationID: conv, Body: "answer",
				Direction: kustomer.DirectionOut, CreatedAt: pgT0, SentBy: kustomer.Author{Type: kustomer.AuthorAssistant, ID: "greeter"}}}
			_, msgs, err := s.ApplyAssistantTurn(t.Context(), conv, kustomer.AssistantApply{
				State: json.RawMessage(`{"step":1}`), Messages: []kustomer.NewMessage{msg}, At: pgT0})
			results[i] = result{msgs, err}
		})
		// A zero key would sort first: kind 'z' runs it after the turn.
		wg.Go(func() {
			if err := s.tx(t.Context(), "deadlock", lockKey{'z', ""}, deadlock(first, second)); err != nil {
				t.Errorf("instance %d: deadlocking write: %v", i, err)
			}
		})
		deadline := time.Now().Add(10 * time.Second)
		for len(s.writes) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("instance %d: %d writes queued, want 2", i, len(s.writes))
			}
			time.Sleep(time.Millisecond)
		}
	}
	for _, r := range releases {
		close(r)
	}
	wg.Wait()
	if n := a.batchRetries.Load() + b.batchRetries.Load(); n != 1 {
		t.Fatalf("%d batches run again, want 1", n)
	}
	for i, r := range results {
		if r.err != nil {
			t.Errorf("instance %d: ApplyAssistantTurn: %v", i, r.err)
			continue
		}
		if len(r.msgs) != 1 || r.msgs[0].Seq != 2 {
			t.Errorf("instance %d: ApplyAssistantTurn answered %d messages (seqs %v), want the one stored, seq 2", i, len(r.msgs), seqsOf(r.msgs))
		}
	}
}

// TestPostgresClaimOutboxAcrossInstances claims one backlog from two
// instances at once: SKIP LOCKED gives every row to exactly one of them.
func TestPostgresClaimOutboxAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	const rows = 60
	var items []kustomer.OutboxItem
	for i := range rows {
		items = append(items, kustomer.OutboxItem{Kind: kustomer.OutboxFollowUp, Key: fmt.Sprint("row-", i), DueAt: pgT0})
	}
	if _, err := a.Enqueue(t.Context(), items...); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]int{}
	)
	for i := range 6 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			for {
				got, err := s.ClaimOutbox(t.Context(), kustomer.OutboxFollowUp, pgT0, time.Hour, 2)
				if err != nil {
					t.Errorf("ClaimOutbox: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, it := range got {
					seen[it.Key]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != rows {
		t.Errorf("claimed %d distinct rows, want %d", len(seen), rows)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
}

// TestPostgresPipelinedBatch queues sends behind a held write so that they
// commit as one batch, sent in one round trip: first sends that all
// succeed, then sends among which some must fail (an ended conversation, an
// unknown one, a resent clientMessageId). The failing ones get their own
// answers and nothing of them is stored; the others commit with gap-free
// seqs.
func TestPostgresPipelinedBatch(t *testing.T) {
	s := openPG(t, sqlstoretest.PostgresURL(t))
	ctx := t.Context()
	open, ended := newConversation(t, s), newConversation(t, s)
	if _, _, err := s.AppendMessage(ctx, customerMessage(open, "sent-before", "hi")); err != nil {
		t.Fatal(err)
	}
	end := kustomer.NewMessage{Message: kustomer.Message{ID: kustomer.NewID(), ConversationID: ended, Body: "ended",
		Direction: kustomer.DirectionOut, CreatedAt: pgT0, SentBy: kustomer.Author{Type: kustomer.AuthorSystem}}}
	if _, _, _, err := s.EndConversation(ctx, ended, kustomer.Author{Type: kustomer.AuthorSystem}, pgT0, end); err != nil {
		t.Fatal(err)
	}

	// batch holds the committer, queues sends, and lets them go together.
	batch := func(sends []kustomer.NewMessage) ([]kustomer.Message, []bool, []error) {
		t.Helper()
		release, holding := make(chan struct{}), make(chan struct{})
		held := make(chan error, 1)
		go func() {
			held <- s.tx(ctx, "hold", lockKey{}, func(context.Context, *sql.Tx) error {
				close(holding)
				<-release
				return nil
			})
		}()
		<-holding
		msgs, created, errs := make([]kustomer.Message, len(sends)), make([]bool, len(sends)), make([]error, len(sends))
		var wg sync.WaitGroup
		for i, m := range sends {
			wg.Go(func() { msgs[i], created[i], errs[i] = s.AppendMessage(ctx, m) })
		}
		for deadline := time.Now().Add(10 * time.Second); len(s.writes) < len(sends); {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d sends queued", len(s.writes), len(sends))
			}
			time.Sleep(time.Millisecond)
		}
		close(release)
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		return msgs, created, errs
	}

	var sends []kustomer.NewMessage
	for i := range 10 {
		sends = append(sends, customerMessage(open, fmt.Sprint("ok-", i), "hi"))
	}
	before := s.pipelinedCommits.Load()
	_, _, errs := batch(sends)
	for i, err := range errs {
		if err != nil {
			t.Errorf("send %d: %v", i, err)
		}
	}
	if n := s.pipelinedCommits.Load() - before; n != 1 {
		t.Errorf("%d batches committed in one round trip, want 1: the ten sends", n)
	}
	if n := s.isolatedRuns.Load(); n != 0 {
		t.Errorf("%d batches run again with savepoints, want 0", n)
	}

	sends = sends[:0]
	for i := range 5 {
		sends = append(sends, customerMessage(open, fmt.Sprint("more-", i), "hi"))
	}
	sends = append(sends,
		customerMessage(ended, "late", "too late"),
		customerMessage(kustomer.NewID(), "nowhere", "hello?"),
		customerMessage(open, "sent-before", "hi"))
	msgs, created, errs := batch(sends)
	for i := range 5 {
		if errs[i] != nil || !created[i] {
			t.Errorf("send %d: created %v, %v", i, created[i], errs[i])
		}
	}
	var conflict *kustomer.ConflictError
	if !errors.As(errs[5], &conflict) || conflict.Code != "conversation_ended" {
		t.Errorf("send to the ended conversation: %v, want conversation_ended", errs[5])
	}
	if !errors.Is(errs[6], kustomer.ErrNotFound) {
		t.Errorf("send to an unknown conversation: %v, want not found", errs[6])
	}
	if errs[7] != nil || created[7] || msgs[7].Seq != 2 {
		t.Errorf("resend: seq %d created %v, %v; want the stored seq 2, not created", msgs[7].Seq, created[7], errs[7])
	}
	if n := s.isolatedRuns.Load(); n != 1 {
		t.Errorf("%d batches run again with savepoints, want 1", n)
	}
	got, err := s.Messages(ctx, open, kustomer.MessageQuery{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}; !slices.Equal(seqsOf(got), want) {
		t.Errorf("seqs %v, want %v", seqsOf(got), want)
	}
	if got, err := s.Messages(ctx, ended, kustomer.MessageQuery{Max: 100}); err != nil || len(got) != 2 {
		t.Errorf("ended conversation: %d messages (%v), want 2: the first and the end", len(got), err)
	}
}

// TestPostgresConversationWords: every indexing pass adds a row of a
// conversation's new words, and once a conversation has wordsRows of them
// they are merged into one; a search finds the words of its first message
// and of its last, on both instances.
func TestPostgresConversationWords(t *testing.T) {
	a, b := twoInstances(t)
	ctx := t.Context()
	conv := newConversation(t, a)
	for i := range 3 * wordsRows {
		s := a
		if i%2 == 1 {
			s = b
		}
		if _, _, err := s.AppendMessage(ctx, customerMessage(conv, fmt.Sprintf("m%d", i), fmt.Sprintf("word%d", i))); err != nil {
			t.Fatal(err)
		}
		if err := s.indexPending(ctx); err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := a.read().QueryRowContext(ctx, `SELECT COUNT(*) FROM conversation_words WHERE conversation_id = ?`, conv).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows < 1 || rows > wordsRows {
			t.Fatalf("after message %d: %d rows of words, want 1 to %d", i, rows, wordsRows)
		}
	}
	for _, word := range []string{"hello", "word0", fmt.Sprintf("word%d", 3*wordsRows-1)} {
		for name, s := range map[string]*Store{"a": a, "b": b} {
			got, n, err := s.Conversations(ctx, kustomer.ConversationFilter{Terms: []string{word}}, 0, 10)
			if err != nil || n != 1 || len(got) != 1 || got[0].ID != conv {
				t.Errorf("instance %s, search %q: %d found, %v", name, word, n, err)
			}
		}
	}
	var pending int
	if err := a.read().QueryRowContext(ctx, `SELECT COUNT(*) FROM search_log`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("search_log rows left: %d, %v", pending, err)
	}
}
