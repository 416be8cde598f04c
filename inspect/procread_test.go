//go:build linux

package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProcReadStatusWhenNeeded: every refresh takes the moving figures
// from stat; status (uid, capabilities, NSpid…) is read when the process is
// first seen, when its comm changes (an exec) and once it is slowRefresh
// old — never left stale longer than that.
func TestProcReadStatusWhenNeeded(t *testing.T) {
	dir := t.TempDir()
	status, err := os.ReadFile("testdata/proc/4251/status")
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile("testdata/proc/4251/stat")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		// In place, like the kernel: the held descriptors see the new bytes.
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("status", string(status))
	write("stat", string(stat))
	h := &procHandle{pid: 4251}
	if h.status, err = openHeld(filepath.Join(dir, "status")); err != nil {
		t.Fatal(err)
	}
	if h.stat, err = openHeld(filepath.Join(dir, "stat")); err != nil {
		t.Fatal(err)
	}
	defer h.close()
	c := &collector{buf: make([]byte, 64<<10)}
	read := func(at time.Time) Process {
		t.Helper()
		p, gone := h.read(c, at, 1)
		if gone || len(c.errs) > 0 {
			t.Fatalf("read: gone %v, errors %v", gone, c.errs)
		}
		return p
	}
	t0 := time.Unix(1000, 0)

	p := read(t0)
	if p.Command != "calculator" || p.UID != 0 || p.SandboxPID != 2 || p.CapEff == "" || p.PPID != 4242 ||
		p.State != "sleeping" || p.Threads != 7 || p.RSSBytes != 3136*pageSize || p.CPUTime != 1.58 {
		t.Fatalf("first read: %+v", p)
	}

	// Between slow refreshes, stat moves and status is not read again.
	write("stat", strings.Replace(string(stat), " 3136 ", " 4000 ", 1))
	write("status", strings.Replace(string(status), "Uid:\t0\t0", "Uid:\t0\t1234", 1))
	if p = read(t0.Add(time.Second)); p.RSSBytes != 4000*pageSize || p.UID != 0 {
		t.Errorf("1 s later: RSS %d (want %d), uid %d (want the earlier 0)", p.RSSBytes, 4000*pageSize, p.UID)
	}
	// Once slowRefresh old, status is read again.
	if p = read(t0.Add(slowRefresh)); p.UID != 1234 {
		t.Errorf("%v later: uid %d, want 1234", slowRefresh, p.UID)
	}
	// An exec changes the comm: status is read again at once.
	write("stat", strings.Replace(string(stat), "(calculator)", "(sh)", 1))
	write("status", strings.Replace(strings.Replace(string(status), "Name:\tcalculator", "Name:\tsh", 1), "Uid:\t0\t0", "Uid:\t0\t77", 1))
	if p = read(t0.Add(slowRefresh + time.Second)); p.Command != "sh" || p.UID != 77 {
		t.Errorf("after an exec: command %q uid %d, want sh and 77", p.Command, p.UID)
	}
}

// settled needs no_new_privs and a permitted set without CAP_SYS_ADMIN.
func TestStatusSettled(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   bool
	}{
		{"Name:\tcalculator\nNSpid:\t7\t1\nCapPrm:\t00000000a80425fb\nNoNewPrivs:\t1\n", true},
		{"Name:\tcalculator\nNSpid:\t7\t1\nCapPrm:\t00000000a80425fb\nNoNewPrivs:\t0\n", false},
		{"Name:\texe\nNSpid:\t7\t1\nCapPrm:\t000001fffeffffff\nNoNewPrivs:\t1\n", false},
		{"Name:\texe\nNSpid:\t7\t1\nCapPrm:\t0000000000200000\nNoNewPrivs:\t1\n", false},
		{"Name:\told\nNSpid:\t7\nNoNewPrivs:\t1\n", false}, // no CapPrm line: cannot tell
	} {
		s, err := parseStatus([]byte(tc.status), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.settled() != tc.want {
			t.Errorf("%q: settled %v", tc.status, s.settled())
		}
	}
}
