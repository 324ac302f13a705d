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
	C string `json:"c"` // conversation id
	U string `json:"u"` // customer id
	N string `json:"n"` // nonce
	X int64  `json:"x"` // expiry, Unix seconds
}

// tokenDomain separates hand-off token MACs from any other use of the keys.
const tokenDomain = "handoff hand-off token v1"

// IssueHandoff signs a token giving customerID access to conversationID for
// HandoffTTL from now. Embedded frames whose cookies the browser dropped
// carry it (in memory) instead of a session.
func (m *Manager) IssueHandoff(conversationID, customerID string, now time.Time) (string, Handoff) {
	var nonce [16]byte
	rand.Read(nonce[:])
	h := Handoff{
		ConversationID: conversationID,
		CustomerID:     customerID,
		Nonce:          base64.RawURLEncoding.EncodeToString(nonce[:]),
		Expires:        now.Add(HandoffTTL).Truncate(time.Second).UTC(),
	}
	payload, _ := json.Marshal(handoffClaims{C: h.ConversationID, U: h.CustomerID, N: h.Nonce, X: h.Expires.Unix()})
	body := base64.RawURLEncoding.EncodeToString(payload)
	mac := tokenMAC(m.tokenKeys[0], body)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac), h
}

// ReadHandoff verifies a token signed with any of the manager's keys and
// returns what it grants. A token past its expiry is ErrTokenExpired; any
// other problem is ErrTokenInvalid.
func (m *Manager) ReadHandoff(token string, now time.Time) (Handoff, error) {
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
	if err := json.Unmarshal(payload, &c); err != nil || c.C == "" || c.U == "" || c.N == "" {
		return Handoff{}, ErrTokenInvalid
	}
	h := Handoff{ConversationID: c.C, CustomerID: c.U, Nonce: c.N, Expires: time.Unix(c.X, 0).UTC()}
	if !now.Before(h.Expires) {
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
