package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEmbedCookieIsPartitionedAndRead(t *testing.T) {
	// Even on a plain-http site the embed cookie is Secure: SameSite=None
	// and Partitioned require it (browsers accept it on localhost).
	m, err := New(Options{Keys: []KeyPair{newKeys(t)}, Secure: false})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := m.SetEmbedCustomerID(w, httptest.NewRequest(http.MethodPost, "/", nil), "cust-9"); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies", len(cookies))
	}
	c := cookies[0]
	if c.Name != EmbedCookieName || !c.HttpOnly || !c.Secure || !c.Partitioned || c.SameSite != http.SameSiteNoneMode || c.Path != "/" {
		t.Errorf("embed cookie %+v", c)
	}
	if !strings.Contains(w.Header().Get("Set-Cookie"), "Partitioned") {
		t.Errorf("Set-Cookie %q lacks Partitioned", w.Header().Get("Set-Cookie"))
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	if got := m.CustomerID(r); got != "cust-9" {
		t.Errorf("CustomerID from embed cookie = %q", got)
	}
	// The first-party session wins when both are sent.
	r.AddCookie(roundTrip(t, m, "cust-1"))
	if got := m.CustomerID(r); got != "cust-1" {
		t.Errorf("CustomerID with both cookies = %q, want the first-party one", got)
	}
	// The embed cookie cannot be replayed under the first-party name.
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: c.Value})
	if got := m.CustomerID(r); got != "" {
		t.Errorf("embed cookie value accepted as the session cookie: %q", got)
	}
}

func TestHandoffTokenRoundTrip(t *testing.T) {
	m, err := New(Options{Keys: []KeyPair{newKeys(t)}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	tok, issued := m.IssueHandoff("conv-1", "cust-1", now)
	if strings.Contains(tok, " ") || len(tok) > maxTokenLen {
		t.Fatalf("token %q", tok)
	}
	h, err := m.ReadHandoff(tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if h != issued || h.ConversationID != "conv-1" || h.CustomerID != "cust-1" || h.Nonce == "" || !h.Expires.Equal(now.Add(HandoffTTL)) {
		t.Errorf("read %+v, issued %+v", h, issued)
	}
	if _, err := m.ReadHandoff(tok, now.Add(HandoffTTL)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("at expiry: %v, want ErrTokenExpired", err)
	}
	tok2, h2 := m.IssueHandoff("conv-1", "cust-1", now)
	if tok2 == tok || h2.Nonce == h.Nonce {
		t.Error("two tokens share a nonce")
	}
}

func TestHandoffTokenRejectsTampering(t *testing.T) {
	k1, k2 := newKeys(t), newKeys(t)
	m, _ := New(Options{Keys: []KeyPair{k1}})
	other, _ := New(Options{Keys: []KeyPair{k2}})
	now := time.Now()
	tok, _ := m.IssueHandoff("conv-1", "cust-1", now)
	body, sig, _ := strings.Cut(tok, ".")
	forged, _ := other.IssueHandoff("conv-1", "cust-1", now)
	for name, bad := range map[string]string{
		"empty":          "",
		"no signature":   body,
		"bad signature":  body + ".AAAA",
		"other key":      forged,
		"swapped body":   strings.Split(forged, ".")[0] + "." + sig,
		"not base64":     "!!!." + sig,
		"too long":       tok + strings.Repeat("A", maxTokenLen),
		"cookie instead": roundTrip(t, m, "cust-1").Value,
	} {
		if _, err := m.ReadHandoff(bad, now); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: %v, want ErrTokenInvalid", name, err)
		}
	}
	// Rotation: a token signed with a retired key still reads until it
	// expires.
	rotated, _ := New(Options{Keys: []KeyPair{k2, k1}})
	if _, err := rotated.ReadHandoff(tok, now); err != nil {
		t.Errorf("after rotation: %v", err)
	}
}

// TestTokenKindsDoNotCross checks that an email link, an unsubscribe link
// and a frame's hand-off token are each accepted only as what they are: an
// email link never grants access the way a frame token does.
func TestTokenKindsDoNotCross(t *testing.T) {
	m, err := New(Options{Keys: []KeyPair{newKeys(t)}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	frame, _ := m.IssueHandoff("conv-1", "cust-1", now)
	email, issued := m.IssueEmailLink("conv-1", "cust-1", now)
	unsub := m.IssueUnsubscribe("cust-1", now)

	if _, err := m.ReadHandoff(email, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("email link read as a hand-off: %v, want ErrTokenInvalid", err)
	}
	if _, err := m.ReadHandoff(unsub, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("unsubscribe read as a hand-off: %v", err)
	}
	if _, err := m.ReadEmailLink(frame, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("hand-off read as an email link: %v", err)
	}
	if _, err := m.ReadUnsubscribe(email, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("email link read as an unsubscribe: %v", err)
	}
	h, err := m.ReadEmailLink(email, now.Add(EmailLinkTTL-time.Second))
	if err != nil || h != issued {
		t.Errorf("email link before expiry: %+v, %v; want %+v", h, err, issued)
	}
	// Expired, it still says whose it was, to offer a fresh one.
	h, err = m.ReadEmailLink(email, now.Add(EmailLinkTTL))
	if !errors.Is(err, ErrTokenExpired) || h.CustomerID != "cust-1" || h.ConversationID != "conv-1" {
		t.Errorf("expired email link: %+v, %v", h, err)
	}
	if cust, err := m.ReadUnsubscribe(unsub, now.Add(365*24*time.Hour)); err != nil || cust != "cust-1" {
		t.Errorf("unsubscribe a year later: %q, %v", cust, err)
	}
	// One character in the middle changed (every bit of it is used; the
	// last may carry unused ones): the signature no longer matches.
	b := []byte(email)
	if i := len(b) / 2; b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	tampered := string(b)
	if _, err := m.ReadEmailLink(tampered, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("tampered email link %q (from %q): %v", tampered, email, err)
	}
}
