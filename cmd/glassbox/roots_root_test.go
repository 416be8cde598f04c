package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// Two state roots on one host: prune, reconcile and rm in one never touch
// the other's sandboxes — not even one whose id a record of the first root
// names too (written by hand, or a test's fixed id), though cgroups are
// named by id alone.
func TestPruneInOneRootLeavesTheOthersSandboxes(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.AlsoOnCgroupV2(t)
	mine := sandboxtest.TempRoots(t)
	otherDir, err := os.MkdirTemp("", "glassbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(otherDir) })
	other := state.RootsAt(otherDir)
	in := func(root string, args ...string) (string, int) {
		return gbCLI(t, append([]string{"--root", root}, args...)...)
	}
	mineDir := filepath.Dir(mine.Lib)
	for _, name := range []string{"victim", "bystander"} {
		if out, code := in(otherDir, "run", "-d", "--name", name, "busybox", "sleep", "1000"); code != 0 {
			t.Fatalf("run -d %s in the other root: exit %d\n%s", name, code, out)
		}
	}
	t.Cleanup(func() { in(otherDir, "rm", "-f", "victim", "bystander") })
	victim, err := state.NewStore(other).Resolve("victim")
	if err != nil {
		t.Fatal(err)
	}
	// This root's leftovers of the same id: a record whose owner is gone
	// (reconcile releases it), and a writable layer without one.
	store := state.NewStore(mine)
	if err := store.Save(&state.Sandbox{ID: victim.ID, Name: "same-id", Image: "busybox", Status: state.Running, Detached: true,
		SupervisorPID: 1 << 22, Created: time.Now().Add(-time.Hour), Network: victim.Network}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(mine.ContainersDir(), victim.ID, "upper"), 0o755); err != nil {
		t.Fatal(err)
	}
	in(mineDir, "ps", "-a")
	in(mineDir, "prune")
	in(mineDir, "rm", "-f", victim.ID)
	in(mineDir, "prune")
	for _, name := range []string{"victim", "bystander"} {
		out, code := in(otherDir, "exec", name, "echo", "alive")
		if code != 0 || strings.TrimSpace(out) != "alive" {
			t.Errorf("the other root's %s after this root's prune and rm: exit %d %q", name, code, out)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + victim.Network.HostIf); victim.Network.HostIf == "" || err != nil {
		t.Errorf("the other root's victim lost its veth %q: %v", victim.Network.HostIf, err)
	}
	if sb, err := state.NewStore(other).Resolve("victim"); err != nil || sb.Status != state.Running {
		t.Errorf("the other root's record of victim: %+v, %v", sb, err)
	}
}
