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
