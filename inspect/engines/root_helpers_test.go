package engines_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/sandboxtest"
)

// run runs a command and returns its stdout; stderr goes into the error.
func run(t testing.TB, name string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String(), err
}

// startDetached runs a command that leaves a process behind (runc run -d,
// ctr run -d): its output goes to a file, since the process it leaves
// holds its stdio open and a pipe would never end.
func startDetached(t testing.TB, logFile, name string, args ...string) {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(logFile)
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, b)
	}
}

func must(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, _, err := run(t, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// need stops the test when a tool it drives is missing: a failure under
// the README's test command and CI (which install it: .ci/deps).
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			sandboxtest.Missing(t, tool, "apt-get install docker.io busybox-static")
		}
	}
}

// notInVM skips, inside CI's cgroup v2 VM, a test that proves nothing
// particular to cgroup v2 or is too slow there: the VM runs under software
// emulation (measured: the docker test spent over 3 minutes — dockerd, an
// image build, eight glassbox runs — before its memory hog; each glassbox
// run takes seconds) and runs every root package in one 15-minute budget.
// The host's run covers these tests; in the VM, runc, crun and containerd
// prove another engine's container on cgroup v2.
func notInVM(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("GLASSBOX_VM") == "1" {
		t.Skipf("inside the emulated cgroup v2 VM: %s is too slow there (the host's run covers it; runc, crun and containerd run here)", what)
	}
}

// testID is a name for what a test creates on the host: it says glassbox,
// so that the leak check recognises it.
func testID(what string) string {
	return fmt.Sprintf("glassbox-test-%s-%d-%04x", what, os.Getpid(), rand.IntN(1<<16))
}

// busyboxRoot makes a root directory holding a static busybox.
func busyboxRoot(t testing.TB) string {
	t.Helper()
	need(t, "busybox")
	root := filepath.Join(tempDir(t), "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"sh", "sleep", "head", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// tempDir is a temporary directory named for glassbox's tests (the leak
// check looks for them), removed at cleanup.
func tempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "glassbox-test-engines-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// snapshotJSON decodes `glassbox inspect --json`.
func snapshotJSON(t testing.TB, out string) *inspect.Snapshot {
	t.Helper()
	var s inspect.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	return &s
}

// eventually retries f until it returns nil or the time is up.
func eventually(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// procCgroupPaths reads /proc/PID/cgroup: controller (or "unified") -> path.
func procCgroupPaths(t testing.TB, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || strings.HasPrefix(parts[1], "name=") {
			continue
		}
		if parts[1] == "" {
			out["unified"] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}
