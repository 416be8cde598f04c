package nsinit

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"glassbox/sandbox/rootfs"
	"glassbox/sandbox/state"
)

// TestEncode checks the wire format init.c reads.
func TestEncode(t *testing.T) {
	plan := []rootfs.Op{{Kind: rootfs.OpMount, Src: "proc", Dst: "/r/proc", FSType: "proc", Flags: 14, Mkdir: true}}
	b, err := Encode(plan, &Exec{Path: "/app/c", Args: []string{"c", "-x"}, Env: []string{"A=1"}, Cwd: "/app", Caps: 5, Seccomp: "0600000000000000", TTY: true, Rows: 24, Cols: 80,
		UID: 1000, GID: 50, Groups: []uint32{50, 1000}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1", "mount", "proc", "/r/proc", "proc", "", "14", "0", "0", "1",
		"/app/c", "/app", "5", "0600000000000000", "2", "c", "-x", "1", "A=1", "1", "24", "80",
		"1000", "50", "2", "50", "1000"}
	checkFields(t, b, want)
	if _, err := Encode(nil, &Exec{Path: "/a", Args: []string{"a\x00b"}}); err == nil {
		t.Error("a NUL in an argument: no error")
	}
}

func checkFields(t *testing.T, b []byte, want []string) {
	t.Helper()
	n, _ := strconv.Atoi(string(b[:10]))
	if n != len(b)-10 {
		t.Fatalf("length prefix %q for %d bytes", b[:10], len(b)-10)
	}
	fields := bytes.Split(bytes.TrimSuffix(b[10:], []byte{0}), []byte{0})
	if len(fields) != len(want) {
		t.Fatalf("%d fields %q, want %q", len(fields), fields, want)
	}
	for i := range want {
		if string(fields[i]) != want[i] {
			t.Errorf("field %d = %q, want %q", i, fields[i], want[i])
		}
	}
}

// TestEncodeJoin checks the wire format exec.c reads.
func TestEncodeJoin(t *testing.T) {
	b, err := EncodeJoin(&Join{
		InitPID: 42, InitStart: 777, Namespaces: []string{"user", "pid", "mnt"},
		CgroupProcs: []string{"/sys/fs/cgroup/glassbox/x/cgroup.procs"}, Cgroup2Dir: "/sys/fs/cgroup/glassbox/x", UID: 1000, GID: 100, Groups: []uint32{100, 10},
		Detach: true,
		Exec:   Exec{Args: []string{"sh", "-c", "x"}, Env: []string{"A=1"}, Cwd: "/w", Caps: 9, Seccomp: "ab", TTY: true, Rows: 30, Cols: 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFields(t, b, []string{"42", "777", "1", "1", "30", "100", "3", "user", "pid", "mnt",
		"1", "/sys/fs/cgroup/glassbox/x/cgroup.procs", "/sys/fs/cgroup/glassbox/x", "1000", "100", "2", "100", "10", "9", "ab", "/w",
		"3", "sh", "-c", "x", "1", "A=1"})
	for _, j := range []*Join{{}, {Exec: Exec{Args: []string{"a"}, Env: []string{"B=\x00"}}}} {
		if _, err := EncodeJoin(j); err == nil {
			t.Errorf("EncodeJoin(%+v): no error", j)
		}
	}
}

func TestCapMask(t *testing.T) {
	// docker's default set, as /proc/PID/status shows it.
	if got := CapMask(DefaultCaps); got != 0xa80425fb {
		t.Errorf("CapMask(DefaultCaps) = %#x, want 0xa80425fb", got)
	}
}

func TestCapabilities(t *testing.T) {
	def := CapMask(DefaultCaps)
	bit := func(name string) uint64 {
		b, ok := state.CapBit(name)
		if !ok {
			t.Fatalf("no capability %s", name)
		}
		return 1 << b
	}
	for _, tc := range []struct {
		add, drop []string
		want      uint64
	}{
		{nil, nil, def},
		{[]string{"NET_ADMIN"}, nil, def | bit("CAP_NET_ADMIN")},
		{[]string{"cap_sys_ptrace"}, []string{"CHOWN", "CAP_NET_RAW"}, def&^bit("CHOWN")&^bit("NET_RAW") | bit("SYS_PTRACE")},
		{[]string{"ALL"}, []string{"SYS_ADMIN"}, AllCaps() &^ bit("SYS_ADMIN")},
		{[]string{"KILL"}, []string{"all"}, bit("KILL")},
		{nil, []string{"ALL"}, 0},
		{[]string{"NET_RAW"}, []string{"NET_RAW"}, def}, // added and dropped: kept, as docker does
	} {
		got, err := Capabilities(tc.add, tc.drop)
		if err != nil || got != tc.want {
			t.Errorf("Capabilities(%v, %v) = %#x, %v; want %#x", tc.add, tc.drop, got, err, tc.want)
		}
	}
	if _, err := Capabilities([]string{"NET_ADMINN"}, nil); err == nil || !strings.Contains(err.Error(), "--cap-add NET_ADMINN: no such capability") {
		t.Errorf("a misspelt capability: %v", err)
	}
}
