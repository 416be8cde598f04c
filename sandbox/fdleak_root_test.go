package sandbox_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// leakedFiles are descriptors a caller of `glassbox run` holds without
// close-on-exec, as a shell's `exec 77</root` leaves them: a directory
// outside every sandbox at fd 77 (walkable with openat(77, "..")), a pipe at
// fd 251 and /dev/null at fd 10.
type leakedFiles struct {
	dir   string
	pipe  string // "pipe:[inode]", as /proc/PID/fd shows it
	files []*os.File
}

func newLeakedFiles(t *testing.T) *leakedFiles {
	t.Helper()
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(r.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	l := &leakedFiles{dir: dir, pipe: fmt.Sprintf("pipe:[%d]", st.Ino), files: []*os.File{d, r, w, null}}
	t.Cleanup(func() {
		for _, f := range l.files {
			f.Close()
		}
	})
	return l
}

// extraFiles places the leaked files at fds 77, 251 and 10 of a child
// (ExtraFiles[i] is fd 3+i; a nil entry is a closed fd).
func (l *leakedFiles) extraFiles() []*os.File {
	extra := make([]*os.File, 252-3)
	extra[77-3], extra[251-3], extra[10-3] = l.files[0], l.files[1], l.files[3]
	return extra
}

// held lists the descriptors of pid, from 3 up, that are one of the
// leaked files.
func (l *leakedFiles) held(t *testing.T, pid int) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list the descriptors of pid %d: %v", pid, err)
	}
	var found []string
	for _, e := range entries {
		fd, _ := strconv.Atoi(e.Name())
		if fd < 3 {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if target == l.dir || target == l.pipe || target == os.DevNull {
			found = append(found, fmt.Sprintf("fd %d → %s", fd, target))
		}
	}
	return found
}

func (l *leakedFiles) assertNotHeld(t *testing.T, sb *state.Sandbox) {
	t.Helper()
	for _, p := range []struct {
		who string
		pid int
	}{{"glassbox run / the supervisor", sb.SupervisorPID}, {"the sandbox's init", sb.InitPID}, {"the workload", sb.WorkloadPID}} {
		if p.pid <= 0 {
			t.Errorf("%s: no pid in the record", p.who)
			continue
		}
		if got := l.held(t, p.pid); len(got) > 0 {
			t.Errorf("%s (pid %d) holds what the caller of glassbox run leaked: %s", p.who, p.pid, strings.Join(got, ", "))
		}
	}
}

// A descriptor its caller leaked must reach neither glassbox run, nor the
// sandbox's init, nor the workload (bug 0 of issue 16: with the host's /root
// at fd 77 the workload could walk the host's files).
func TestLeakedDescriptorsStayOutForeground(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "descriptors through the CLI (the escape battery and TestLeakedDescriptorsStayOutOfTheInit cover the leak in the VM)")
	roots := sandboxtest.TempRoots(t)
	leak := newLeakedFiles(t)
	r := &cliRun{t: t, roots: roots, done: make(chan struct{})}
	r.cmd = exec.Command(sandboxtest.Binary(t), "run", "--name", "fdleak-fg", "calculator")
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.cmd.ExtraFiles = leak.extraFiles()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.done
	})
	sb := r.running()
	leak.assertNotHeld(t, sb)
	// Its exit status is not the point: the calculator may not handle
	// SIGTERM yet this early (143).
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.wait()
	assertNothingLeft(t, roots, sb)
}

func TestLeakedDescriptorsStayOutDetached(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "descriptors through the CLI and the supervisor (the escape battery covers the leak in the VM)")
	roots := sandboxtest.TempRoots(t)
	leak := newLeakedFiles(t)
	bin := sandboxtest.Binary(t)
	cmd := exec.Command(bin, "run", "-d", "--network", "none", "--name", "fdleak-d", "calculator")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.ExtraFiles = leak.extraFiles()
	if err := cmd.Run(); err != nil {
		t.Fatalf("glassbox run -d: %v; stderr: %s", err, errb.String())
	}
	defer func() {
		if b, err := exec.Command(bin, "rm", "-f", "fdleak-d").CombinedOutput(); err != nil {
			t.Errorf("rm -f: %v: %s", err, b)
		}
		assertNothingLeft(t, roots)
	}()
	sb, err := state.NewStore(roots).Resolve("fdleak-d")
	if err != nil {
		t.Fatal(err)
	}
	leak.assertNotHeld(t, sb)
}

// The init sheds what its parent leaked even when the parent is not the
// glassbox CLI (a program using the Go API): here the test process itself
// holds a directory at fd 77 without close-on-exec while it starts a sandbox.
func TestLeakedDescriptorsStayOutOfTheInit(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	const leakFD = 77
	if err := unix.Dup3(fd, leakFD, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	defer unix.Close(leakFD)
	c := startCalculator(t, roots, cgroup.Resources{})
	sb := c.State()
	for _, pid := range []int{sb.InitPID, sb.WorkloadPID} {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, leakFD)); err == nil {
			t.Errorf("pid %d of the sandbox holds fd %d → %s, leaked by its parent", pid, leakFD, target)
		}
	}
}
