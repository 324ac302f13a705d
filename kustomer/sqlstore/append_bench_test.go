package sqlstore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// BenchmarkAppendMessage stores messages into 1,000 conversations of a
// SQLite store, half a customer's (with a clientMessageId), half an
// agent's, from one writer (a transaction per message) and from 32 (group
// commit), and reports the bytes the process wrote per message (the WAL's
// frames and the checkpoints' copies) beside the time.
func BenchmarkAppendMessage(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchmarkAppend(b, writers) })
	}
}

func benchmarkAppend(b *testing.B, writers int) {
	s := openAt(b, filepath.Join(b.TempDir(), "handoff.db"))
	ctx := b.Context()
	convs := make([]string, 1000)
	for i := range convs {
		custID, convID := kustomer.NewID(), kustomer.NewID()
		_, _, _, err := s.CreateConversation(ctx, kustomer.NewConversation{
			Customer: kustomer.Customer{ID: custID, Name: "Ada", Emails: []string{"ada@example.com"}, CreatedAt: t0, UpdatedAt: t0},
			Conversation: kustomer.Conversation{
				ID: convID, CustomerID: custID, FormID: "contact",
				CreatedAt: t0, UpdatedAt: t0, LastMessageAt: t0, Preview: "hello",
				CustomAttributes: kustomer.Attributes{"topicStr": "sales"},
			},
			First: kustomer.Message{ID: kustomer.NewID(), ConversationID: convID, Body: "hello", Direction: kustomer.DirectionIn, CreatedAt: t0,
				SentBy: kustomer.Author{Type: kustomer.AuthorCustomer, ID: custID}, ClientMessageID: "first"},
		})
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = convID
	}
	var next atomic.Int64
	w0 := writtenBytes(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= int64(b.N) {
					return
				}
				conv := convs[n%int64(len(convs))]
				at := t0.Add(time.Duration(n) * time.Millisecond)
				m := kustomer.Message{ID: kustomer.NewID(), ConversationID: conv, Body: "message " + strconv.FormatInt(n, 10), CreatedAt: at, Attachments: []kustomer.Attachment{}}
				if n%2 == 0 {
					m.Direction, m.SentBy, m.ClientMessageID = kustomer.DirectionIn, kustomer.Author{Type: kustomer.AuthorCustomer, ID: "c"}, fmt.Sprintf("c-%d", n)
				} else {
					m.Direction, m.SentBy = kustomer.DirectionOut, kustomer.Author{Type: kustomer.AuthorAgent, ID: "a", DisplayName: "Grace"}
				}
				if _, _, err := s.AppendMessage(ctx, kustomer.NewMessage{Message: m, Preview: m.Body}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(writtenBytes(b)-w0)/float64(b.N), "written-B/msg")
}

// writtenBytes is how many bytes this process has passed to write calls
// (wchar in /proc/self/io).
func writtenBytes(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io:", err)
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("wchar: ")); ok {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			return n
		}
	}
	b.Skip("no wchar in /proc/self/io")
	return 0
}

// BenchmarkCreateConversation hands off from 16 writers at once (group
// commit), as the form's POST does, and reports the bytes written per
// hand-off.
func BenchmarkCreateConversation(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "handoff.db"))
	ctx := b.Context()
	var next atomic.Int64
	w0 := writtenBytes(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := handoff(ctx, s, "My parcel never arrived."); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(writtenBytes(b)-w0)/float64(b.N), "written-B/op")
}
