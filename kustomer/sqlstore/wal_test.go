package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/sqlstore"
)

// TestWALStaysBounded writes at full speed through the store's write path,
// hand-offs and messages of the largest size accepted from many goroutines,
// while readers query without pause, and samples the WAL file throughout:
// it must stay under 64 MB and shrink under 4 MB within seconds once the
// writes stop, with the readers still running. (Without checkpoints that
// wait for readers, the WAL grows to over 100 MB here and stays so.)
func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes over 100 MB")
	}
	const (
		writers   = 16
		perWriter = 150 // writes; every tenth a hand-off, the others messages
		readers   = 3
		peakLimit = 64 << 20
		restLimit = 4 << 20
	)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "handoff.db")
	s := openAt(t, path)
	walSize := func() int64 {
		st, err := os.Stat(path + "-wal")
		if err != nil {
			return 0
		}
		return st.Size()
	}

	// Sample the WAL's size until the test ends.
	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if n := walSize(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-tick.C:
			case <-stopSampling:
				return
			}
		}
	}()
	defer func() { close(stopSampling); <-sampled }()

	body := strings.Repeat("😀", kustomer.MaxBodyLen) // 32,000 bytes
	convIDs := make([]string, writers)
	for w := range convIDs {
		id, err := handoff(ctx, s, body)
		if err != nil {
			t.Fatalf("CreateConversation: %v", err)
		}
		convIDs[w] = id
	}

	// Readers: a chat window, a conversation and the inbox, over and over.
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	var reads atomic.Int64
	var readWG sync.WaitGroup
	for r := range readers {
		readWG.Add(1)
		go func() {
			defer readWG.Done()
			for i := 0; readCtx.Err() == nil; i++ {
				id := convIDs[(r+i)%len(convIDs)]
				var err error
				switch i % 3 {
				case 0:
					_, err = s.Messages(readCtx, id, kustomer.MessageQuery{Last: true, Max: 5})
				case 1:
					_, err = s.Conversation(readCtx, id)
				case 2:
					_, _, err = s.Conversations(readCtx, kustomer.ConversationFilter{Lean: true}, 0, 25)
				}
				if err != nil && readCtx.Err() == nil {
					t.Errorf("read: %v", err)
					return
				}
				reads.Add(1)
			}
		}()
	}

	start := time.Now()
	var writeWG sync.WaitGroup
	for w := range writers {
		writeWG.Add(1)
		go func() {
			defer writeWG.Done()
			for i := range perWriter {
				if i%10 == 0 {
					if _, err := handoff(ctx, s, body); err != nil {
						t.Errorf("CreateConversation: %v", err)
						return
					}
					continue
				}
				_, _, err := s.AppendMessage(ctx, kustomer.NewMessage{Message: kustomer.Message{
					ID: kustomer.NewID(), ConversationID: convIDs[w], Body: body, Direction: kustomer.DirectionIn,
					CreatedAt: time.Now(), SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: "c"},
					ClientMessageID: fmt.Sprint(w, "-", i),
				}, Preview: "hello"})
				if err != nil {
					t.Errorf("AppendMessage: %v", err)
					return
				}
			}
		}()
	}
	writeWG.Wait()
	loadPeak := peak.Load()
	t.Logf("%d writes in %v with %d reads; WAL peak %.1f MB", writers*perWriter, time.Since(start).Round(time.Millisecond),
		reads.Load(), float64(loadPeak)/(1<<20))
	if loadPeak > peakLimit {
		t.Errorf("WAL peaked at %.1f MB under load, want ≤ %d MB", float64(loadPeak)/(1<<20), peakLimit>>20)
	}

	// The writes have stopped; the readers go on.
	stopped := time.Now()
	deadline := stopped.Add(5 * time.Second)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		n := walSize()
		if n < restLimit {
			t.Logf("WAL %.1f MB %v after the writes stopped", float64(n)/(1<<20), time.Since(stopped).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("WAL still %.1f MB %v after the writes stopped, want < %d MB", float64(n)/(1<<20), time.Since(stopped).Round(time.Millisecond), restLimit>>20)
			break
		}
		<-poll.C
	}
	stopReading()
	readWG.Wait()
}

// handoff stores a new conversation as a form submission would and returns
// its id.
func handoff(ctx context.Context, s kustomer.Store, body string) (string, error) {
	now := time.Now()
	custID, convID := kustomer.NewID(), kustomer.NewID()
	_, _, _, err := s.CreateConversation(ctx, kustomer.NewConversation{
		Customer: kustomer.Customer{ID: custID, Name: "Ada", Emails: []string{custID + "@example.com"}, CreatedAt: now, UpdatedAt: now},
		Conversation: kustomer.Conversation{ID: convID, CustomerID: custID, FormID: "contact",
			CreatedAt: now, UpdatedAt: now, LastMessageAt: now, Preview: "hello"},
		First:     kustomer.Message{ID: kustomer.NewID(), ConversationID: convID, Body: body, Direction: kustomer.DirectionIn, CreatedAt: now, SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: custID}},
		ClientRef: convID,
	})
	return convID, err
}

// TestWALStartsOver paces messages (one a millisecond, each its own
// transaction, as a chat's sends come) with a reader now and then, and
// checks that the committer has the writer start the WAL over once it holds
// RestartWALAt, instead of letting it grow to the truncating backstop:
// writes then never wait for a truncating checkpoint, which waits for
// readers (tens of milliseconds on a busy machine).
func TestWALStartsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("paced writes for two seconds")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "handoff.db")
	var mu sync.Mutex
	modes := map[string]int{}
	held := 0
	s, err := sqlstore.OpenSQLiteWith(ctx, path, sqlstore.SQLiteOptions{
		TruncateWALAt: 64 << 20,
		RestartWALAt:  1 << 20,
		ObserveCheckpoint: func(mode string, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			modes[mode]++
			if err != nil && mode == "restart" {
				held++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var peak int64
	convIDs := make([]string, 200)
	for i := range convIDs {
		if convIDs[i], err = handoff(ctx, s, "hello"); err != nil {
			t.Fatal(err)
		}
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	body := strings.Repeat("word ", 40)
	for i := 0; i < 2000; i++ {
		<-tick.C
		id := convIDs[i%len(convIDs)]
		if _, _, err := s.AppendMessage(ctx, kustomer.NewMessage{Message: kustomer.Message{
			ID: kustomer.NewID(), ConversationID: id, Body: body, Direction: kustomer.DirectionIn,
			CreatedAt: time.Now(), SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: "c"}, ClientMessageID: fmt.Sprint("m", i),
		}, Preview: "hello"}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if _, err := s.Messages(ctx, id, kustomer.MessageQuery{Last: true, Max: 20}); err != nil {
				t.Fatal(err)
			}
		}
		peak = max(peak, s.WALBytes())
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("WAL peak %.1f MB; checkpoints %v, %d restarts held up by readers", float64(peak)/(1<<20), modes, held)
	if modes["restart"]-held < 1 {
		t.Errorf("the WAL never started over (%d tries, %d held up)", modes["restart"], held)
	}
	if modes["truncate"] > 0 {
		t.Errorf("%d truncating checkpoints while writes went on; want the WAL started over instead", modes["truncate"])
	}
	// It grows past RestartWALAt by what the writes add until the next
	// background copy (a tick: a few MB at this pace), far from the
	// backstop.
	if peak > 16<<20 {
		t.Errorf("WAL peaked at %.1f MB with RestartWALAt 1 MB, want ≤ 16 MB", float64(peak)/(1<<20))
	}
}
