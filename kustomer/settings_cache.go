package kustomer

import (
	"sync"
	"time"
)

// settingsTTL is how long an operator's form setting read from the store
// (the assistant that greets a form, the origins that may frame it) is
// taken as known. Every form view and hand-off needs them, and they change
// a few times a year: a change made on this instance applies at once, one
// made on another instance of the same site within settingsTTL.
const settingsTTL = time.Second

// settingsCache keeps values read from the store for settingsTTL, by key.
// Keys are form ids the configuration knows, so it stays small. Concurrent
// misses may each read the store; no lock is held over a read.
type settingsCache[V any] struct {
	mu   sync.Mutex
	gen  uint64 // counts forget calls
	vals map[string]settingsEntry[V]
}

type settingsEntry[V any] struct {
	v     V
	until time.Time
}

// get returns key's value, read with load when unknown or older than
// settingsTTL. A value whose read began before a forget is returned to
// its caller but not kept.
func (c *settingsCache[V]) get(key string, load func() (V, error)) (V, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.vals[key]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if c.vals == nil {
			c.vals = make(map[string]settingsEntry[V])
		}
		c.vals[key] = settingsEntry[V]{v: v, until: now.Add(settingsTTL)}
	}
	return v, nil
}

// forget drops every value, after this instance changed a setting.
func (c *settingsCache[V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.vals)
}
