package kustomertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// followUp is an outbox row as the Engine writes it for a reply.
func followUp(convID, key string, due time.Time) kustomer.OutboxItem {
	it := kustomer.OutboxItem{
		Kind: kustomer.OutboxFollowUp, Key: key, ConversationID: convID,
		Payload: []byte(`{"seq":2}`), DueAt: due, CreatedAt: due,
	}
	if convID != "" {
		it.Batch = "followup:" + convID
	}
	return it
}

func claim(t testing.TB, s kustomer.Store, now time.Time, limit int) []kustomer.OutboxItem {
	t.Helper()
	items, err := s.ClaimOutbox(t.Context(), kustomer.OutboxFollowUp, now, time.Minute, limit)
	must(t, "ClaimOutbox", err)
	return items
}

func keys(items []kustomer.OutboxItem) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

// testOutboxWithMessage checks that rows given with a message are written
// with it, only when the message is stored, and that a batch collects one
// waiting row.
func testOutboxWithMessage(t *testing.T, s kustomer.Store) {
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	nm := newMessage(c.ID, kustomer.DirectionOut, "reply 1", at(1))
	nm.ClientMessageID = "r1"
	nm.Outbox = []kustomer.OutboxItem{followUp(c.ID, "k1", at(121))}
	appendMsg(t, s, nm)
	// A retry of the same send is the same message and adds no row.
	nm.Outbox = []kustomer.OutboxItem{followUp(c.ID, "k1-retry", at(125))}
	if _, created, err := s.AppendMessage(t.Context(), nm); err != nil || created {
		t.Fatalf("AppendMessage retry: created=%v err=%v", created, err)
	}
	// A second reply while the first row waits joins it.
	nm2 := newMessage(c.ID, kustomer.DirectionOut, "reply 2", at(2))
	nm2.Outbox = []kustomer.OutboxItem{followUp(c.ID, "k2", at(122))}
	appendMsg(t, s, nm2)
	// A message refused (ended conversation) writes no row.
	end := systemEvent(c.ID, "ended", at(3))
	if _, _, _, err := s.EndConversation(t.Context(), c.ID, kustomer.Author{Type: kustomer.AuthorAgent, ID: "agent-1"}, at(3), end); err != nil {
		t.Fatal(err)
	}
	nm3 := newMessage(c.ID, kustomer.DirectionOut, "too late", at(4))
	nm3.Outbox = []kustomer.OutboxItem{followUp(c.ID+"-other", "k3", at(124))}
	nm3.Outbox[0].ConversationID = c.ID
	if _, _, err := s.AppendMessage(t.Context(), nm3); !errors.Is(err, kustomer.ErrConflict) {
		t.Fatalf("AppendMessage to an ended conversation: %v, want ErrConflict", err)
	}

	if got := claim(t, s, at(120), 10); len(got) != 0 {
		t.Errorf("claimed %v before it was due", keys(got))
	}
	got := claim(t, s, at(200), 10)
	if !slices.Equal(keys(got), []string{"k1"}) {
		t.Fatalf("claimed %v, want [k1]", keys(got))
	}
	it := got[0]
	if it.ConversationID != c.ID || it.Kind != kustomer.OutboxFollowUp || string(it.Payload) != `{"seq":2}` ||
		it.Attempts != 1 || it.State != kustomer.OutboxPending || !it.DueAt.Equal(at(260)) || !it.CreatedAt.Equal(at(121)) {
		t.Errorf("claimed row = %+v", it)
	}
}

// testOutboxLifecycle checks claim, lease, retry, complete and park, and
// that a stale claim cannot settle a row.
func testOutboxLifecycle(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	n, err := s.Enqueue(ctx, followUp("", "a", at(10)), followUp("", "b", at(20)), followUp("", "a", at(5)))
	must(t, "Enqueue", err)
	if n != 2 {
		t.Errorf("Enqueue added %d rows, want 2 (the second a is the same key)", n)
	}
	// Batches are per conversation; these have none: the keys decide.
	got := claim(t, s, at(30), 1)
	if !slices.Equal(keys(got), []string{"a"}) {
		t.Fatalf("claim oldest: %v, want [a]", keys(got))
	}
	a := got[0]
	// Within its lease nobody else gets it; then it is claimed again.
	if got := claim(t, s, at(31), 10); !slices.Equal(keys(got), []string{"b"}) {
		t.Fatalf("claim during a's lease: %v, want [b]", keys(got))
	}
	got = claim(t, s, at(30+61), 10)
	if !slices.Equal(keys(got), []string{"a", "b"}) {
		t.Fatalf("claim after the leases: %v, want [a b]", keys(got))
	}
	a2, b := got[0], got[1]
	if a2.Attempts != 2 {
		t.Errorf("a attempts = %d, want 2", a2.Attempts)
	}
	// The first claim of a is stale now.
	wantErr(t, "complete with a stale claim", s.CompleteOutbox(ctx, a, at(92)), kustomer.ErrConflict)

	must(t, "RetryOutbox", s.RetryOutbox(ctx, a2, at(200), "421 try later", at(92)))
	wantErr(t, "complete after retry", s.CompleteOutbox(ctx, a2, at(93)), kustomer.ErrConflict)
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx, b, at(93)))
	wantErr(t, "complete twice", s.CompleteOutbox(ctx, b, at(94)), kustomer.ErrConflict)
	if got := claim(t, s, at(199), 10); len(got) != 0 {
		t.Errorf("claimed %v before the retry was due", keys(got))
	}
	got = claim(t, s, at(200), 10)
	if len(got) != 1 || got[0].Key != "a" || got[0].Attempts != 3 || got[0].LastError != "421 try later" {
		t.Fatalf("claim the retry: %+v", got)
	}
	must(t, "ParkOutbox", s.ParkOutbox(ctx, got[0], "550 no such user", at(201)))
	if got := claim(t, s, at(10000), 10); len(got) != 0 {
		t.Errorf("claimed %v after everything was done or parked", keys(got))
	}
	parked, err := s.OutboxItems(ctx, kustomer.OutboxParked, "", 10)
	must(t, "OutboxItems", err)
	if len(parked) != 1 || parked[0].Key != "a" || parked[0].LastError != "550 no such user" || parked[0].State != kustomer.OutboxParked {
		t.Errorf("parked = %+v", parked)
	}
	done, err := s.OutboxItems(ctx, kustomer.OutboxDone, "", 10)
	must(t, "OutboxItems", err)
	if !slices.Equal(keys(done), []string{"b"}) {
		t.Errorf("done = %v, want [b]", keys(done))
	}
	// A key stays taken once done: the same email is never queued twice.
	if n, err := s.Enqueue(ctx, followUp("", "b", at(300))); err != nil || n != 0 {
		t.Errorf("Enqueue a done key: added %d, %v; want 0", n, err)
	}
}

// testOutboxBatch checks that a batch has one waiting row, and a new one
// once that row was claimed.
func testOutboxBatch(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	n, err := s.Enqueue(ctx, followUp(c.ID, "f1", at(10)), followUp(c.ID, "f2", at(11)))
	must(t, "Enqueue", err)
	if n != 1 {
		t.Fatalf("Enqueue two rows of one batch added %d, want 1", n)
	}
	got := claim(t, s, at(10), 10)
	if !slices.Equal(keys(got), []string{"f1"}) {
		t.Fatalf("claimed %v, want [f1]", keys(got))
	}
	// Claimed, f1 no longer collects the batch.
	n, err = s.Enqueue(ctx, followUp(c.ID, "f3", at(12)))
	must(t, "Enqueue", err)
	if n != 1 {
		t.Fatalf("Enqueue after the claim added %d, want 1", n)
	}
	// A retry of f1 does not collide with f3.
	must(t, "RetryOutbox", s.RetryOutbox(ctx, got[0], at(13), "timeout", at(11)))
	if got := claim(t, s, at(13), 10); !slices.Equal(keys(got), []string{"f1", "f3"}) {
		t.Errorf("claimed %v, want [f1 f3] (in the order they were created)", keys(got))
	}
}

// testOutboxClaimConcurrent checks that concurrent claims never take the
// same row.
func testOutboxClaimConcurrent(t *testing.T, s kustomer.Store) {
	const rows, workers = 40, 8
	var items []kustomer.OutboxItem
	for i := range rows {
		items = append(items, followUp("", kustomer.NewID(), at(i)))
	}
	_, err := s.Enqueue(t.Context(), items...)
	must(t, "Enqueue", err)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]int{}
	)
	for range workers {
		wg.Go(func() {
			for {
				got, err := s.ClaimOutbox(t.Context(), kustomer.OutboxFollowUp, at(100), time.Hour, 3)
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
			t.Errorf("row %s claimed %d times", k, n)
		}
	}
}

// testOutboxDispatcher checks the Dispatcher over the store: a temporary
// failure is retried after a backoff, a permanent one parks the row, too
// many attempts park it, a success completes it, and a row whose claim was
// never settled (a crash) is delivered again after its lease.
func testOutboxDispatcher(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	now := at(0)
	var (
		mu       sync.Mutex
		failures = map[string][]error{} // key → errors for the next deliveries
		sent     []string
		outcomes []string
	)
	errPermanent := errors.New("550 refused")
	d := &kustomer.Dispatcher{
		Outbox: s, Kind: kustomer.OutboxFollowUp, Now: func() time.Time { return now },
		Lease: time.Minute, MaxAttempts: 3, MinBackoff: 10 * time.Second, MaxBackoff: 15 * time.Second,
		Deliver: func(_ context.Context, it kustomer.OutboxItem) error {
			mu.Lock()
			defer mu.Unlock()
			if errs := failures[it.Key]; len(errs) > 0 {
				failures[it.Key] = errs[1:]
				return errs[0]
			}
			sent = append(sent, it.Key)
			return nil
		},
		Permanent: func(err error) bool { return err == errPermanent },
		Observe:   func(_ kustomer.OutboxKind, o string) { outcomes = append(outcomes, o) },
	}
	temp := errors.New("451 try later")
	failures["flaky"] = []error{temp}
	failures["refused"] = []error{errPermanent}
	failures["hopeless"] = []error{temp, temp, temp, temp}
	failures["unneeded"] = []error{fmt.Errorf("read meanwhile: %w", kustomer.ErrNothingToDeliver)}
	_, err := s.Enqueue(ctx, followUp("", "unneeded", at(0)), followUp("", "ok", at(0)), followUp("", "flaky", at(0)), followUp("", "refused", at(0)), followUp("", "hopeless", at(0)))
	must(t, "Enqueue", err)

	run := func(want int) {
		t.Helper()
		n, err := d.RunOnce(ctx)
		must(t, "RunOnce", err)
		if n != want {
			t.Fatalf("at %v: RunOnce handled %d rows, want %d", now.Sub(at(0)), n, want)
		}
	}
	run(5)
	if !slices.Equal(sent, []string{"ok"}) {
		t.Fatalf("sent %v after the first run, want [ok]", sent)
	}
	now = at(4)
	run(0) // retries wait at least half of MinBackoff
	now = at(10)
	run(2) // flaky and hopeless, after their first backoff
	now = at(10 + 15)
	run(1) // hopeless: third and last attempt, then parked
	now = at(1000)
	run(0)
	if !slices.Equal(sent, []string{"ok", "flaky"}) {
		t.Errorf("sent %v, want [ok flaky]", sent)
	}
	parked, err := s.OutboxItems(ctx, kustomer.OutboxParked, "", 10)
	must(t, "OutboxItems", err)
	got := map[string]kustomer.OutboxItem{}
	for _, it := range parked {
		got[it.Key] = it
	}
	if len(got) != 2 || got["unneeded"].Key != "" || got["refused"].Attempts != 1 || got["refused"].LastError != "550 refused" ||
		got["hopeless"].Attempts != 3 || got["hopeless"].LastError != "451 try later" {
		t.Errorf("parked %+v, want refused after 1 attempt and hopeless after 3", parked)
	}
	slices.Sort(outcomes)
	want := []string{"parked", "parked", "retried", "retried", "retried", "sent", "sent", "skipped"}
	if !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}

	// A claim never settled, as after a crash: delivered after the lease.
	_, err = s.Enqueue(ctx, followUp("", "crashed", now))
	must(t, "Enqueue", err)
	if got := claim(t, s, now, 10); len(got) != 1 {
		t.Fatalf("claimed %d rows, want 1", len(got))
	}
	run(0)
	now = now.Add(time.Minute)
	run(1)
	if sent[len(sent)-1] != "crashed" {
		t.Errorf("sent %v, want crashed last", sent)
	}

	for n, lo, hi := 1, 5*time.Second, 10*time.Second; n <= 4; n++ {
		if b := d.Backoff(n); b < lo || b > hi {
			t.Errorf("Backoff(%d) = %v, want within [%v, %v]", n, b, lo, hi)
		}
		lo, hi = 7500*time.Millisecond, 15*time.Second
	}
}

// testEngineFollowUp checks which sends schedule a follow-up: the
// organization's public replies, one waiting row per conversation, none
// for the customer's own messages, notes, or with no delay set.
func testEngineFollowUp(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	f.send(t, agent, c.ID, "", "one") // no delay set yet
	f.engine.FollowUpDelay = 2 * time.Minute
	f.send(t, cust, c.ID, "", "from the customer")
	if _, _, err := f.engine.SendMessage(ctx, agent, kustomer.SendMessageInput{ConversationID: c.ID, Body: "a note", Private: true}); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, f.store, t0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("follow-ups %v, want none yet", keys(got))
	}
	first := f.send(t, agent, c.ID, "", "two")
	f.send(t, assistant, c.ID, "", "three")
	other, _ := f.start(t, "another")
	f.send(t, agent, other.ID, "", "elsewhere")

	if got := claim(t, f.store, first.CreatedAt.Add(2*time.Minute-time.Millisecond), 10); len(got) != 0 {
		t.Fatalf("follow-ups %v before the delay", keys(got))
	}
	got := claim(t, f.store, t0.Add(time.Hour), 10)
	if len(got) != 2 {
		t.Fatalf("follow-ups %v, want one per conversation", keys(got))
	}
	if got[0].ConversationID != c.ID || got[0].Key != "followup-"+first.ID || got[1].ConversationID != other.ID {
		t.Errorf("follow-ups %+v", got)
	}
}

func testStopFollowUps(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	stopped, err := s.FollowUpsStopped(ctx, c.CustomerID)
	must(t, "FollowUpsStopped", err)
	if stopped {
		t.Fatal("follow-ups stopped for a new customer")
	}
	must(t, "StopFollowUps", s.StopFollowUps(ctx, c.CustomerID, at(1)))
	must(t, "StopFollowUps again", s.StopFollowUps(ctx, c.CustomerID, at(2)))
	if stopped, err := s.FollowUpsStopped(ctx, c.CustomerID); err != nil || !stopped {
		t.Errorf("FollowUpsStopped = %v, %v; want true", stopped, err)
	}
	wantErr(t, "StopFollowUps of nobody", s.StopFollowUps(ctx, "nobody", at(3)), kustomer.ErrNotFound)
	_, err = s.FollowUpsStopped(ctx, "nobody")
	wantErr(t, "FollowUpsStopped of nobody", err, kustomer.ErrNotFound)
}

// testEngineTranscript checks who may ask for a transcript and that asking
// again before a new message queues nothing more.
func testEngineTranscript(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	f.send(t, agent, c.ID, "", "an answer")
	wantErr(t, "customer before the end", f.engine.RequestTranscript(ctx, cust, c.ID), kustomer.ErrConflict)
	wantErr(t, "another customer", f.engine.RequestTranscript(ctx, kustomer.CustomerActor(kustomer.NewID()), c.ID), kustomer.ErrForbidden)
	must(t, "agent", f.engine.RequestTranscript(ctx, agent, c.ID))
	must(t, "agent again", f.engine.RequestTranscript(ctx, agent, c.ID))
	if _, err := f.engine.EndConversation(ctx, agent, c.ID); err != nil {
		t.Fatal(err)
	}
	must(t, "customer after the end", f.engine.RequestTranscript(ctx, cust, c.ID))
	must(t, "customer again", f.engine.RequestTranscript(ctx, cust, c.ID))
	items, err := f.store.ClaimOutbox(ctx, kustomer.OutboxTranscript, t0.Add(time.Hour), time.Minute, 10)
	must(t, "ClaimOutbox", err)
	if len(items) != 2 || items[0].ConversationID != c.ID || items[0].Key == items[1].Key {
		t.Errorf("transcripts queued %+v, want 2 (before and after the end)", items)
	}
}

// testOutboxCountsAndPrune checks the counts of waiting and parked rows and
// that pruning deletes only old done rows.
func testOutboxCountsAndPrune(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	_, err := s.Enqueue(ctx, followUp("", "a", at(0)), followUp("", "b", at(1)), followUp("", "c", at(2)), followUp("", "d", at(500)))
	must(t, "Enqueue", err)
	got := claim(t, s, at(10), 3)
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx, got[0], at(10)))
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx, got[1], at(20)))
	must(t, "ParkOutbox", s.ParkOutbox(ctx, got[2], "550", at(20)))
	counts, err := s.OutboxCounts(ctx)
	must(t, "OutboxCounts", err)
	want := []kustomer.OutboxCount{{Kind: kustomer.OutboxFollowUp, State: kustomer.OutboxParked, N: 1}, {Kind: kustomer.OutboxFollowUp, State: kustomer.OutboxPending, N: 1}}
	if !slices.Equal(counts, want) {
		t.Errorf("OutboxCounts = %+v, want %+v", counts, want)
	}
	n, err := s.PruneOutbox(ctx, at(15), 100)
	must(t, "PruneOutbox", err)
	if n != 1 {
		t.Errorf("pruned %d rows, want 1 (a: done at 10)", n)
	}
	done, err := s.OutboxItems(ctx, kustomer.OutboxDone, "", 10)
	must(t, "OutboxItems", err)
	if !slices.Equal(keys(done), []string{"b"}) {
		t.Errorf("done after pruning: %v, want [b]", keys(done))
	}
}
