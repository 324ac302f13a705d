package kustomertest

import (
	"errors"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// testExternalRefs checks the mapping of local records to remote ids: set
// once, read both ways, a remote id never mapped twice, and versions that
// only move forward.
func testExternalRefs(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	r := kustomer.ExternalRef{System: "kustomer", Kind: "conversation", LocalID: "local-1", RemoteID: "5f0000000000000000000001", CreatedAt: at(1)}
	got, err := s.SetExternalRef(ctx, r)
	must(t, "SetExternalRef", err)
	if got != r {
		t.Fatalf("SetExternalRef = %+v, want %+v", got, r)
	}
	// Set again with another remote id: the stored mapping stands.
	again := r
	again.RemoteID, again.CreatedAt = "5f0000000000000000000002", at(2)
	if got, err = s.SetExternalRef(ctx, again); err != nil || got != r {
		t.Fatalf("SetExternalRef again = %+v, %v; want the first mapping", got, err)
	}
	// The remote id of another local record: a conflict.
	other := r
	other.LocalID = "local-2"
	if _, err := s.SetExternalRef(ctx, other); !errors.Is(err, kustomer.ErrConflict) {
		t.Fatalf("mapping a remote id twice: %v, want ErrConflict", err)
	}
	// The same remote id in another kind or system is another name.
	for _, o := range []kustomer.ExternalRef{
		{System: "kustomer", Kind: "customer", LocalID: "local-1", RemoteID: r.RemoteID, CreatedAt: at(3)},
		{System: "other", Kind: "conversation", LocalID: "local-2", RemoteID: r.RemoteID, CreatedAt: at(3)},
	} {
		if _, err := s.SetExternalRef(ctx, o); err != nil {
			t.Fatalf("SetExternalRef(%+v): %v", o, err)
		}
	}
	if got, err := s.ExternalRef(ctx, "kustomer", "conversation", "local-1"); err != nil || got != r {
		t.Fatalf("ExternalRef = %+v, %v", got, err)
	}
	if got, err := s.RemoteRef(ctx, "kustomer", "conversation", r.RemoteID); err != nil || got != r {
		t.Fatalf("RemoteRef = %+v, %v", got, err)
	}
	if _, err := s.ExternalRef(ctx, "kustomer", "conversation", "nope"); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("ExternalRef(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.RemoteRef(ctx, "kustomer", "message", r.RemoteID); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("RemoteRef(unknown) = %v, want ErrNotFound", err)
	}
	for _, step := range []struct {
		version int64
		want    bool
	}{{100, true}, {100, false}, {50, false}, {101, true}} {
		ok, err := s.AdvanceExternalRef(ctx, "kustomer", "conversation", "local-1", step.version)
		if err != nil || ok != step.want {
			t.Fatalf("AdvanceExternalRef(%d) = %v, %v; want %v", step.version, ok, err, step.want)
		}
	}
	if got, _ := s.ExternalRef(ctx, "kustomer", "conversation", "local-1"); got.Version != 101 {
		t.Fatalf("version %d, want 101", got.Version)
	}
	if _, err := s.AdvanceExternalRef(ctx, "kustomer", "conversation", "nope", 1); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("AdvanceExternalRef(unknown) = %v, want ErrNotFound", err)
	}
}
