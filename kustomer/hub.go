package kustomer

import (
	"context"
	"sync"
	"sync/atomic"
)

// DefaultSubscriberBuffer is how many events a subscriber may fall behind
// before the Hub drops it. It is small because every open socket holds one:
// a socket that falls this far behind closes and resumes from its last seq.
const DefaultSubscriberBuffer = 32

// Hub is the in-process Broker. Publishing never blocks: a subscriber whose
// buffer is full is dropped (its channel closed) so that it cannot stall the
// others; the socket behind it closes and its client resumes from its last
// seq.
type Hub struct {
	// Buffer is each new subscription's channel capacity.
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

type hubSub struct {
	hub     *Hub
	topic   string
	ch      chan Event
	closed  bool // guarded by hub.mu
	dropped atomic.Bool
}

func (s *hubSub) Events() <-chan Event { return s.ch }
func (s *hubSub) Dropped() bool        { return s.dropped.Load() }
func (s *hubSub) Close()               { s.hub.remove(s) }

// Subscribe implements Broker.
func (h *Hub) Subscribe(conversationID string) Subscription {
	n := h.Buffer
	if n <= 0 {
		n = DefaultSubscriberBuffer
	}
	s := &hubSub{hub: h, topic: conversationID, ch: make(chan Event, n)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.closed = true
		close(s.ch)
		return s
	}
	subs := h.topics[conversationID]
	if subs == nil {
		subs = make(map[*hubSub]struct{})
		h.topics[conversationID] = subs
	}
	subs[s] = struct{}{}
	return s
}

// Publish implements Broker. It delivers to the conversation's subscribers
// and to those of AllConversations.
func (h *Hub) Publish(_ context.Context, ev Event) error {
	var slow []*hubSub
	// Sends happen under the read lock; channels are closed only under the
	// write lock, so a send never races a close.
	topics := []string{ev.ConversationID, AllConversations}
	if ev.ConversationID == AllConversations {
		topics = topics[1:]
	}
	h.mu.RLock()
	for _, topic := range topics {
		for s := range h.topics[topic] {
			select {
			case s.ch <- ev:
			default:
				slow = append(slow, s)
			}
		}
	}
	h.mu.RUnlock()
	h.published.Add(1)
	for _, s := range slow {
		s.dropped.Store(true)
		h.dropped.Add(1)
		h.remove(s)
	}
	return nil
}

func (h *Hub) remove(s *hubSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
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
			s.closed = true
			close(s.ch)
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
			s.closed = true
			close(s.ch)
			h.dropped.Add(1)
		}
		delete(h.topics, topic)
	}
}

// Stats returns how many events were published and how many subscribers
// were dropped for falling behind.
func (h *Hub) Stats() (published, dropped uint64) {
	return h.published.Load(), h.dropped.Load()
}
