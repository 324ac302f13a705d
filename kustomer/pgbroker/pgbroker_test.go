package pgbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/kustomertest"
	"github.com/handoff/handoff/kustomer/pgbroker"
	"github.com/handoff/handoff/kustomer/sqlstore"
)

// postgresURL is the PostgreSQL the tests announce through. Without one
// the tests are skipped, or fail under CI.
func postgresURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("HANDOFF_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("HANDOFF_TEST_POSTGRES_URL is not set: the broker tests need PostgreSQL under CI")
		}
		t.Skip("HANDOFF_TEST_POSTGRES_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("PostgreSQL at HANDOFF_TEST_POSTGRES_URL: %v", err)
	}
	c.Close(ctx)
	return url
}

// instance is one handoff instance: its own hub, broker and engine, on the
// store every instance shares.
type instance struct {
	broker    *pgbroker.Broker
	engine    *kustomer.Engine
	notifies  atomic.Int64 // NOTIFYs sent
	announced atomic.Int64 // events they carried
	reconnect atomic.Int64
}

type cluster struct {
	store   *sqlstore.Store
	channel string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	store, err := sqlstore.OpenSQLite(context.Background(), t.TempDir()+"/handoff.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	return &cluster{store: store, channel: "handoff_test_" + hex.EncodeToString(b)}
}

func (c *cluster) start(t *testing.T, url string) *instance {
	t.Helper()
	doc, err := os.ReadFile("../../handoff.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kustomer.ParseConfig(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{}
	hub := kustomer.NewHub()
	hub.Buffer = 4096 // these tests read bursts; the hub's drop policy has tests of its own
	in.broker, err = pgbroker.New(context.Background(), url, hub, c.store, pgbroker.Options{
		Channel: c.channel,
		Observer: pgbroker.Observer{
			Notified:    func(n int) { in.notifies.Add(1); in.announced.Add(int64(n)) },
			Reconnected: func() { in.reconnect.Add(1) },
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.broker.Close(); hub.Close() })
	in.engine = kustomer.NewEngine(c.store, in.broker, cfg, nil)
	return in
}

// next returns the next event of sub of the given type, failing after a
// deadline.
func next(t *testing.T, sub kustomer.Subscription, typ kustomer.EventType) kustomer.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription closed (dropped %v) waiting for %s", sub.Dropped(), typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 5 s", typ)
		}
	}
}

var agent = kustomer.Actor{Type: kustomer.AuthorAgent, ID: "agent-1", Name: "Dana"}

func handoff(t *testing.T, e *kustomer.Engine) kustomer.Conversation {
	t.Helper()
	conv, _, err := e.CreateConversation(context.Background(), kustomer.CreateConversationInput{
		CustomerName: "Kim", CustomerEmail: "kim@example.com", Message: "Hello", FormID: "contact",
		CustomAttributes: kustomer.Attributes{"topicStr": "billing"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

// What one instance stores and publishes reaches the other instance's
// subscribers, content read from the store: messages in seq order, notes
// still private, typing, read positions, conversation updates.
func TestEventsCrossInstances(t *testing.T) {
	url := postgresURL(t)
	c := newCluster(t)
	a, b := c.start(t, url), c.start(t, url)
	ctx := context.Background()
	conv := handoff(t, a.engine)
	customer := kustomer.CustomerActor(conv.CustomerID)
	sub := b.broker.Subscribe(conv.ID)
	defer sub.Close()
	all := b.broker.Subscribe(kustomer.AllConversations)
	defer all.Close()

	const n = 40
	for i := range n {
		if _, _, err := a.engine.SendMessage(ctx, customer, kustomer.SendMessageInput{ConversationID: conv.ID, Body: "line " + string(rune('A'+i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		ev := next(t, sub, kustomer.EventMessageCreated)
		for ev.Message.Seq == 1 { // the form's message, announced when the conversation was created
			ev = next(t, sub, kustomer.EventMessageCreated)
		}
		if ev.Message.Seq != int64(i+2) || ev.Message.Body != "line "+string(rune('A'+i%26)) {
			t.Fatalf("message %d on B: seq %d body %q", i, ev.Message.Seq, ev.Message.Body)
		}
	}
	if _, _, err := a.engine.SendMessage(ctx, agent, kustomer.SendMessageInput{ConversationID: conv.ID, Body: "Customer seems upset", Private: true}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub, kustomer.EventMessageCreated); !ev.Message.Private || ev.Message.Body != "Customer seems upset" {
		t.Errorf("note on B: %+v", ev.Message)
	}
	if err := a.engine.SetTyping(ctx, customer, conv.ID, true); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub, kustomer.EventTyping); !ev.Typing.Typing || ev.Typing.Author.ID != conv.CustomerID {
		t.Errorf("typing on B: %+v", ev.Typing)
	}
	if err := a.engine.MarkRead(ctx, customer, conv.ID, 5); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub, kustomer.EventRead); ev.Read.Seq != 5 {
		t.Errorf("read on B: %+v", ev.Read)
	}
	if _, err := a.engine.EndConversation(ctx, agent, conv.ID); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub, kustomer.EventConversationUpdated); !ev.Conversation.Ended {
		t.Errorf("conversation on B after end: %+v", ev.Conversation)
	}
	// The inbox (every conversation) hears of new conversations.
	other := handoff(t, a.engine)
	if ev := next(t, all, kustomer.EventConversationCreated); ev.Conversation == nil || ev.Conversation.ID == conv.ID {
		for ev.Conversation == nil || ev.Conversation.ID != other.ID {
			ev = next(t, all, kustomer.EventConversationCreated)
		}
	}
	// An instance does not hear its own announcements twice.
	own := a.broker.Subscribe(conv.ID)
	defer own.Close()
	if err := a.engine.SetTyping(ctx, customer, conv.ID, false); err != nil {
		t.Fatal(err)
	}
	next(t, own, kustomer.EventTyping)
	if err := a.engine.SetTyping(ctx, customer, conv.ID, true); err != nil { // the marker
		t.Fatal(err)
	}
	if ev := next(t, own, kustomer.EventTyping); !ev.Typing.Typing {
		t.Errorf("A heard its own typing=false twice before the marker")
	}
}

// Many events published at once share NOTIFYs, each under PostgreSQL's
// payload limit, and all arrive.
func TestAnnouncementsCoalesce(t *testing.T) {
	url := postgresURL(t)
	c := newCluster(t)
	a, b := c.start(t, url), c.start(t, url)
	sub := b.broker.Subscribe("conv-x")
	defer sub.Close()
	const n = 2000
	ctx := context.Background()
	for i := range n {
		if err := a.broker.Publish(ctx, kustomer.Event{Type: kustomer.EventTyping, ConversationID: "conv-x", Memo: &kustomer.Memo{},
			Typing: &kustomer.Typing{Author: kustomer.Author{Type: kustomer.AuthorCustomer, ID: strings.Repeat("x", 24), DisplayName: strings.Repeat("n", 80)}, Typing: i%2 == 0}}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	deadline := time.After(10 * time.Second)
	for got < n {
		select {
		case _, ok := <-sub.Events():
			if !ok {
				t.Fatalf("dropped after %d events", got)
			}
			got++
		case <-deadline:
			t.Fatalf("%d of %d events arrived", got, n)
		}
	}
	// A counts a NOTIFY once PostgreSQL answered it, which may be after B
	// received it.
	for end := time.Now().Add(5 * time.Second); a.announced.Load() < n && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	if a.announced.Load() != n || a.notifies.Load() >= n/10 {
		t.Errorf("%d events in %d NOTIFYs; want all %d in far fewer", a.announced.Load(), a.notifies.Load(), n)
	}
}

// When the listening connection is lost, the broker reconnects by itself
// and drops its local subscribers, whose clients resume from the store;
// events flow again afterwards.
func TestListenerReconnects(t *testing.T) {
	url := postgresURL(t)
	c := newCluster(t)
	a, b := c.start(t, url), c.start(t, url)
	ctx := context.Background()
	conv := handoff(t, a.engine)
	sub := b.broker.Subscribe(conv.ID)

	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1`, "LISTEN "+c.channel).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("terminated %d listening connections (%v), want both instances'", killed, err)
	}
	// B's subscriber is dropped once B listens again.
	resumes(t, a, b, sub, conv, "after the outage")
}

// PostgreSQL itself restarts: both instances' brokers reconnect by
// themselves, their subscribers resume, and events flow again.
func TestPostgresRestart(t *testing.T) {
	pg := kustomertest.StartPGCluster(t)
	c := newCluster(t)
	a, b := c.start(t, pg.URL()), c.start(t, pg.URL())
	ctx := context.Background()
	conv := handoff(t, a.engine)
	customer := kustomer.CustomerActor(conv.CustomerID)
	sub := b.broker.Subscribe(conv.ID)
	if err := a.engine.SetTyping(ctx, customer, conv.ID, true); err != nil {
		t.Fatal(err)
	}
	next(t, sub, kustomer.EventTyping)

	pg.Restart()
	// A's notifying connection died too: its next announcement reconnects.
	resumes(t, a, b, sub, conv, "after the restart")
}

// waitReconnected waits until every instance's listener is back (and has
// dropped its subscribers), so that a new subscription is not dropped by a
// late resync.
func waitReconnected(t *testing.T, ins ...*instance) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, in := range ins {
		for in.reconnect.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("a broker did not reconnect within 15 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// resumes checks that B's subscriber sub is dropped (its client resumes
// from the store) once both brokers listen again, and that a message A
// sends then reaches a new subscriber on B.
func resumes(t *testing.T, a, b *instance, sub kustomer.Subscription, conv kustomer.Conversation, body string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-sub.Events():
		case <-deadline:
			t.Fatal("B's subscriber was not dropped after the connection was lost")
		}
	}
	if !sub.Dropped() {
		t.Error("the subscription closed without being dropped")
	}
	waitReconnected(t, a, b)
	sub = b.broker.Subscribe(conv.ID)
	defer sub.Close()
	if _, _, err := a.engine.SendMessage(context.Background(), kustomer.CustomerActor(conv.CustomerID), kustomer.SendMessageInput{ConversationID: conv.ID, Body: body}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub, kustomer.EventMessageCreated); ev.Message.Body != body {
		t.Errorf("after reconnecting B got %q, want %q", ev.Message.Body, body)
	}
}
