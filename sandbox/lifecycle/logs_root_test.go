package lifecycle_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// Issue 16, bug 7, for real: a detached sandbox's log is capped by
// --log-opt, and logs spans its files.
func TestRunLogOptCapsTheLog(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("chatty")
	c.Ok("run", "-d", "--name", name, "--log-opt", "max-size=16k,max-file=3", "busybox",
		"sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done")
	sb := c.waitFor(name, "exited, its supervisor gone", func(sb *state.Sandbox) bool {
		return sb.Status == state.Exited && !alive(sb.SupervisorPID)
	})
	files, _ := filepath.Glob(filepath.Join(c.Roots.SandboxDir(sb.ID), "log.json*"))
	if len(files) != 3 {
		t.Errorf("log files %v, want 3", files)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > 16<<10 {
			t.Errorf("%s is %d bytes, over max-size 16 KiB", f, fi.Size())
		}
	}
	// The supervisor's own notes ("glassbox: the workload ended") are in
	// it too, but they are the sandbox's events, not its output.
	if out := strings.Split(c.Ok("logs", "--tail", "2", name), "\n"); len(out) != 3 || out[0] != "line 4998" || out[1] != "line 4999" {
		t.Errorf("logs --tail 2: %q, want lines 4998 and 4999", out)
	}
	if out := c.Ok("events", "--tail", "1", name); !strings.Contains(out, " glassbox: the workload ended: Exited (0)") {
		t.Errorf("events --tail 1: %q, want the supervisor's note of the exit", out)
	}
	all := strings.Split(strings.TrimSpace(c.Ok("logs", name)), "\n")
	var first int
	fmt.Sscanf(all[0], "line %d", &first)
	for i, l := range all {
		if l != fmt.Sprintf("line %d", first+i) {
			t.Fatalf("logs: line %d is %q, want line %d: not in order across the files", i, l, first+i)
		}
	}
	if all[len(all)-1] != "line 4999" {
		t.Errorf("logs ends with %q", all[len(all)-1])
	}
	t.Logf("kept lines %d to 4999 in %d files", first, len(files))

	// Bad options and a foreground run are refused before anything exists.
	c.Fails("unknown option", "run", "-d", "--name", sandboxtest.UniqueName("bad"), "--log-opt", "compress=true", "busybox", "true")
	c.Fails("max-size", "run", "-d", "--name", sandboxtest.UniqueName("bad"), "--log-opt", "max-size=1", "busybox", "true")
	c.Fails("--log-opt needs -d", "run", "--name", sandboxtest.UniqueName("bad"), "--log-opt", "max-file=2", "busybox", "true")
	for _, r := range c.ps() {
		if strings.HasPrefix(r.Name, "bad-") {
			t.Errorf("a refused run left %s", r.Name)
		}
	}
}
