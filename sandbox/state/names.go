package state

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// The checks below are plain loops, not regexps: package-level regexps
// are compiled at every start of the binary — the calculator's too.

// NewID returns a fresh sandbox id: 12 random hex digits, like docker's
// short ids.
func NewID() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate a sandbox id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// IsID says whether s is a sandbox id: 12 lower-case hex digits.
func IsID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckName refuses a sandbox name that is malformed (docker's rule: a
// letter or digit, then letters, digits, '_', '.', '-'; at most 63
// characters). A name becomes part of messages and paths: no slashes,
// spaces or leading dots.
func CheckName(s string) error {
	ok := len(s) > 0 && len(s) <= 63 && isAlnum(s[0])
	for i := 1; ok && i < len(s); i++ {
		c := s[i]
		ok = isAlnum(c) || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return fmt.Errorf("invalid name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 63 characters", s)
	}
	return nil
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
