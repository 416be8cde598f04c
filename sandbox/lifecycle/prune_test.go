package lifecycle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

// Prune removes exited sandboxes and what a crash left without a record,
// however young, and keeps every sandbox whose lock another process holds:
// one being created (record or not), one running.
func TestPruneOrphans(t *testing.T) {
	roots := state.RootsAt(t.TempDir())
	e := New(roots)
	oldCg := cgroupRoot
	cgroupRoot = t.TempDir()
	defer func() { cgroupRoot = oldCg }()

	long := time.Now().Add(-time.Hour)
	mkdir := func(path string, old bool) string {
		if err := os.MkdirAll(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if old {
			os.Chtimes(path, long, long)
		}
		return path
	}
	self, _ := Self()
	e.store.Save(&state.Sandbox{ID: "111111111111", Name: "done", Status: state.Exited, Detached: true, Exit: &state.Exit{Code: 0}})
	e.store.Save(&state.Sandbox{ID: "222222222222", Name: "live", Status: state.Running, Detached: true, Created: time.Now()})
	writeProcess(e.store.Path("222222222222", supervisorFile), self)

	staleState := mkdir(roots.SandboxDir("333333333333"), false) // no record, nobody at work on it
	// No record yet, and its creator holds its lock: being created.
	freshState := mkdir(roots.SandboxDir("444444444444"), false)
	creator := holdLock(t, e, "444444444444")
	// A record that says created, from a creator that died after handing
	// the lock to its supervisor (which has not written its files yet).
	e.store.Save(&state.Sandbox{ID: "999999999999", Name: "starting", Status: state.Created, Detached: true, SupervisorPID: 1 << 23, Created: time.Now()})
	holdLock(t, e, "999999999999")
	staleLayer := mkdir(filepath.Join(roots.ContainersDir(), "555555555555", "upper"), false)
	os.Chtimes(filepath.Dir(staleLayer), long, long)
	liveLayer := mkdir(filepath.Join(roots.ContainersDir(), "222222222222", "upper"), true)
	os.Chtimes(filepath.Dir(liveLayer), long, long)

	cg := func(id, procs string) string {
		dir := mkdir(filepath.Join(cgroupRoot, "memory", "glassbox", id), false)
		os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(procs), 0o644)
		os.Chtimes(dir, long, long)
		return dir
	}
	emptyCg := cg("666666666666", "")
	busyCg := cg("777777777777", "4242\n") // perhaps another state root's sandbox
	liveCg := cg("222222222222", "")
	link := func(id, name string) string {
		dir := mkdir(filepath.Join(roots.Run, "l", id), false)
		p := filepath.Join(dir, name)
		if id == "" {
			p = filepath.Join(roots.Run, "l", name)
		}
		if err := os.Symlink("/nowhere", p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	staleLinks := filepath.Dir(link("555555555555", "0"))
	liveLinks := filepath.Dir(link("222222222222", "0"))
	sharedLink := link("", "0123456789") // of a glassbox from before the links were each sandbox's

	removed, err := e.Prune()
	// The fixture cgroups are plain directories holding a file, which rmdir
	// refuses; a real cgroupfs directory goes. The attempt is what counts.
	_ = err
	t.Logf("removed: %v", removed)
	gone := func(p string) bool { _, err := os.Stat(p); return os.IsNotExist(err) }
	if !gone(roots.SandboxDir("111111111111")) {
		t.Error("the exited sandbox was not removed")
	}
	if gone(roots.SandboxDir("222222222222")) || gone(liveLayer) || gone(liveCg) {
		t.Error("prune touched the running sandbox")
	}
	if !gone(staleState) || !gone(filepath.Dir(staleLayer)) {
		t.Error("prune left a stale state dir or writable layer")
	}
	if !gone(staleLinks) || !gone(sharedLink) {
		t.Error("prune left stale short layer links")
	}
	if gone(liveLinks) {
		t.Error("prune removed the short layer links of the running sandbox")
	}
	if gone(freshState) {
		t.Error("prune removed the state dir of a sandbox being created")
	}
	if sb, err := e.store.Load("999999999999"); err != nil || sb.Status != state.Created || sb.LastEventNote != "" {
		t.Errorf("prune touched the sandbox being started: %+v, %v", sb, err)
	}
	// Once its creator lets go (it died), it is a leftover like any other.
	creator.Release()
	if _, err := e.Prune(); err != nil {
		t.Logf("second prune: %v", err)
	}
	if !gone(freshState) || !gone(e.store.LockPath("444444444444")) {
		t.Error("prune left the state dir or lock of a creator that died")
	}
	if gone(busyCg) {
		t.Error("prune removed a cgroup with processes")
	}
	tried := false
	for _, r := range removed {
		if r == "cgroup "+emptyCg {
			tried = true
		}
	}
	if !tried && (err == nil || !strings.Contains(err.Error(), emptyCg)) {
		t.Errorf("prune did not try to remove the empty orphan cgroup %s (err %v)", emptyCg, err)
	}
}

// holdLock takes sandbox id's lock through a descriptor of its own, as
// another process would (flock excludes other open files of one process
// too), for the rest of the test.
func holdLock(t *testing.T, e *Engine, id string) *state.Lock {
	t.Helper()
	l, err := e.store.TryLock(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
	return l
}
