package lifecycle_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/sandboxtest"
)

// `glassbox run -d` is one Go process: the binary's constructor splits off
// the front the caller waits for, and the process that printed the id is
// the sandbox's supervisor from then on — in a session of its own, in /,
// its stdin /dev/null, its stdout and stderr the sandbox's supervisor.log,
// so that the caller's pipe reaches EOF as the front returns.
func TestRunDetachedBecomesItsSupervisor(t *testing.T) {
	if !nsinit.Available() {
		t.Skip("built without cgo: no constructor, the supervisor is a process of its own")
	}
	c := newCLI(t)
	name := sandboxtest.UniqueName("hosted")
	cmd := exec.Command(c.Bin, "run", "-d", "--name", name, "--network", "none", "busybox", "sleep", "600")
	cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+filepath.Dir(c.Roots.Run))
	// exec.Cmd copies a non-file stdout through a pipe and returns only
	// once every writer of it has closed it: a supervisor that kept the
	// caller's stdout would hold this up for the sandbox's 600 s.
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run -d: %v", err)
	}
	id := strings.TrimSpace(string(out))
	sb := c.get(id)
	pid := sb.SupervisorPID
	if pid == cmd.Process.Pid {
		t.Fatalf("the supervisor is the front %d", pid)
	}
	args, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.Contains(string(args), "\x00run\x00-d\x00--name\x00"+name+"\x00") {
		t.Errorf("supervisor %d runs %q: want the run's own process, not a second start of the binary", pid, args)
	}
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("supervisor %d: session %d (%v), want its own", pid, sid, err)
	}
	if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); cwd != "/" {
		t.Errorf("supervisor %d works in %q, want /", pid, cwd)
	}
	want := map[int]string{0: os.DevNull, 1: c.Roots.SandboxDir(id) + "/supervisor.log", 2: c.Roots.SandboxDir(id) + "/supervisor.log"}
	for fd, path := range want {
		if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); got != path {
			t.Errorf("supervisor %d: fd %d is %q, want %q", pid, fd, got, path)
		}
	}
	c.Ok("rm", "-f", id)
}
