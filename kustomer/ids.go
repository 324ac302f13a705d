package kustomer

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"time"
)

// NewID returns a 24-character lowercase hex identifier, the shape of
// Kustomer's object ids (MongoDB ObjectIds): the first 4 bytes are the
// Unix time in seconds, the other 8 random. Ids made later sort after
// (from one second to the next), so the indexes on them grow at their end
// instead of taking each new id on a random page: a message stored dirties
// one page of each such index, shared with the messages stored with it.
func NewID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(time.Now().Unix()))
	rand.Read(b[4:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an id made by NewID.
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// newSessionID returns a random 64-character lowercase hex secret.
func newSessionID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validSessionID reports whether s has the shape of a session id.
func validSessionID(s string) bool {
	return len(s) == 64 && isHex(s)
}

// isHex reports whether s is lowercase hex digits only.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

var assistantIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
