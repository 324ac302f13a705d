package session

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// HandoffTTL is how long a hand-off token is valid. A frame keeps its token
// fresh over the open socket, so only an idle frame runs into it.
const HandoffTTL = 10 * time.Minute

// maxTokenLen bounds what ReadHandoff will even look at.
const maxTokenLen = 512

// Errors from ReadHandoff.
var (
	ErrTokenInvalid = errors.New("session: hand-off token is not valid")
	ErrTokenExpired = errors.New("session: hand-off token has expired")
)

// Handoff is what a hand-off token grants: the customer's access to one
// conversation until Expires. Nonce identifies the token, so that exchanging
// it for a session can be allowed once.
type Handoff struct {
	ConversationID string
	CustomerID     string
	Nonce          string
	Expires        time.Time
}

type handoffClaims struct {
	K string `json:"k,omitempty"` // kind: "" a frame's hand-off, "e" an email link, "u" an unsubscribe link
	C string `json:"c"`           // conversation id
	U string `json:"u"`           // customer id
	N string `json:"n"`           // nonce
	X int64  `json:"x"`           // expiry, Unix seconds
}

// tokenDomain separates hand-off token MACs from any other use of the keys.
const tokenDomain = "handoff hand-off token v1"

// The kinds of tokens, so that one kind is never accepted as another.
const (
	kindHandoff     = ""
	kindEmailLink   = "e"
	kindUnsubscribe = "u"
)

// EmailLinkTTL is how long the link in a follow-up email opens the chat.
const EmailLinkTTL = 7 * 24 * time.Hour

// unsubscribeTTL is how long an unsubscribe link works: long after the
// email was read.
const unsubscribeTTL = 2 * 365 * 24 * time.Hour

// IssueHandoff signs a token giving customerID access to conversationID for
// HandoffTTL from now. Embedded frames whose cookies the browser dropped
// carry it (in memory) instead of a session.
func (m *Manager) IssueHandoff(conversationID, customerID string, now time.Time) (string, Handoff) {
	return m.issue(kindHandoff, conversationID, customerID, now.Add(HandoffTTL))
}

// IssueEmailLink signs the token of an email's link to conversationID: it
// is exchanged, once, for a first-party session of customerID, until
// EmailLinkTTL from now. It never grants access by itself.
func (m *Manager) IssueEmailLink(conversationID, customerID string, now time.Time) (string, Handoff) {
	return m.issue(kindEmailLink, conversationID, customerID, now.Add(EmailLinkTTL))
}

// IssueUnsubscribe signs the token of a link that stops follow-up emails
// to customerID.
func (m *Manager) IssueUnsubscribe(customerID string, now time.Time) string {
	tok, _ := m.issue(kindUnsubscribe, "-", customerID, now.Add(unsubscribeTTL))
	return tok
}

func (m *Manager) issue(kind, conversationID, customerID string, expires time.Time) (string, Handoff) {
	var nonce [16]byte
	rand.Read(nonce[:])
	h := Handoff{
		ConversationID: conversationID,
		CustomerID:     customerID,
		Nonce:          base64.RawURLEncoding.EncodeToString(nonce[:]),
		Expires:        expires.Truncate(time.Second).UTC(),
	}
	payload, _ := json.Marshal(handoffClaims{K: kind, C: h.ConversationID, U: h.CustomerID, N: h.Nonce, X: h.Expires.Unix()})
	body := base64.RawURLEncoding.EncodeToString(payload)
	mac := tokenMAC(m.tokenKeys[0], body)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac), h
}

// ReadHandoff verifies a token signed with any of the manager's keys and
// returns what it grants. A token past its expiry is ErrTokenExpired; any
// other problem is ErrTokenInvalid.
func (m *Manager) ReadHandoff(token string, now time.Time) (Handoff, error) {
	return m.read(kindHandoff, token, now)
}

// ReadEmailLink is ReadHandoff for the tokens of IssueEmailLink. An expired
// link still names its conversation and customer (with ErrTokenExpired),
// so that a fresh one can be offered.
func (m *Manager) ReadEmailLink(token string, now time.Time) (Handoff, error) {
	return m.read(kindEmailLink, token, now)
}

// ReadUnsubscribe returns the customer an unsubscribe token names.
func (m *Manager) ReadUnsubscribe(token string, now time.Time) (string, error) {
	h, err := m.read(kindUnsubscribe, token, now)
	return h.CustomerID, err
}

func (m *Manager) read(kind, token string, now time.Time) (Handoff, error) {
	if token == "" || len(token) > maxTokenLen {
		return Handoff{}, ErrTokenInvalid
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok {
		return Handoff{}, ErrTokenInvalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return Handoff{}, ErrTokenInvalid
	}
	valid := false
	for _, k := range m.tokenKeys {
		if hmac.Equal(mac, tokenMAC(k, body)) {
			valid = true
			break
		}
	}
	if !valid {
		return Handoff{}, ErrTokenInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Handoff{}, ErrTokenInvalid
	}
	var c handoffClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.K != kind || c.C == "" || c.U == "" || c.N == "" {
		return Handoff{}, ErrTokenInvalid
	}
	h := Handoff{ConversationID: c.C, CustomerID: c.U, Nonce: c.N, Expires: time.Unix(c.X, 0).UTC()}
	if !now.Before(h.Expires) {
		if kind == kindEmailLink {
			return h, ErrTokenExpired
		}
		return Handoff{}, ErrTokenExpired
	}
	return h, nil
}

// tokenKey derives the hand-off token key from a cookie authentication key,
// so that rotating session keys rotates token keys too.
func tokenKey(auth []byte) []byte {
	m := hmac.New(sha256.New, auth)
	m.Write([]byte(tokenDomain))
	return m.Sum(nil)
}

func tokenMAC(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)
}
