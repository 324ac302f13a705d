package session

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newKeys(t testing.TB) KeyPair {
	t.Helper()
	keys, _, err := DevKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return keys[0]
}

// roundTrip saves id with m and returns the cookie it set.
func roundTrip(t testing.TB, m *Manager, id string) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := m.SetCustomerID(w, httptest.NewRequest(http.MethodPost, "/", nil), id); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies", len(cookies))
	}
	return cookies[0]
}

func read(m *Manager, c *http.Cookie) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	return m.CustomerID(r)
}

func TestCookieRoundTripAndOptions(t *testing.T) {
	m, err := New(Options{Keys: []KeyPair{newKeys(t)}, Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	c := roundTrip(t, m, "cust-1")
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
		t.Errorf("cookie options %+v", c)
	}
	if strings.Contains(c.Value, "cust-1") {
		t.Errorf("cookie value is not encrypted")
	}
	if got := read(m, c); got != "cust-1" {
		t.Errorf("read %q", got)
	}
	if got := m.CustomerID(httptest.NewRequest(http.MethodGet, "/", nil)); got != "" {
		t.Errorf("no cookie read as %q", got)
	}
}

func TestTamperedOrForeignCookieIgnored(t *testing.T) {
	m, _ := New(Options{Keys: []KeyPair{newKeys(t)}})
	c := roundTrip(t, m, "cust-1")
	tampered := *c
	tampered.Value = c.Value[:len(c.Value)-2] + "AA"
	if got := read(m, &tampered); got != "" {
		t.Errorf("tampered cookie read as %q", got)
	}
	other, _ := New(Options{Keys: []KeyPair{newKeys(t)}})
	if got := read(other, c); got != "" {
		t.Errorf("cookie from other keys read as %q", got)
	}
}

func TestKeyRotation(t *testing.T) {
	old, cur := newKeys(t), newKeys(t)
	before, _ := New(Options{Keys: []KeyPair{old}})
	c := roundTrip(t, before, "cust-1")
	after, _ := New(Options{Keys: []KeyPair{cur, old}})
	if got := read(after, c); got != "cust-1" {
		t.Errorf("cookie signed with the previous keys read as %q", got)
	}
}

func TestParseKeys(t *testing.T) {
	k := newKeys(t)
	pairs, err := ParseKeys(FormatKeys([]KeyPair{k, k}))
	if err != nil || len(pairs) != 2 {
		t.Fatalf("round trip: %v %d", err, len(pairs))
	}
	for _, bad := range []string{"", "abc", "zz:yy", strings.Repeat("a", 64) + ":" + strings.Repeat("b", 10), strings.Repeat("a", 10) + ":" + strings.Repeat("b", 64)} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

func TestDevKeysPersist(t *testing.T) {
	dir := t.TempDir()
	a, created, err := DevKeys(dir)
	if err != nil || !created {
		t.Fatalf("first: %v created=%v", err, created)
	}
	b, created, err := DevKeys(dir)
	if err != nil || created || FormatKeys(a) != FormatKeys(b) {
		t.Errorf("second call did not load the saved keys: %v created=%v", err, created)
	}
}
