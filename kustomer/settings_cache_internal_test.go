package kustomer

import (
	"errors"
	"testing"
)

func TestSettingsCache(t *testing.T) {
	var c settingsCache[int]
	reads := 0
	load := func(v int) func() (int, error) {
		return func() (int, error) { reads++; return v, nil }
	}
	if v, _ := c.get("k", load(1)); v != 1 || reads != 1 {
		t.Fatalf("first get = %d after %d reads", v, reads)
	}
	if v, _ := c.get("k", load(2)); v != 1 || reads != 1 {
		t.Errorf("second get = %d after %d reads; want the kept 1 without a read", v, reads)
	}
	c.forget()
	if v, _ := c.get("k", load(3)); v != 3 || reads != 2 {
		t.Errorf("after forget = %d after %d reads; want 3 read again", v, reads)
	}

	// A read that began before a forget is answered but not kept: it may
	// predate the change that forget announces.
	c.forget()
	v, _ := c.get("k", func() (int, error) { c.forget(); return 4, nil })
	if v != 4 {
		t.Errorf("racing read = %d, want 4", v)
	}
	if v, _ := c.get("k", load(5)); v != 5 {
		t.Errorf("after a read that raced a forget = %d, want 5 read again", v)
	}

	// Errors are not kept.
	c.forget()
	if _, err := c.get("e", func() (int, error) { return 0, errors.New("down") }); err == nil {
		t.Errorf("an error was lost")
	}
	if v, _ := c.get("e", load(6)); v != 6 {
		t.Errorf("after an error = %d, want 6 read again", v)
	}
}
