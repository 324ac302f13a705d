// Package session is a typed wrapper over gorilla/sessions: it keeps the
// customer's id in an authenticated and encrypted cookie whose options are
// set explicitly.
package session

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gorilla/sessions"
)

// CookieName is the session cookie's name.
const CookieName = "handoff_session"

// EmbedCookieName is the cookie of a customer who started a conversation in
// a form embedded on another site: SameSite=None, Secure and Partitioned
// (CHIPS), so the browser keeps it for that site's frames only, where it
// keeps third-party cookies at all.
const EmbedCookieName = "handoff_embed"

const (
	keyCustomerID   = "cid"
	keyAgentID      = "aid"
	keyAgentSession = "asid"
	keyAgentAt      = "aat" // of cookies written before sessions were stored
	keyNotice       = "notice"
	keyReveal       = "reveal"
	maxAge          = 30 * 24 * 60 * 60 // 30 days
)

// KeyPair is one authentication key and one encryption key. The first pair
// signs and encrypts new cookies; later pairs still open old ones, so keys
// can be rotated without signing everyone out.
type KeyPair struct {
	Auth    []byte // HMAC-SHA256 key, 32 or 64 bytes
	Encrypt []byte // AES-256 key, 32 bytes
}

// Options configure the Manager.
type Options struct {
	Keys []KeyPair
	// Secure marks the cookie Secure; true whenever the site is served over
	// HTTPS.
	Secure bool
}

// Manager reads and writes sessions.
type Manager struct {
	store     *sessions.CookieStore
	embed     *sessions.CookieStore
	tokenKeys [][]byte // hand-off token keys, newest first
}

// New returns a Manager. It needs at least one key pair.
func New(opts Options) (*Manager, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("session: no keys")
	}
	var pairs [][]byte
	for i, k := range opts.Keys {
		if len(k.Auth) != 32 && len(k.Auth) != 64 {
			return nil, fmt.Errorf("session: key pair %d: authentication key must be 32 or 64 bytes, got %d", i+1, len(k.Auth))
		}
		if len(k.Encrypt) != 32 {
			return nil, fmt.Errorf("session: key pair %d: encryption key must be 32 bytes, got %d", i+1, len(k.Encrypt))
		}
		pairs = append(pairs, k.Auth, k.Encrypt)
	}
	st := sessions.NewCookieStore(pairs...)
	st.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   opts.Secure,
		SameSite: http.SameSiteLaxMode,
	}
	st.MaxAge(maxAge)
	// A cross-site frame's cookie must be SameSite=None, which browsers
	// accept only with Secure (they treat http://localhost as secure);
	// Partitioned keeps it in a jar of the embedding site's own.
	em := sessions.NewCookieStore(pairs...)
	em.Options = &sessions.Options{
		Path:        "/",
		MaxAge:      maxAge,
		HttpOnly:    true,
		Secure:      true,
		SameSite:    http.SameSiteNoneMode,
		Partitioned: true,
	}
	em.MaxAge(maxAge)
	m := &Manager{store: st, embed: em}
	for _, k := range opts.Keys {
		m.tokenKeys = append(m.tokenKeys, tokenKey(k.Auth))
	}
	return m, nil
}

// CustomerID returns the customer id of the request's session (the
// first-party cookie, else the embedded frame's), or "" when there is no
// valid session.
func (m *Manager) CustomerID(r *http.Request) string {
	if id := customerIn(r, m.store, CookieName); id != "" {
		return id
	}
	return customerIn(r, m.embed, EmbedCookieName)
}

func customerIn(r *http.Request, st *sessions.CookieStore, name string) string {
	if _, err := r.Cookie(name); err != nil {
		return ""
	}
	s, err := st.Get(r, name)
	if err != nil {
		return "" // tampered, expired or signed with a retired key
	}
	id, _ := s.Values[keyCustomerID].(string)
	return id
}

// SetEmbedCustomerID binds an embedded frame's session to a customer,
// writing the partitioned cookie. The browser may drop it (some block even
// partitioned cookies in frames): callers also hand out a hand-off token.
func (m *Manager) SetEmbedCustomerID(w http.ResponseWriter, r *http.Request, id string) error {
	s, _ := m.embed.Get(r, EmbedCookieName)
	s.Values[keyCustomerID] = id
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// SetCustomerID binds the session to a customer, writing the cookie.
func (m *Manager) SetCustomerID(w http.ResponseWriter, r *http.Request, id string) error {
	s, _ := m.store.Get(r, CookieName) // a bad old cookie yields a fresh session
	s.Values[keyCustomerID] = id
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// Agent returns the agent and the session id the request's cookie names,
// or "", "" when it names none. The session is only a claim: the caller
// checks that it is still live.
func (m *Manager) Agent(r *http.Request) (agentID, sessionID string) {
	if _, err := r.Cookie(CookieName); err != nil {
		return "", ""
	}
	s, err := m.store.Get(r, CookieName)
	if err != nil {
		return "", ""
	}
	agentID, _ = s.Values[keyAgentID].(string)
	sessionID, _ = s.Values[keyAgentSession].(string)
	if agentID == "" || sessionID == "" {
		return "", ""
	}
	return agentID, sessionID
}

// SetAgent signs an agent in with a stored session.
func (m *Manager) SetAgent(w http.ResponseWriter, r *http.Request, agentID, sessionID string) error {
	s, _ := m.store.Get(r, CookieName)
	s.Values[keyAgentID] = agentID
	s.Values[keyAgentSession] = sessionID
	delete(s.Values, keyAgentAt)
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// ClearAgent forgets the agent's session in this browser, keeping any
// customer identity and leaving notice (if not empty) to show on the next
// page. The stored session is the caller's to end.
func (m *Manager) ClearAgent(w http.ResponseWriter, r *http.Request, notice string) error {
	s, _ := m.store.Get(r, CookieName)
	delete(s.Values, keyAgentID)
	delete(s.Values, keyAgentSession)
	delete(s.Values, keyAgentAt)
	if notice != "" {
		s.Values[keyNotice] = notice
	}
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// SetNotice leaves a one-off message for the next page.
func (m *Manager) SetNotice(w http.ResponseWriter, r *http.Request, notice string) error {
	s, _ := m.store.Get(r, CookieName)
	s.Values[keyNotice] = notice
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// SetReveal keeps value (a secret just made) for the next page to show
// once, in the encrypted cookie, so that the page that shows it is a GET
// a reload cannot repeat the action of.
func (m *Manager) SetReveal(w http.ResponseWriter, r *http.Request, value string) error {
	s, _ := m.store.Get(r, CookieName)
	s.Values[keyReveal] = value
	if err := s.Save(r, w); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// TakeReveal returns and clears the value SetReveal kept, if any.
func (m *Manager) TakeReveal(w http.ResponseWriter, r *http.Request) string {
	if _, err := r.Cookie(CookieName); err != nil {
		return ""
	}
	s, err := m.store.Get(r, CookieName)
	if err != nil {
		return ""
	}
	v, _ := s.Values[keyReveal].(string)
	if v == "" {
		return ""
	}
	delete(s.Values, keyReveal)
	if err := s.Save(r, w); err != nil {
		return "" // not cleared: not shown either
	}
	return v
}

// TakeNotice returns and clears the one-off message, if any.
func (m *Manager) TakeNotice(w http.ResponseWriter, r *http.Request) string {
	if _, err := r.Cookie(CookieName); err != nil {
		return ""
	}
	s, err := m.store.Get(r, CookieName)
	if err != nil {
		return ""
	}
	n, _ := s.Values[keyNotice].(string)
	if n == "" {
		return ""
	}
	delete(s.Values, keyNotice)
	_ = s.Save(r, w) // best effort: at worst the notice shows twice
	return n
}

// ParseKeys reads key pairs written as "authHex:encHex", comma separated,
// newest first.
func ParseKeys(s string) ([]KeyPair, error) {
	var out []KeyPair
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, e, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("key pair %d: want authHex:encHex", i+1)
		}
		auth, err := hex.DecodeString(a)
		if err != nil {
			return nil, fmt.Errorf("key pair %d: authentication key is not hex", i+1)
		}
		enc, err := hex.DecodeString(e)
		if err != nil {
			return nil, fmt.Errorf("key pair %d: encryption key is not hex", i+1)
		}
		if len(auth) != 32 && len(auth) != 64 {
			return nil, fmt.Errorf("key pair %d: authentication key must be 32 or 64 bytes (64 or 128 hex digits)", i+1)
		}
		if len(enc) != 32 {
			return nil, fmt.Errorf("key pair %d: encryption key must be 32 bytes (64 hex digits)", i+1)
		}
		out = append(out, KeyPair{Auth: auth, Encrypt: enc})
	}
	if len(out) == 0 {
		return nil, errors.New("no key pairs")
	}
	return out, nil
}

// FormatKeys writes key pairs in the form ParseKeys reads.
func FormatKeys(keys []KeyPair) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = hex.EncodeToString(k.Auth) + ":" + hex.EncodeToString(k.Encrypt)
	}
	return strings.Join(parts, ",")
}

// DevKeys loads the development key pair saved in dir, generating and saving
// a new one on first use. created reports whether it was generated now.
func DevKeys(dir string) (keys []KeyPair, created bool, err error) {
	path := filepath.Join(dir, "session-keys")
	if b, err := os.ReadFile(path); err == nil {
		keys, err := ParseKeys(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("session: %s: %w", path, err)
		}
		return keys, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("session: %w", err)
	}
	k := KeyPair{Auth: make([]byte, 64), Encrypt: make([]byte, 32)}
	rand.Read(k.Auth)
	rand.Read(k.Encrypt)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, false, fmt.Errorf("session: %w", err)
	}
	if err := os.WriteFile(path, []byte(FormatKeys([]KeyPair{k})+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("session: save dev keys: %w", err)
	}
	return []KeyPair{k}, true, nil
}
