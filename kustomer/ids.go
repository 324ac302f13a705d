package kustomer

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// NewID returns a random 24-character lowercase hex identifier, the shape
// Kustomer uses for its object ids.
func NewID() string {
	var b [12]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
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
