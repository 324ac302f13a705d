package kustomer

import (
	"context"
	"sync"
	"sync/atomic"
)

// DefaultSubscriberBuffer is how many events a subscriber may fall behind
// before the Hub drops it. It is small because every open socket may hold
// that many: a socket that falls this far behind closes and resumes from
// its last seq.
const DefaultSubscriberBuffer = 32

// Hub is the in-process Broker. Publishing never blocks: a subscriber that
// has fallen Buffer events behind is dropped (its channel closed, or its
// queue ended) so that it cannot stall the others; the socket behind it
// closes and its client resumes from its last seq.
type Hub struct {
	// Buffer is how many events each new subscription may hold: a
	// channel subscription's capacity, a queued one's limit.
	Buffer int

	mu     sync.RWMutex
	topics map[string]map[*hubSub]struct{}
	closed bool

	published atomic.Uint64
	dropped   atomic.Uint64
}

// NewHub returns a Hub with the default buffer.
func NewHub() *Hub {
	return &Hub{Buffer: DefaultSubscriberBuffer, topics: make(map[string]map[*hubSub]struct{})}
}

// hubSub is one subscription: a channel (Subscribe) or a queue with a
// callback (SubscribeFunc).
type hubSub struct {
	hub     *Hub
	topic   string
	closed  bool // guarded by hub.mu
	dropped atomic.Bool

	ch chan Event // nil for a queued subscription

	notify func()
	limit  int
	mu     sync.Mutex
	queue  []Event // nil while empty: an idle subscriber holds no buffer
	ended  bool    // no event will be queued any more; guarded by mu
}

func (s *hubSub) Events() <-chan Event { return s.ch }
func (s *hubSub) Dropped() bool        { return s.dropped.Load() }
func (s *hubSub) Close()               { s.hub.remove(s) }

// Next implements QueuedSubscription.
func (s *hubSub) Next() (ev Event, ok, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return Event{}, false, s.ended
	}
	ev = s.queue[0]
	s.queue[0] = Event{}
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil
	}
	return ev, true, false
}

// offer hands ev to the subscriber without blocking; false when it has
// fallen too far behind to take it. The caller holds hub.mu for reading.
func (s *hubSub) offer(ev Event) bool {
	if s.ch != nil {
		select {
		case s.ch <- ev:
			return true
		default:
			return false
		}
	}
	s.mu.Lock()
	if len(s.queue) >= s.limit {
		s.mu.Unlock()
		return false
	}
	if s.queue == nil {
		s.queue = make([]Event, 0, min(s.limit, 4))
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	s.notify()
	return true
}

// end closes the subscription's channel or ends its queue; caller holds
// hub.mu. A queued subscriber is told, unless it closed the subscription
// itself (then its waiting events are let go).
func (s *hubSub) end(byOwner bool) {
	s.closed = true
	if s.ch != nil {
		close(s.ch)
		return
	}
	s.mu.Lock()
	s.ended = true
	if byOwner {
		s.queue = nil
	}
	s.mu.Unlock()
	if !byOwner {
		s.notify()
	}
}

// Subscribe implements Broker.
func (h *Hub) Subscribe(conversationID string) Subscription {
	s := &hubSub{hub: h, topic: conversationID, ch: make(chan Event, h.buffer())}
	h.add(s)
	return s
}

// SubscribeFunc implements Broker. notify is called with the Hub's lock
// held for reading: it must return at once and call nothing of the Hub.
func (h *Hub) SubscribeFunc(conversationID string, notify func()) QueuedSubscription {
	s := &hubSub{hub: h, topic: conversationID, notify: notify, limit: h.buffer()}
	h.add(s)
	return s
}

func (h *Hub) buffer() int {
	if h.Buffer <= 0 {
		return DefaultSubscriberBuffer
	}
	return h.Buffer
}

func (h *Hub) add(s *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.end(false)
		return
	}
	subs := h.topics[s.topic]
	if subs == nil {
		subs = make(map[*hubSub]struct{})
		h.topics[s.topic] = subs
	}
	subs[s] = struct{}{}
}

// Publish implements Broker. It delivers to the conversation's subscribers
// and to those of AllConversations.
func (h *Hub) Publish(_ context.Context, ev Event) error {
	var slow []*hubSub
	// Offers happen under the read lock; subscriptions end only under the
	// write lock, so an offer never races an end.
	topics := []string{ev.ConversationID, AllConversations}
	if ev.ConversationID == AllConversations {
		topics = topics[1:]
	}
	h.mu.RLock()
	for _, topic := range topics {
		for s := range h.topics[topic] {
			if !s.offer(ev) {
				slow = append(slow, s)
			}
		}
	}
	h.mu.RUnlock()
	h.published.Add(1)
	for _, s := range slow {
		h.drop(s)
	}
	return nil
}

// drop ends a subscriber that fell behind.
func (h *Hub) drop(s *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	s.dropped.Store(true)
	h.dropped.Add(1)
	h.forget(s)
	s.end(false)
}

func (h *Hub) remove(s *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	h.forget(s)
	s.end(true)
}

// forget takes s out of its topic; caller holds h.mu.
func (h *Hub) forget(s *hubSub) {
	if subs := h.topics[s.topic]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.topics, s.topic)
		}
	}
}

// Close closes every subscription and refuses new ones, for shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for topic, subs := range h.topics {
		for s := range subs {
			s.end(false)
		}
		delete(h.topics, topic)
	}
}

// DropAll drops every subscriber as if it had fallen behind: each closes
// and its client resumes from its last seq, reading what it missed from the
// store. A broker that may have missed events (its connection to the other
// instances was lost) calls it.
func (h *Hub) DropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for topic, subs := range h.topics {
		for s := range subs {
			s.dropped.Store(true)
			h.dropped.Add(1)
			s.end(false)
		}
		delete(h.topics, topic)
	}
}

// Stats returns how many events were published and how many subscribers
// were dropped for falling behind.
func (h *Hub) Stats() (published, dropped uint64) {
	return h.published.Load(), h.dropped.Load()
}
