package kustomer

import "sync"

// Memo caches values derived from one event, such as the frame each kind of
// subscriber is sent, so that they are computed once per event rather than
// once per subscriber. Every copy of an Event shares its Memo.
type Memo struct {
	mu   sync.Mutex
	vals map[string]any
}

// Do returns the value stored under key, computing it with fn the first
// time. Concurrent callers of the same key wait for the first.
func (m *Memo) Do(key string, fn func() any) any {
	if m == nil {
		return fn()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vals[key]; ok {
		return v
	}
	v := fn()
	if m.vals == nil {
		m.vals = make(map[string]any, 2)
	}
	m.vals[key] = v
	return v
}
