package lifecycle_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"glassbox/sandbox"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// A sandbox's writable layer is mounted volatile where the kernel has the
// option: its exit does not sync the host's disk (the whole filesystem of
// the upper directory) while stop and rm wait. What it wrote is still
// there after a stop, and a start mounts the same writable layer again
// (the kernel refuses a work directory a volatile mount used: each start
// makes it anew).
func TestWritableLayerVolatile(t *testing.T) {
	if !sandbox.VolatileOverlay() {
		t.Skip("this kernel has no overlayfs volatile option (Linux 5.10)")
	}
	c := newCLI(t)
	name := sandboxtest.UniqueName("volatile")
	c.Ok("run", "-d", "--name", name, "busybox", "sh", "-c", "echo kept > /kept; exec sleep 600")
	running := func(sb *state.Sandbox) bool { return sb.Status == state.Running && sb.InitPID > 0 }
	sb := c.waitFor(name, "running", running)
	if opts := rootOverlayOptions(t, sb.InitPID); !strings.Contains(opts, "volatile") {
		t.Errorf("the root overlay's options %q lack volatile", opts)
	}
	c.Ok("stop", "-t", "0", name)
	c.Ok("start", name)
	sb = c.waitFor(name, "running again", running)
	if opts := rootOverlayOptions(t, sb.InitPID); !strings.Contains(opts, "volatile") {
		t.Errorf("after a restart the root overlay's options %q lack volatile", opts)
	}
	if out := c.Ok("exec", name, "cat", "/kept"); strings.TrimSpace(out) != "kept" {
		t.Errorf("after stop and start /kept reads %q, want what the first run wrote", out)
	}
}

// rootOverlayOptions are the super options of the overlay mounted at / in
// pid's mount namespace.
func rootOverlayOptions(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[4] != "/" {
			continue
		}
		for i, x := range f {
			if x == "-" && i+3 < len(f) && f[i+1] == "overlay" {
				return f[i+3]
			}
		}
	}
	t.Fatalf("no overlay at / in /proc/%d/mountinfo:\n%s", pid, data)
	return ""
}
