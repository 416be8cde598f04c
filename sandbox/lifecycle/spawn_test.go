package lifecycle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

// A start that fails says why, with the supervisor's last words, and
// leaves no supervisor behind: one that exits, and one that hangs (issue
// 16, bug 9: run -d waited 2 minutes and then pointed at a log it had
// already removed).
func TestSpawnFailureSaysWhy(t *testing.T) {
	old := startWait
	startWait = 2 * time.Second
	t.Cleanup(func() { startWait = old })
	for _, c := range []struct {
		name, script, want string
	}{
		{"exits", "echo 'supervisor: nftables: operation not supported' >&2; exit 1", "the supervisor exited before the sandbox started: supervisor: nftables: operation not supported"},
		{"hangs", "echo 'glassbox: waiting for the kernel' >&2; exec sleep 600", "did not start within 2s; its supervisor's last words: glassbox: waiting for the kernel"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "fake-glassbox")
			os.WriteFile(bin, []byte("#!/bin/sh\n"+c.script+"\n"), 0o755)
			e := New(state.RootsAt(filepath.Join(dir, "root")))
			e.Binary = bin
			const id = "abcdefabcdef"
			l, err := e.store.TryLock(id)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Remove()
			os.MkdirAll(e.Roots.SandboxDir(id), 0o700)
			err = e.spawn(id, l)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("spawn: %v\nwant an error saying %q", err, c.want)
			}
			// Nobody else holds the sandbox's lock: the supervisor is gone.
			l.Release()
			if e.store.Busy(id) {
				t.Error("the failed supervisor still holds the sandbox's lock")
			}
		})
	}
}

// A supervisor started before its sandbox (run -d's prestart) writes to a
// nameless log: abandoned — the request was refused — it ends on EOF and
// leaves no file; handed a sandbox, its log gets the sandbox's name, and a
// start that fails still says why with its words.
func TestPrestartedSupervisor(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-glassbox")
	// Like the real one: it waits on fd 3 for the handoff; EOF ends it
	// quietly, a handoff gets its last words and exit 1.
	os.WriteFile(bin, []byte("#!/bin/sh\nif head -c 1 <&3 | grep -q .; then echo 'supervisor: the sandbox failed' >&2; exit 1; fi\nexit 0\n"), 0o755)
	e := New(state.RootsAt(filepath.Join(dir, "root")))
	e.Binary = bin
	if p := e.prestart(); p != nil {
		p.abandon()
		t.Fatal("prestart without a sandboxes directory: want none (made for a valid request only)")
	}
	os.MkdirAll(e.Roots.SandboxesDir(), 0o700)

	p := e.prestart()
	if p == nil {
		t.Fatal("prestart: none")
	}
	p.abandon()
	select {
	case <-p.exited:
	default:
		t.Fatal("abandon returned before the supervisor ended")
	}
	if entries, _ := os.ReadDir(e.Roots.SandboxesDir()); len(entries) != 0 {
		t.Errorf("an abandoned supervisor left %v", entries)
	}

	const id = "abcdefabcdef"
	l, err := e.store.TryLock(id)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Remove()
	os.MkdirAll(e.Roots.SandboxDir(id), 0o700)
	if p = e.prestart(); p == nil {
		t.Fatal("prestart: none")
	}
	err = p.handoff(e, id, l)
	if want := "the supervisor exited before the sandbox started: supervisor: the sandbox failed"; err == nil || err.Error() != want {
		t.Fatalf("handoff: %v, want %q", err, want)
	}
	if b, _ := os.ReadFile(e.store.Path(id, "supervisor.log")); string(b) != "supervisor: the sandbox failed\n" {
		t.Errorf("supervisor.log: %q", b)
	}
	l.Release()
	if e.store.Busy(id) {
		t.Error("the failed supervisor still holds the sandbox's lock")
	}
}
