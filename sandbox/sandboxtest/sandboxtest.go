// Package sandboxtest holds what the root integration tests of every package
// share: the root check, a temporary state root, and the glassbox binary
// under test.
package sandboxtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"glassbox/sandbox/state"
)

// RequireRoot skips the test, saying why, when it does not run as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create namespaces, cgroups and mounts; run the tests as root (CI does)")
	}
}

// TempRoots gives the test its own state root (what GLASSBOX_ROOT does), with
// "glassbox" in its path so that a leak check recognises anything left in it,
// and sets GLASSBOX_ROOT for child processes for the test's duration.
func TempRoots(t testing.TB) state.Roots {
	t.Helper()
	dir, err := os.MkdirTemp("", "glassbox-test-")
	if err != nil {
		t.Fatalf("temp root: %v", err)
	}
	t.Cleanup(func() {
		stopLeftoverSupervisors(t, dir)
		os.RemoveAll(dir)
	})
	t.Setenv("GLASSBOX_ROOT", dir)
	return state.RootsAt(dir)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of a glassbox binary to test: $GLASSBOX_BIN when it
// is set (the cgroup v2 VM uses binaries built on the host), otherwise one
// built once per test process from this module's cmd/glassbox.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("GLASSBOX_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		removeStaleBinaries()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("gbbin-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "glassbox")
		cmd := exec.Command("go", "build", "-o", binPath, "glassbox/cmd/glassbox")
		cmd.Dir = moduleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: strings.TrimSpace(string(out))}
		}
	})
	if buildErr != nil {
		t.Fatalf("build glassbox: %v", buildErr)
	}
	return binPath
}

// Main runs a package's tests and then removes the glassbox binary they
// built, if any: each test process builds its own (24 MB), and without this
// the last one would stay in the temporary directory. A package whose tests
// call Binary has
//
//	func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	return code
}

// removeStaleBinaries deletes the binaries of test processes that ended
// without Main's clean-up (killed, or timed out).
func removeStaleBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "gbbin-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "gbbin-"))
		if err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			continue // its test process still runs
		}
		os.RemoveAll(d)
	}
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
