package kustomer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

const hubTimeout = 5 * time.Second

// msgEvent is a message.created event on conversation conv whose message
// has seq n.
func msgEvent(conv string, n int) kustomer.Event {
	return kustomer.Event{Type: kustomer.EventMessageCreated, ConversationID: conv, Message: &kustomer.Message{ConversationID: conv, Seq: int64(n)}}
}

// recv returns the next event of sub, failing the test when none arrives
// within hubTimeout or the channel is closed.
func recv(t testing.TB, sub kustomer.Subscription) kustomer.Event {
	t.Helper()
	select {
	case ev, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription closed (dropped=%v), want an event", sub.Dropped())
		}
		return ev
	case <-time.After(hubTimeout):
		t.Fatalf("no event within %v", hubTimeout)
	}
	panic("unreachable")
}

// waitClosed drains sub until its channel is closed and returns what it
// drained, failing the test if it stays open for hubTimeout.
func waitClosed(t testing.TB, sub kustomer.Subscription) []kustomer.Event {
	t.Helper()
	var got []kustomer.Event
	deadline := time.After(hubTimeout)
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				return got
			}
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("subscription still open after %v", hubTimeout)
		}
	}
}

func publish(t testing.TB, h *kustomer.Hub, ev kustomer.Event) {
	t.Helper()
	if err := h.Publish(context.Background(), ev); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func TestHubFanOut(t *testing.T) {
	h := kustomer.NewHub()
	defer h.Close()
	a, b := h.Subscribe("conv-1"), h.Subscribe("conv-1")
	other := h.Subscribe("conv-2")
	defer a.Close()
	defer b.Close()
	defer other.Close()

	for i := 1; i <= 3; i++ {
		publish(t, h, msgEvent("conv-1", i))
	}
	for _, sub := range []kustomer.Subscription{a, b} {
		for i := 1; i <= 3; i++ {
			if ev := recv(t, sub); ev.ConversationID != "conv-1" || ev.Message.Seq != int64(i) {
				t.Errorf("event %d = %s seq %d, want conv-1 seq %d", i, ev.ConversationID, ev.Message.Seq, i)
			}
		}
	}
	// conv-2's subscriber got none of conv-1's events: its next is its own.
	publish(t, h, msgEvent("conv-2", 1))
	if ev := recv(t, other); ev.ConversationID != "conv-2" {
		t.Errorf("conv-2's subscriber received %s's event", ev.ConversationID)
	}
}

func TestHubAllConversations(t *testing.T) {
	h := kustomer.NewHub()
	defer h.Close()
	all := h.Subscribe(kustomer.AllConversations)
	defer all.Close()
	one := h.Subscribe("conv-1")
	defer one.Close()

	publish(t, h, msgEvent("conv-1", 1))
	publish(t, h, msgEvent("conv-2", 1))
	publish(t, h, kustomer.Event{Type: kustomer.EventTyping, ConversationID: "conv-3", Typing: &kustomer.Typing{Typing: true}})
	for _, want := range []string{"conv-1", "conv-2", "conv-3"} {
		if ev := recv(t, all); ev.ConversationID != want {
			t.Errorf("AllConversations event for %s, want %s", ev.ConversationID, want)
		}
	}
	if ev := recv(t, one); ev.ConversationID != "conv-1" {
		t.Errorf("conv-1's subscriber received %s", ev.ConversationID)
	}
	published, dropped := h.Stats()
	if published != 3 || dropped != 0 {
		t.Errorf("Stats = %d, %d; want 3, 0", published, dropped)
	}
}

func TestHubDropsSlowSubscriber(t *testing.T) {
	h := kustomer.NewHub()
	h.Buffer = 4
	defer h.Close()
	slow := h.Subscribe("conv-1")
	fast := h.Subscribe("conv-1")
	defer fast.Close()

	// The fast subscriber takes each event before the next is published;
	// the slow one never reads, so the fifth event overflows its buffer.
	const n = 100
	for i := 1; i <= n; i++ {
		publish(t, h, msgEvent("conv-1", i))
		if ev := recv(t, fast); ev.Message.Seq != int64(i) {
			t.Fatalf("fast subscriber: seq %d, want %d", ev.Message.Seq, i)
		}
		if i == h.Buffer && slow.Dropped() {
			t.Fatalf("slow subscriber dropped with a buffer not yet overrun")
		}
	}
	if fast.Dropped() {
		t.Errorf("fast subscriber was dropped")
	}

	got := waitClosed(t, slow)
	if !slow.Dropped() {
		t.Errorf("slow subscriber: Dropped() = false")
	}
	if len(got) != h.Buffer {
		t.Errorf("slow subscriber received %d events before it was dropped, want its buffer, %d", len(got), h.Buffer)
	}
	for i, ev := range got {
		if ev.Message.Seq != int64(i+1) {
			t.Errorf("slow subscriber's event %d has seq %d", i, ev.Message.Seq)
		}
	}
	if _, dropped := h.Stats(); dropped != 1 {
		t.Errorf("Stats dropped = %d, want 1", dropped)
	}
	slow.Close() // closing a dropped subscription is harmless
}

// TestHubDropDoesNotBlock has a fast subscriber reading in its own goroutine
// while a subscriber that never reads overflows: publishing never waits.
func TestHubDropDoesNotBlock(t *testing.T) {
	h := kustomer.NewHub()
	h.Buffer = 1
	slow := h.Subscribe("conv-1")
	h.Buffer = 1000 // the fast subscriber has room for everything
	fast := h.Subscribe("conv-1")
	defer h.Close()

	const n = 1000
	received := make(chan int, 1)
	go func() {
		count := 0
		for ev := range fast.Events() {
			count++
			if ev.Message.Seq == n {
				break
			}
		}
		received <- count
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			if err := h.Publish(context.Background(), msgEvent("conv-1", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(hubTimeout):
		t.Fatalf("publishing %d events blocked on a slow subscriber", n)
	}
	select {
	case count := <-received:
		if count != n {
			t.Errorf("fast subscriber received %d events, want %d", count, n)
		}
	case <-time.After(hubTimeout):
		t.Fatalf("fast subscriber did not receive %d events", n)
	}
	if got := waitClosed(t, slow); len(got) != 1 || !slow.Dropped() {
		t.Errorf("slow subscriber: %d events, dropped %v; want 1 and true", len(got), slow.Dropped())
	}
}

func TestHubCloseSubscription(t *testing.T) {
	h := kustomer.NewHub()
	defer h.Close()
	a, b := h.Subscribe("conv-1"), h.Subscribe("conv-1")
	defer b.Close()
	a.Close()
	a.Close() // twice is harmless
	if got := waitClosed(t, a); len(got) != 0 {
		t.Errorf("closed subscription received %d events", len(got))
	}
	if a.Dropped() {
		t.Errorf("a closed subscription reports Dropped")
	}
	publish(t, h, msgEvent("conv-1", 1))
	if ev := recv(t, b); ev.Message.Seq != 1 {
		t.Errorf("remaining subscriber got seq %d", ev.Message.Seq)
	}
}

func TestHubClose(t *testing.T) {
	h := kustomer.NewHub()
	subs := []kustomer.Subscription{h.Subscribe("conv-1"), h.Subscribe("conv-1"), h.Subscribe("conv-2"), h.Subscribe(kustomer.AllConversations)}
	publish(t, h, msgEvent("conv-1", 1))
	h.Close()
	for i, s := range subs {
		waitClosed(t, s)
		if s.Dropped() {
			t.Errorf("subscription %d: Dropped() = true after Close, want false", i)
		}
		s.Close() // after the hub closed it: harmless
	}
	late := h.Subscribe("conv-1")
	if got := waitClosed(t, late); len(got) != 0 {
		t.Errorf("subscription after Close received %d events", len(got))
	}
	publish(t, h, msgEvent("conv-1", 2)) // must not panic on closed channels
	h.Close()                            // twice is harmless
}

// TestHubConcurrent runs publishers, subscribers that read, subscribers that
// never read, and subscribers that come and go, all at once; under -race it
// checks the Hub's locking. Every reading subscriber with room for every
// event receives each of its topic's events exactly once, and each
// publisher's events in the order published.
func TestHubConcurrent(t *testing.T) {
	const (
		topics     = 4
		publishers = 8
		perPub     = 200
		readers    = 3 // per topic, plus one AllConversations reader
	)
	h := kustomer.NewHub()
	h.Buffer = publishers * perPub // readers never fall behind
	defer h.Close()
	topic := func(i int) string { return fmt.Sprintf("conv-%d", i%topics) }

	type result struct {
		topic string
		count map[string]int // publisher → events received
		err   error
	}
	results := make(chan result, topics*readers+1)
	var readersWG sync.WaitGroup
	startReader := func(tp string, want int) {
		sub := h.Subscribe(tp)
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			defer sub.Close()
			r := result{topic: tp, count: map[string]int{}}
			last := map[string]int64{}
			for n := 0; n < want; n++ {
				select {
				case ev, ok := <-sub.Events():
					if !ok {
						r.err = fmt.Errorf("closed after %d events (dropped=%v)", n, sub.Dropped())
						results <- r
						return
					}
					if tp != kustomer.AllConversations && ev.ConversationID != tp {
						r.err = fmt.Errorf("received an event of %s", ev.ConversationID)
					}
					pub := ev.Message.ID
					if ev.Message.Seq <= last[pub] {
						r.err = fmt.Errorf("publisher %s: seq %d after %d", pub, ev.Message.Seq, last[pub])
					}
					last[pub] = ev.Message.Seq
					r.count[pub]++
				case <-time.After(hubTimeout):
					r.err = fmt.Errorf("only %d of %d events within %v", n, want, hubTimeout)
					results <- r
					return
				}
			}
			results <- r
		}()
	}
	// Publisher p publishes to topic(p), so each topic has publishers/topics publishers.
	perTopic := publishers / topics * perPub
	for i := range topics * readers {
		startReader(topic(i), perTopic)
	}
	startReader(kustomer.AllConversations, publishers*perPub)

	// Subscribers that never read: with a buffer this large they are not
	// dropped, but they hold events while everything else runs.
	for i := range topics {
		idle := h.Subscribe(topic(i))
		defer idle.Close()
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Churn: subscribe and close as fast as possible during publishing.
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.Subscribe(topic(i))
				s.Close()
			}
		}()
	}
	var pubWG sync.WaitGroup
	for p := range publishers {
		pubWG.Add(1)
		go func() {
			defer pubWG.Done()
			id := fmt.Sprint("pub-", p)
			for i := 1; i <= perPub; i++ {
				ev := msgEvent(topic(p), i)
				ev.Message.ID = id
				if err := h.Publish(context.Background(), ev); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		}()
	}
	pubWG.Wait()
	close(stop)
	wg.Wait()
	readersWG.Wait()
	close(results)

	for r := range results {
		if r.err != nil {
			t.Errorf("reader of %s: %v", r.topic, r.err)
			continue
		}
		for p := range publishers {
			want := 0
			if r.topic == kustomer.AllConversations || topic(p) == r.topic {
				want = perPub
			}
			if got := r.count[fmt.Sprint("pub-", p)]; got != want {
				t.Errorf("reader of %s received %d events of pub-%d, want %d", r.topic, got, p, want)
			}
		}
	}
	if published, dropped := h.Stats(); published != publishers*perPub || dropped != 0 {
		t.Errorf("Stats = %d published, %d dropped; want %d, 0", published, dropped, publishers*perPub)
	}
}

// TestHubConcurrentDrops has many publishers overrun small buffers while
// subscribers close themselves and the hub closes under them: nothing may
// panic (send on a closed channel), deadlock or race.
func TestHubConcurrentDrops(t *testing.T) {
	h := kustomer.NewHub()
	h.Buffer = 2
	var subs []kustomer.Subscription
	for i := range 32 {
		subs = append(subs, h.Subscribe(fmt.Sprint("conv-", i%2)))
	}
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if err := h.Publish(context.Background(), msgEvent(fmt.Sprint("conv-", p%2), i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 == 0 {
				s.Close()
			}
			for range s.Events() {
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			s := h.Subscribe("conv-0")
			s.Close()
		}
		h.Close()
	}()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * hubTimeout):
		t.Fatalf("publishers and subscribers did not finish: deadlock?")
	}
	for i, s := range subs {
		select {
		case _, ok := <-s.Events():
			if ok {
				t.Errorf("subscription %d still delivers after the hub closed", i)
			}
		default:
			t.Errorf("subscription %d is open after the hub closed", i)
		}
	}
}

// queued is a SubscribeFunc subscriber: notify counts its calls and wakes
// whoever waits on wake.
type queued struct {
	kustomer.QueuedSubscription
	notified atomic.Int64
	wake     chan struct{}
}

func subscribeFunc(h *kustomer.Hub, topic string) *queued {
	q := &queued{wake: make(chan struct{}, 1)}
	q.QueuedSubscription = h.SubscribeFunc(topic, func() {
		q.notified.Add(1)
		select {
		case q.wake <- struct{}{}:
		default:
		}
	})
	return q
}

// drain takes every waiting event without waiting for more.
func (q *queued) drain() (got []kustomer.Event, ended bool) {
	for {
		ev, ok, ended := q.Next()
		if !ok {
			return got, ended
		}
		got = append(got, ev)
	}
}

// TestHubQueuedSubscriber: a SubscribeFunc subscriber is told of every
// event and takes them in the order published, each once; another topic's
// events never reach it.
func TestHubQueuedSubscriber(t *testing.T) {
	h := kustomer.NewHub()
	defer h.Close()
	q := subscribeFunc(h, "conv-1")
	defer q.Close()
	if _, ok, ended := q.Next(); ok || ended {
		t.Fatalf("a new subscription: Next ok=%v ended=%v, want nothing waiting and open", ok, ended)
	}
	for round := range 3 {
		for i := 1; i <= h.Buffer; i++ {
			publish(t, h, msgEvent("conv-1", round*h.Buffer+i))
		}
		publish(t, h, msgEvent("conv-2", 1))
		got, ended := q.drain()
		if ended || len(got) != h.Buffer {
			t.Fatalf("round %d: %d events, ended %v; want %d, open", round, len(got), ended, h.Buffer)
		}
		for i, ev := range got {
			if want := int64(round*h.Buffer + i + 1); ev.ConversationID != "conv-1" || ev.Message.Seq != want {
				t.Fatalf("round %d: event %d is %s seq %d, want conv-1 seq %d", round, i, ev.ConversationID, ev.Message.Seq, want)
			}
		}
	}
	if n := q.notified.Load(); n != int64(3*h.Buffer) {
		t.Errorf("notify called %d times, want once per event, %d", n, 3*h.Buffer)
	}
	if q.Dropped() {
		t.Errorf("a subscriber that kept up was dropped")
	}
	q.Close()
	publish(t, h, msgEvent("conv-1", 999))
	if _, ok, ended := q.Next(); ok || !ended {
		t.Errorf("after Close: Next ok=%v ended=%v, want nothing and ended", ok, ended)
	}
}

// TestHubQueuedDropsSlowSubscriber: a SubscribeFunc subscriber more than
// Buffer events behind is dropped, and told; it still takes what it was
// given, in order, then sees the end. Publishing never waits for it.
func TestHubQueuedDropsSlowSubscriber(t *testing.T) {
	h := kustomer.NewHub()
	h.Buffer = 4
	defer h.Close()
	slow := subscribeFunc(h, "conv-1")
	fast := subscribeFunc(h, "conv-1")
	defer fast.Close()
	for i := 1; i <= 100; i++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			publish(t, h, msgEvent("conv-1", i))
		}()
		select {
		case <-done:
		case <-time.After(hubTimeout):
			t.Fatalf("Publish of event %d blocked", i)
		}
		if got, ended := fast.drain(); ended || len(got) != 1 || got[0].Message.Seq != int64(i) {
			t.Fatalf("fast subscriber after event %d: %d events, ended %v", i, len(got), ended)
		}
		if i == h.Buffer && slow.Dropped() {
			t.Fatalf("slow subscriber dropped with its queue not yet overrun")
		}
	}
	if !slow.Dropped() || fast.Dropped() {
		t.Fatalf("dropped: slow %v, fast %v; want true, false", slow.Dropped(), fast.Dropped())
	}
	if n := slow.notified.Load(); n != int64(h.Buffer+1) {
		t.Errorf("slow subscriber notified %d times, want once per queued event and once for the drop, %d", n, h.Buffer+1)
	}
	got, ended := slow.drain()
	if !ended || len(got) != h.Buffer {
		t.Fatalf("slow subscriber: %d events, ended %v; want its %d, then the end", len(got), ended, h.Buffer)
	}
	for i, ev := range got {
		if ev.Message.Seq != int64(i+1) {
			t.Errorf("slow subscriber's event %d has seq %d", i, ev.Message.Seq)
		}
	}
	if _, dropped := h.Stats(); dropped != 1 {
		t.Errorf("Stats dropped = %d, want 1", dropped)
	}
	slow.Close() // closing a dropped subscription is harmless
}

// TestHubQueuedClose: closing the hub ends queued subscriptions (not as
// dropped) and tells their subscribers; one made after is ended at once.
func TestHubQueuedClose(t *testing.T) {
	h := kustomer.NewHub()
	q := subscribeFunc(h, kustomer.AllConversations)
	publish(t, h, msgEvent("conv-1", 1))
	h.Close()
	if n := q.notified.Load(); n != 2 {
		t.Errorf("notified %d times, want 2 (the event, the close)", n)
	}
	if got, ended := q.drain(); len(got) != 1 || !ended || q.Dropped() {
		t.Errorf("after the hub closed: %d events, ended %v, dropped %v; want 1, true, false", len(got), ended, q.Dropped())
	}
	late := subscribeFunc(h, "conv-1")
	if _, ok, ended := late.Next(); ok || !ended {
		t.Errorf("subscription after Close: ok %v ended %v, want ended", ok, ended)
	}
	q.Close()
	late.Close()
}

// TestHubQueuedConcurrent has publishers, queued subscribers woken by
// notify, slow queued subscribers that are dropped, and channel
// subscribers all at once (under -race it checks the locking): each
// subscriber that keeps up takes every event of its topic exactly once and
// each publisher's in order.
func TestHubQueuedConcurrent(t *testing.T) {
	const (
		publishers = 8
		perPub     = 300
	)
	h := kustomer.NewHub()
	defer h.Close()
	h.Buffer = publishers * perPub
	var readers []*queued
	for range 4 {
		readers = append(readers, subscribeFunc(h, "conv-1"))
	}
	h.Buffer = 2
	var slow []*queued
	for range 4 {
		slow = append(slow, subscribeFunc(h, "conv-1"))
	}
	errs := make(chan error, len(readers))
	var wg sync.WaitGroup
	for _, q := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer q.Close()
			last := map[string]int64{}
			for n := 0; n < publishers*perPub; {
				ev, ok, ended := q.Next()
				if ended {
					errs <- fmt.Errorf("ended after %d events (dropped %v)", n, q.Dropped())
					return
				}
				if !ok {
					select {
					case <-q.wake:
					case <-time.After(hubTimeout):
						errs <- fmt.Errorf("only %d of %d events within %v", n, publishers*perPub, hubTimeout)
						return
					}
					continue
				}
				if pub := ev.Message.ID; ev.Message.Seq != last[pub]+1 {
					errs <- fmt.Errorf("publisher %s: seq %d after %d", pub, ev.Message.Seq, last[pub])
					return
				}
				last[ev.Message.ID] = ev.Message.Seq
				n++
			}
		}()
	}
	var pubWG sync.WaitGroup
	for p := range publishers {
		pubWG.Add(1)
		go func() {
			defer pubWG.Done()
			for i := 1; i <= perPub; i++ {
				ev := msgEvent("conv-1", i)
				ev.Message.ID = fmt.Sprint("pub-", p)
				if err := h.Publish(context.Background(), ev); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	pubWG.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, q := range slow {
		if got, ended := q.drain(); !ended || !q.Dropped() || len(got) > 2 {
			t.Errorf("slow subscriber %d: %d events, ended %v, dropped %v; want at most 2, ended and dropped", i, len(got), ended, q.Dropped())
		}
	}
}
