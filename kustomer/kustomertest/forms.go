package kustomertest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// testFormOrigins checks the operators' lists of allowed origins: absent,
// stored, stored empty, replaced, deleted, each audited with its setting.
func testFormOrigins(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	wantOrigins := func(what, formID string, want []string, wantOK bool) {
		t.Helper()
		got, ok, err := s.FormOrigins(ctx, formID)
		must(t, what, err)
		if ok != wantOK || !slices.Equal(got, want) || (ok && got == nil) {
			t.Errorf("%s: FormOrigins(%s) = %q (nil %v), %v; want %q, %v", what, formID, got, got == nil, ok, want, wantOK)
		}
	}
	wantOrigins("new store", "contact", nil, false)

	entry := func(n int, formID, from, to string) kustomer.FormAuditEntry {
		return kustomer.FormAuditEntry{ID: kustomer.NewID(), FormID: formID, AgentID: "a1", AgentName: "Ada", From: from, To: to, At: at(n)}
	}
	two := []string{"https://shop.example.com", "http://localhost:8080"}
	must(t, "SetFormOrigins two", s.SetFormOrigins(ctx, entry(1, "contact", "https://www.example.com", strings.Join(two, " ")), two))
	wantOrigins("after storing two", "contact", two, true)
	wantOrigins("another form", "sales", nil, false)

	must(t, "SetFormOrigins empty", s.SetFormOrigins(ctx, entry(2, "contact", strings.Join(two, " "), ""), []string{}))
	wantOrigins("after storing none", "contact", []string{}, true)

	must(t, "SetFormOrigins replace", s.SetFormOrigins(ctx, entry(3, "contact", "", "https://a.example"), []string{"https://a.example"}))
	wantOrigins("after replacing", "contact", []string{"https://a.example"}, true)

	must(t, "SetFormAssistant", s.SetFormAssistant(ctx, entry(4, "contact", "", "greeter")))
	must(t, "SetFormOrigins reset", s.SetFormOrigins(ctx, entry(5, "contact", "https://a.example", "https://www.example.com"), nil))
	wantOrigins("after the reset", "contact", nil, false)
	// Resetting what is not stored still records the entry.
	must(t, "SetFormOrigins reset again", s.SetFormOrigins(ctx, entry(6, "sales", "", ""), nil))
	wantOrigins("after resetting nothing", "sales", nil, false)

	audit, err := s.FormAudit(ctx, 10)
	must(t, "FormAudit", err)
	type row struct{ form, setting, from, to string }
	var got []row
	for _, e := range audit {
		got = append(got, row{e.FormID, e.Setting, e.From, e.To})
	}
	want := []row{
		{"sales", kustomer.FormSettingAllowedOrigins, "", ""},
		{"contact", kustomer.FormSettingAllowedOrigins, "https://a.example", "https://www.example.com"},
		{"contact", kustomer.FormSettingAssistant, "", "greeter"},
		{"contact", kustomer.FormSettingAllowedOrigins, "", "https://a.example"},
		{"contact", kustomer.FormSettingAllowedOrigins, strings.Join(two, " "), ""},
		{"contact", kustomer.FormSettingAllowedOrigins, "https://www.example.com", "https://shop.example.com http://localhost:8080"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit, newest first:\n got %+v\nwant %+v", got, want)
	}
}

// testUseOnce checks single-use keys: refused while live, usable again once
// expired, and exactly one winner among concurrent uses.
func testUseOnce(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	must(t, "first use", s.UseOnce(ctx, "k1", at(60), at(0)))
	err := s.UseOnce(ctx, "k1", at(120), at(1))
	wantErr(t, "second use", err, kustomer.ErrAlreadyUsed)
	wantErr(t, "second use", err, kustomer.ErrConflict)
	must(t, "another key", s.UseOnce(ctx, "k2", at(60), at(1)))
	err = s.UseOnce(ctx, "k1", at(120), at(59))
	wantErr(t, "use just before it expires", err, kustomer.ErrAlreadyUsed)

	// At its expiry the key is free again, and then held until the new
	// expiry.
	must(t, "use once expired", s.UseOnce(ctx, "k1", at(200), at(60)))
	wantErr(t, "use after the renewal", s.UseOnce(ctx, "k1", at(300), at(61)), kustomer.ErrAlreadyUsed)
	// k2 has expired too: it is usable again.
	must(t, "k2 after it expired", s.UseOnce(ctx, "k2", at(300), at(100)))

	const n = 10
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok, used int
	)
	for range n {
		wg.Go(func() {
			err := s.UseOnce(ctx, "contended", at(500), at(100))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, kustomer.ErrAlreadyUsed):
				used++
			default:
				t.Errorf("concurrent use: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || used != n-1 {
		t.Errorf("%d concurrent uses of one key: %d succeeded, %d refused; want 1 and %d", n, ok, used, n-1)
	}
}

// testEngineFormOrigins checks the origins allowed to frame a form: the
// default from handoff.yaml, an operator's list (normalized, validated,
// audited), an empty list, the reset, and who may change them.
func testEngineFormOrigins(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	e := f.engine
	admin := kustomer.Agent{ID: "admin-1", Name: "Ada", Role: kustomer.RoleAdmin}
	wantOrigins := func(what string, want []string, wantOverridden bool) {
		t.Helper()
		got, overridden, err := e.FormOrigins(ctx, "contact")
		must(t, what, err)
		if overridden != wantOverridden || !slices.Equal(got, want) {
			t.Errorf("%s: FormOrigins = %q, %v; want %q, %v", what, got, overridden, want, wantOverridden)
		}
	}
	auditLen := func() int {
		t.Helper()
		audit, err := e.FormAudit(ctx, 100)
		must(t, "FormAudit", err)
		return len(audit)
	}
	yaml := []string{"https://www.example.com"}
	wantOrigins("default", yaml, false)

	_, _, err := e.FormOrigins(ctx, "nope")
	wantErr(t, "FormOrigins of an unknown form", err, kustomer.ErrNotFound)
	wantErr(t, "SetFormOrigins of an unknown form", e.SetFormOrigins(ctx, admin, "nope", yaml), kustomer.ErrNotFound)
	wantErr(t, "ResetFormOrigins of an unknown form", e.ResetFormOrigins(ctx, admin, "nope"), kustomer.ErrNotFound)

	for _, by := range []kustomer.Agent{
		{ID: "agent-1", Name: "Grace", Role: kustomer.RoleAgent},
		{ID: "admin-2", Name: "Off", Role: kustomer.RoleAdmin, Disabled: true},
	} {
		wantErr(t, "SetFormOrigins by "+by.Name, e.SetFormOrigins(ctx, by, "contact", []string{"https://a.example"}), kustomer.ErrForbidden)
		wantErr(t, "ResetFormOrigins by "+by.Name, e.ResetFormOrigins(ctx, by, "contact"), kustomer.ErrForbidden)
	}

	tooMany := make([]string, kustomer.MaxAllowedOrigins+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("https://site%d.example.com", i)
	}
	for _, tt := range []struct {
		name, bad string
		origins   []string
	}{
		{"scheme", "ftp://files.example.com", []string{"https://ok.example.com", "ftp://files.example.com"}},
		{"path", "https://www.example.com/shop", []string{"https://www.example.com/shop"}},
		{"wildcard", "https://*.example.com", []string{"https://*.example.com"}},
		{"userinfo", "https://me@example.com", []string{"https://me@example.com"}},
		{"query", "https://example.com?x=1", []string{"https://example.com?x=1"}},
		{"not a URL", "example.com", []string{"example.com"}},
		{"too many", "at most 20", tooMany},
	} {
		err := e.SetFormOrigins(ctx, admin, "contact", tt.origins)
		wantValidation(t, "SetFormOrigins "+tt.name, err, "allowedOrigins")
		var ve *kustomer.ValidationError
		if errors.As(err, &ve) && !strings.Contains(ve.Fields["allowedOrigins"], tt.bad) {
			t.Errorf("SetFormOrigins %s: message %q does not name %q", tt.name, ve.Fields["allowedOrigins"], tt.bad)
		}
	}
	// Twenty distinct origins are fine, repeats not counted.
	wantOrigins("after refusals", yaml, false)
	if n := auditLen(); n != 0 {
		t.Errorf("refused changes were audited: %d entries", n)
	}

	must(t, "SetFormOrigins", e.SetFormOrigins(ctx, admin, "contact", []string{
		"HTTPS://Shop.Example.com:443/", "http://LOCALHOST:8080", "https://shop.example.com", "http://[::1]:80",
	}))
	set := []string{"https://shop.example.com", "http://localhost:8080", "http://[::1]"}
	wantOrigins("after setting", set, true)
	must(t, "SetFormOrigins unchanged", e.SetFormOrigins(ctx, admin, "contact", []string{"https://shop.example.com", "http://localhost:8080", "http://[::1]"}))
	if n := auditLen(); n != 1 {
		t.Errorf("audit entries after a change and a no-op = %d, want 1", n)
	}
	must(t, "SetFormOrigins twenty", e.SetFormOrigins(ctx, admin, "contact", append(tooMany[:kustomer.MaxAllowedOrigins:kustomer.MaxAllowedOrigins], tooMany[0])))
	wantOrigins("twenty", tooMany[:kustomer.MaxAllowedOrigins], true)

	must(t, "SetFormOrigins none", e.SetFormOrigins(ctx, admin, "contact", nil))
	wantOrigins("an empty list", []string{}, true)

	must(t, "SetFormAssistant", e.SetFormAssistant(ctx, admin, "contact", ""))
	must(t, "ResetFormOrigins", e.ResetFormOrigins(ctx, admin, "contact"))
	wantOrigins("after the reset", yaml, false)
	before := auditLen()
	must(t, "ResetFormOrigins again", e.ResetFormOrigins(ctx, admin, "contact"))
	must(t, "SetFormOrigins as handoff.yaml", e.SetFormOrigins(ctx, admin, "contact", []string{"https://WWW.example.com"}))
	if n := auditLen(); n != before {
		t.Errorf("no-op reset and set were audited: %d entries, want %d", n, before)
	}
	wantOrigins("after no-ops", yaml, false)

	audit, err := e.FormAudit(ctx, 10)
	must(t, "FormAudit", err)
	type row struct{ setting, who, from, to string }
	var got []row
	for _, a := range audit {
		if a.FormID != "contact" || a.AgentID != admin.ID || a.ID == "" || a.At.IsZero() {
			t.Errorf("audit entry %+v: want form contact, by %s, with an id and a time", a, admin.ID)
		}
		got = append(got, row{a.Setting, a.AgentName, a.From, a.To})
	}
	twenty := strings.Join(tooMany[:kustomer.MaxAllowedOrigins], " ")
	want := []row{
		{kustomer.FormSettingAllowedOrigins, "Ada", "", "https://www.example.com"},
		{kustomer.FormSettingAssistant, "Ada", "greeter", ""},
		{kustomer.FormSettingAllowedOrigins, "Ada", twenty, ""},
		{kustomer.FormSettingAllowedOrigins, "Ada", strings.Join(set, " "), twenty},
		{kustomer.FormSettingAllowedOrigins, "Ada", "https://www.example.com", strings.Join(set, " ")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit, newest first:\n got %q\nwant %q", got, want)
	}
}

// testEngineFormSettingsShared checks that the operators' form settings,
// which each engine keeps for a moment, reach every engine over the store:
// the engine that changed them at once, another one within a second.
func testEngineFormSettingsShared(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	a, b := f.engine, newEngineFixture(t, f.store).engine
	admin := kustomer.Agent{ID: "admin-1", Name: "Ada", Role: kustomer.RoleAdmin}
	settings := func(e *kustomer.Engine) (string, string) {
		t.Helper()
		origins, _, err := e.FormOrigins(ctx, "contact")
		must(t, "FormOrigins", err)
		assistant, _, err := e.FormAssistant(ctx, "contact")
		must(t, "FormAssistant", err)
		return strings.Join(origins, " "), assistant
	}
	// Both engines read, and keep, handoff.yaml's settings.
	for _, e := range []*kustomer.Engine{a, b} {
		if o, as := settings(e); o != "https://www.example.com" || as != "greeter" {
			t.Fatalf("defaults: origins %q, assistant %q", o, as)
		}
	}
	must(t, "SetFormOrigins", a.SetFormOrigins(ctx, admin, "contact", []string{"https://a.example"}))
	must(t, "SetFormAssistant", a.SetFormAssistant(ctx, admin, "contact", ""))
	if o, as := settings(a); o != "https://a.example" || as != "" {
		t.Errorf("the engine that changed them: origins %q, assistant %q right after; want the new ones", o, as)
	}
	start := time.Now()
	for {
		o, as := settings(b)
		if o == "https://a.example" && as == "" {
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("another engine still has origins %q, assistant %q after %v", o, as, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(t, "ResetFormOrigins", a.ResetFormOrigins(ctx, admin, "contact"))
	if o, _ := settings(a); o != "https://www.example.com" {
		t.Errorf("after a reset: origins %q, want handoff.yaml's", o)
	}
}

// testEngineUseOnce checks that the Engine's single-use keys expire by its
// clock.
func testEngineUseOnce(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	e := f.engine
	now := e.Now()
	must(t, "first use", e.UseOnce(ctx, "nonce", now.Add(10*time.Minute)))
	err := e.UseOnce(ctx, "nonce", now.Add(20*time.Minute))
	wantErr(t, "second use", err, kustomer.ErrAlreadyUsed)
	wantErr(t, "second use", err, kustomer.ErrConflict)
	// The key expires at the engine's (stepping) clock's time: already
	// expired keys never block.
	must(t, "expired at once", e.UseOnce(ctx, "stale", now.Add(-time.Hour)))
	must(t, "stale again", e.UseOnce(ctx, "stale", now.Add(time.Hour)))
	if err := e.UseOnce(ctx, "", now.Add(time.Hour)); err == nil {
		t.Errorf("an empty key was accepted")
	}
}
