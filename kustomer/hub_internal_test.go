package kustomer

import (
	"context"
	"testing"
)

// TestHubQueueHeldOnlyWhileFull: a queued subscription holds no buffer
// before its first event and none again once it has taken them all, so an
// idle socket's subscription costs only its own small struct.
func TestHubQueueHeldOnlyWhileFull(t *testing.T) {
	h := NewHub()
	defer h.Close()
	sub := h.SubscribeFunc("conv-1", func() {})
	defer sub.Close()
	s := sub.(*hubSub)
	held := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.queue != nil
	}
	if held() {
		t.Fatalf("a new subscription holds a queue")
	}
	for i := range 3 {
		if err := h.Publish(context.Background(), Event{Type: EventTyping, ConversationID: "conv-1", Typing: &Typing{Typing: i%2 == 0}}); err != nil {
			t.Fatal(err)
		}
	}
	if !held() {
		t.Fatalf("events published, but no queue holds them")
	}
	for range 3 {
		if _, ok, _ := sub.Next(); !ok {
			t.Fatal("an event went missing")
		}
	}
	if held() {
		t.Errorf("a drained subscription still holds its queue")
	}
}
