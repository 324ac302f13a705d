package cloud_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/cloud"
	"github.com/handoff/handoff/kustomer/cloud/cloudtest"
	"github.com/handoff/handoff/kustomer/sqlstore"
	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

// TestRelayTwoInstances runs two instances on one PostgreSQL database, each
// with its own relay dispatcher, the customers' steps taken on either: every
// hand-off and message reaches Kustomer once, each conversation's in order.
func TestRelayTwoInstances(t *testing.T) {
	dbURL := sqlstoretest.PostgresURL(t)
	fake := cloudtest.Start(t, "test-key")
	cfg, err := kustomer.ParseConfig(strings.NewReader(relayConfig))
	if err != nil {
		t.Fatal(err)
	}
	var engines []*kustomer.Engine
	for range 2 {
		store, err := sqlstore.OpenPostgres(t.Context(), dbURL, sqlstore.PostgresOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		hub := kustomer.NewHub()
		t.Cleanup(hub.Close)
		e := kustomer.NewEngine(store, hub, cfg, nil)
		e.Relay = true
		client, err := cloud.NewClient(fake.URL, "test-key")
		if err != nil {
			t.Fatal(err)
		}
		relay := &cloud.Relay{Store: store, Client: client, App: "handoff"}
		d := &kustomer.Dispatcher{Outbox: store, Kind: kustomer.OutboxRelay, Deliver: relay.Deliver, Permanent: relay.Permanent,
			Wake: e.ChangeWake(), Parallel: 4, Poll: 20 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxAge: time.Hour}
		dctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { d.Run(dctx) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		engines = append(engines, e)
	}
	ctx := t.Context()
	var convs []kustomer.Conversation
	for i := range 3 {
		c, _, err := engines[i%2].CreateConversation(ctx, kustomer.CreateConversationInput{FormID: "contact",
			Message: fmt.Sprintf("c%d m1", i), CustomerEmail: fmt.Sprintf("c%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c)
	}
	for j := 2; j <= 5; j++ {
		for i, c := range convs {
			e := engines[(i+j)%2]
			if _, _, err := e.SendMessage(ctx, kustomer.CustomerActor(c.CustomerID), kustomer.SendMessageInput{ConversationID: c.ID, Body: fmt.Sprintf("c%d m%d", i, j)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	previews := func(localID string) []string {
		for _, c := range fake.Conversations() {
			if c.ExternalID == localID {
				var out []string
				for _, m := range fake.Messages(c.ID) {
					out = append(out, m.Preview)
				}
				return out
			}
		}
		return nil
	}
	for i, c := range convs {
		want := fmt.Sprintf("c%d m1|c%d m2|c%d m3|c%d m4|c%d m5", i, i, i, i, i)
		eventually(t, func() string { return fmt.Sprintf("conversation %d: %q", i, previews(c.ID)) }, func() bool {
			return strings.Join(previews(c.ID), "|") == want
		})
	}
	if n, m := len(fake.Customers()), len(fake.Conversations()); n != 3 || m != 3 {
		t.Errorf("Kustomer has %d customers and %d conversations, want 3 and 3", n, m)
	}
}
