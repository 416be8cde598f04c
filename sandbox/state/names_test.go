package state

import (
	"regexp"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id, err := NewID()
		if err != nil || !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(id) || seen[id] || !IsID(id) {
			t.Fatalf("NewID() = %q, %v (seen: %v)", id, err, seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "0123456789a", "0123456789abc", "0123456789aB", "../../etc/xx"} {
		if IsID(bad) {
			t.Errorf("IsID(%q) = true", bad)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", "-x", ".x", "_x", "a/b", "a b", "é", string(make([]byte, 64))} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
	for _, good := range []string{"calc", "calc-2.v_1", "9lives", "brave_otter"} {
		if err := CheckName(good); err != nil {
			t.Error(err)
		}
	}
}
