package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// A file written inside a sandbox is there after stop and start, and after
// restarts by the restart policy; diff, export and commit see it while the
// sandbox is stopped; it is gone after rm — the filesystem is ephemeral as
// docker's is: it lives as long as the sandbox, not as its process.
func TestWritableLayerLivesUntilRm(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	name := "keeps-files"
	run := func(args ...string) string {
		t.Helper()
		out, code := gbCLI(t, args...)
		if code != 0 {
			t.Fatalf("glassbox %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	t.Cleanup(func() { gbCLI(t, "rm", "-f", name) })
	run("run", "-d", "--name", name, "busybox", "sh", "-c", "echo ran >> /note; exec sleep 1000")
	sb, err := state.NewStore(roots).Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	upper := filepath.Join(roots.ContainersDir(), sb.ID, "upper")
	// run -d returns once the workload started, as docker's does, not once
	// its shell ran the echo: wait for the file, or stop could come first.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(upper, "note")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the workload's echo did not write /note in 10 s")
		}
	}
	run("stop", "-t", "0", name)
	if _, err := os.Stat(filepath.Join(upper, "note")); err != nil {
		t.Fatalf("after stop the writable layer lost the file: %v", err)
	}
	if out := run("diff", name); !strings.Contains(out, "A /note") {
		t.Errorf("diff of the stopped sandbox:\n%s", out)
	}
	tarFile := filepath.Join(t.TempDir(), "fs.tar")
	run("export", "-o", tarFile, name)
	if got := tarEntry(t, tarFile, "note"); got != "ran\n" {
		t.Errorf("export of the stopped sandbox has note %q, want \"ran\\n\"", got)
	}
	if out := run("start", name); strings.TrimSpace(out) != name {
		t.Errorf("glassbox start printed %q, want the name", out)
	}
	if out := run("exec", name, "cat", "/note"); out != "ran\nran\n" {
		t.Errorf("after start /note is %q: the file did not survive stop + start", out)
	}
	run("restart", name)
	if out := run("exec", name, "cat", "/note"); out != "ran\nran\nran\n" {
		t.Errorf("after restart /note is %q", out)
	}
	if out := run("start", name); strings.TrimSpace(out) != name {
		t.Errorf("glassbox start of a running sandbox printed %q", out)
	}
	run("stop", "-t", "0", name)
	run("commit", name, "keeps-files-image")
	if out := run("run", "--rm", "keeps-files-image", "cat", "/note"); out != "ran\nran\nran\n" {
		t.Errorf("commit of the stopped sandbox has /note %q", out)
	}
	run("rm", name)
	if _, err := os.Stat(filepath.Dir(upper)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after rm the writable layer is still there: %v", err)
	}
	if out, code := gbCLI(t, "start", name); code == 0 {
		t.Errorf("start after rm: exit 0\n%s", out)
	}

	// Restarts by the policy keep it too: the third run finds two lines.
	policy := "keeps-by-policy"
	t.Cleanup(func() { gbCLI(t, "rm", "-f", policy) })
	run("run", "-d", "--name", policy, "--restart", "on-failure", "busybox", "sh", "-c",
		`echo x >> /count; [ "$(wc -l < /count)" -ge 3 ] && exec sleep 1000; exit 1`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := gbCLI(t, "exec", policy, "cat", "/count")
		if out == "x\nx\nx\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restarts by the policy /count is %q, want three lines", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A foreground run has no record to keep a layer for; --rm and prune
	// remove what they remove with the layer.
	run("run", "busybox", "sh", "-c", "echo x > /f")
	run("run", "-d", "--rm", "--name", "gone-with-rm", "busybox", "sh", "-c", "echo x > /f")
	run("run", "-d", "--name", "gone-with-prune", "busybox", "sh", "-c", "echo x > /f")
	// prune passes over a sandbox whose supervisor is still at work (it
	// holds the lock until it exits): ask again until both are gone.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		run("prune")
		out := run("ps", "-a")
		if !strings.Contains(out, "gone-with-rm") && !strings.Contains(out, "gone-with-prune") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("--rm and prune did not remove the short sandboxes:\n%s", out)
		}
	}
	run("rm", "-f", policy)
	entries, _ := os.ReadDir(roots.ContainersDir())
	for _, e := range entries {
		found, _ := filepath.Glob(filepath.Join(roots.ContainersDir(), e.Name(), "*", "*"))
		t.Errorf("left behind: writable layer %s: %v", e.Name(), found)
	}
}

// tarEntry is the content of one file of a tar archive ("" if absent).
func tarEntry(t *testing.T, file, name string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			var b bytes.Buffer
			io.Copy(&b, tr)
			return b.String()
		}
	}
}
