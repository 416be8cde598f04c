package nsinit

import (
	"bytes"
	"strconv"
	"testing"

	"glassbox/sandbox/rootfs"
)

// TestEncode checks the wire format init.c reads.
func TestEncode(t *testing.T) {
	plan := []rootfs.Op{{Kind: rootfs.OpMount, Src: "proc", Dst: "/r/proc", FSType: "proc", Flags: 14, Mkdir: true}}
	b, err := Encode(plan, &Exec{Path: "/app/c", Args: []string{"c", "-x"}, Env: []string{"A=1"}, Cwd: "/app", Caps: 5})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(b[:10]))
	if n != len(b)-10 {
		t.Fatalf("length prefix %q for %d bytes", b[:10], len(b)-10)
	}
	fields := bytes.Split(bytes.TrimSuffix(b[10:], []byte{0}), []byte{0})
	want := []string{"1", "mount", "proc", "/r/proc", "proc", "", "14", "0", "0", "1",
		"/app/c", "/app", "5", "2", "c", "-x", "1", "A=1"}
	if len(fields) != len(want) {
		t.Fatalf("%d fields %q, want %q", len(fields), fields, want)
	}
	for i := range want {
		if string(fields[i]) != want[i] {
			t.Errorf("field %d = %q, want %q", i, fields[i], want[i])
		}
	}
	if _, err := Encode(nil, &Exec{Path: "/a", Args: []string{"a\x00b"}}); err == nil {
		t.Error("a NUL in an argument: no error")
	}
}

func TestCapMask(t *testing.T) {
	// docker's default set, as /proc/PID/status shows it.
	if got := CapMask(DefaultCaps); got != 0xa80425fb {
		t.Errorf("CapMask(DefaultCaps) = %#x, want 0xa80425fb", got)
	}
}
