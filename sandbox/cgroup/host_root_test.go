package cgroup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// Root integration tests: real cgroups on this host (v1, hybrid or v2), and on
// a hybrid host also the v2 code on the cgroup2 mount at /sys/fs/cgroup/unified.

func hostFS(t *testing.T) *FS {
	t.Helper()
	sandboxtest.RequireRoot(t)
	f, err := Host()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	return f
}

// newCgroup creates a test cgroup that is killed and deleted when the test
// ends, even when it fails, and checks that nothing of it is left.
func newCgroup(t *testing.T, f *FS, res Resources) Manager {
	t.Helper()
	m, err := f.New(testID(t), res)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Kill(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if err := m.Delete(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, d := range m.Dirs() {
			if exists(d) {
				t.Errorf("cleanup: %s left", d)
			}
		}
	})
	return m
}

// start runs a command that the test kills and reaps at its end.
func start(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// startHelper re-executes the test binary as a workload (see TestMain) that
// waits on its stdin; closing the returned writer starts it.
func startHelper(t *testing.T, mode string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, cmd)
	return cmd, in
}

func go1(t *testing.T, w io.WriteCloser) {
	t.Helper()
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// cpuNanos is the CPU time a process has used: the first field of
// /proc/PID/schedstat, in nanoseconds.
func cpuNanos(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.Fields(string(b))[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// cgroupLines is /proc/PID/cgroup.
func cgroupLines(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestHostNewAppliesLimits(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	q, p := CPUs(0.5)
	m := newCgroup(t, f, Resources{MemoryBytes: 32 << 20, CPUQuotaUS: q, CPUPeriodUS: p, PidsLimit: 64})
	d := m.Dirs()
	want := map[string]string{}
	if f.Mode() == ModeV2 {
		want[filepath.Join(d["unified"], "memory.max")] = "33554432"
		want[filepath.Join(d["unified"], "cpu.max")] = "50000 100000"
		want[filepath.Join(d["unified"], "pids.max")] = "64"
		if exists(filepath.Join(d["unified"], "memory.swap.max")) {
			want[filepath.Join(d["unified"], "memory.swap.max")] = "0"
		}
		// The parent hands the controllers down (and holds no processes).
		parent := filepath.Dir(d["unified"])
		for _, c := range []string{"cpu", "memory", "pids"} {
			if on := strings.Fields(readFile(t, filepath.Join(parent, "cgroup.subtree_control"))); !slices.Contains(on, c) {
				t.Errorf("%s/cgroup.subtree_control lacks %s: %v", parent, c, on)
			}
		}
	} else {
		want[filepath.Join(d["memory"], "memory.limit_in_bytes")] = "33554432"
		if exists(filepath.Join(d["memory"], "memory.memsw.limit_in_bytes")) {
			want[filepath.Join(d["memory"], "memory.memsw.limit_in_bytes")] = "33554432"
		}
		want[filepath.Join(d["cpu"], "cpu.cfs_quota_us")] = "50000"
		want[filepath.Join(d["cpu"], "cpu.cfs_period_us")] = "100000"
		want[filepath.Join(d["pids"], "pids.max")] = "64"
		for _, c := range []string{"memory", "cpu", "pids"} {
			if d[c] != filepath.Join(HostRoot, c, Parent, filepath.Base(m.Path())) {
				t.Errorf("Dirs[%s] = %s", c, d[c])
			}
		}
	}
	for file, v := range want {
		if got := readFile(t, file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	if _, err := f.New(filepath.Base(m.Path()), Resources{}); err == nil {
		t.Error("a second New of the same id succeeded")
	}
}

func TestHostAddProc(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	m := newCgroup(t, f, Resources{PidsLimit: 16})
	cmd := start(t, exec.Command("sleep", "100"))
	pid := cmd.Process.Pid
	if err := m.AddProc(pid); err != nil {
		t.Fatal(err)
	}
	lines := cgroupLines(t, pid)
	wantCtl := []string{"memory", "cpu", "pids"}
	if f.Mode() != ModeV2 {
		wantCtl = slices.Collect(func(yield func(string) bool) {
			for c := range m.Dirs() {
				if !yield(c) {
					return
				}
			}
		})
	}
	for _, c := range wantCtl {
		found := false
		for _, l := range lines {
			parts := strings.SplitN(l, ":", 3)
			ctl := strings.Split(parts[1], ",")
			if (f.Mode() == ModeV2 && parts[0] == "0" || slices.Contains(ctl, c)) && parts[2] == m.Path() {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: /proc/%d/cgroup does not put it in %s:\n%s", c, pid, m.Path(), strings.Join(lines, "\n"))
		}
	}
	pids, err := m.Procs()
	if err != nil || !slices.Equal(pids, []int{pid}) {
		t.Errorf("Procs = %v, %v; want [%d]", pids, err, pid)
	}
	if err := m.AddProc(0); err == nil {
		t.Error("AddProc(0) succeeded")
	}
}

func TestHostOOMKill(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	m := newCgroup(t, f, Resources{MemoryBytes: 32 << 20})
	if n, err := m.OOMKills(); n != 0 || err != nil {
		t.Fatalf("OOMKills of a new cgroup = %d, %v", n, err)
	}
	cmd, in := startHelper(t, "alloc:256")
	if err := m.AddProc(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	go1(t, in)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the helper touching 256 MiB under a 32 MiB limit ended with %v", err)
	}
	if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the helper ended with %v, want killed by SIGKILL", exit)
	}
	if n, err := m.OOMKills(); n != 1 || err != nil {
		t.Errorf("OOMKills after the kill = %d, %v; want 1", n, err)
	}
}

// freezeThaw checks that a busy process in m stops using CPU while frozen and
// uses it again once thawed.
func freezeThaw(t *testing.T, m Manager) {
	cmd, in := startHelper(t, "spin")
	pid := cmd.Process.Pid
	if err := m.AddProc(pid); err != nil {
		t.Fatal(err)
	}
	go1(t, in)
	before := cpuNanos(t, pid)
	if err := poll(10*time.Second, func() (bool, error) { return cpuNanos(t, pid) > before, nil }); err != nil {
		t.Fatal("the busy helper never ran")
	}
	if err := m.Freeze(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	frozen := cpuNanos(t, pid)
	time.Sleep(300 * time.Millisecond)
	if got := cpuNanos(t, pid); got != frozen {
		t.Errorf("frozen, the helper still used %v of CPU", time.Duration(got-frozen))
	}
	if err := m.Thaw(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := poll(10*time.Second, func() (bool, error) { return cpuNanos(t, pid) > frozen, nil }); err != nil {
		t.Error("thawed, the helper never ran again")
	}
}

func TestHostFreezeThaw(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	q, p := CPUs(0.3) // the machine is shared: burn little
	freezeThaw(t, newCgroup(t, f, Resources{CPUQuotaUS: q, CPUPeriodUS: p}))
}

// killAndDelete puts processes in m, one of which forks inside, kills them
// all and deletes the cgroup.
func killAndDelete(t *testing.T, f *FS, m Manager) {
	var cmds []*exec.Cmd
	for range 2 {
		cmds = append(cmds, start(t, exec.Command("sleep", "100")))
	}
	sh := exec.Command("sh", "-c", "read x; sleep 100 & sleep 100 & wait")
	in, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmds = append(cmds, start(t, sh))
	for _, c := range cmds {
		if err := m.AddProc(c.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	io.WriteString(in, "go\n")
	if err := poll(10*time.Second, func() (bool, error) {
		pids, err := m.Procs()
		return len(pids) == 5, err
	}); err != nil {
		pids, _ := m.Procs()
		t.Fatalf("the shell's children did not show up: %v", pids)
	}
	if err := m.Delete(); err == nil || !strings.Contains(err.Error(), "still holds processes") {
		t.Errorf("Delete with processes: %v", err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if pids, err := m.Procs(); len(pids) != 0 || err != nil {
		t.Fatalf("after Kill: %v, %v", pids, err)
	}
	for _, c := range cmds {
		err := c.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
			t.Errorf("%v ended with %v, want killed", c.Args, err)
		}
	}
	if err := m.Delete(); err != nil {
		t.Fatal(err)
	}
	id := filepath.Base(m.Path())
	left, _ := filepath.Glob(filepath.Join(f.root, "*", Parent, id))
	left2, _ := filepath.Glob(filepath.Join(f.root, Parent, id))
	if left = append(left, left2...); len(left) > 0 {
		t.Errorf("left after Delete: %v", left)
	}
	if err := m.Delete(); err != nil {
		t.Errorf("Delete of a deleted cgroup: %v", err)
	}
	if _, err := f.Load(id); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load after Delete: %v", err)
	}
}

func TestHostKillAndDelete(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	killAndDelete(t, f, newCgroup(t, f, Resources{PidsLimit: 32}))
}

func TestHostLoad(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	m := newCgroup(t, f, Resources{})
	id := filepath.Base(m.Path())
	l, err := Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if l.Path() != m.Path() || len(l.Dirs()) != len(m.Dirs()) || l.Mode() != m.Mode() {
		t.Errorf("Load: %s %v %s; New: %s %v %s", l.Path(), l.Dirs(), l.Mode(), m.Path(), m.Dirs(), m.Mode())
	}
	cmd := start(t, exec.Command("sleep", "100"))
	if err := l.AddProc(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if pids, _ := m.Procs(); !slices.Equal(pids, []int{cmd.Process.Pid}) {
		t.Errorf("a process added through the loaded cgroup: Procs %v", pids)
	}
	if _, err := Load("test-does-not-exist"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing cgroup: %v", err)
	}
}

// killFrozen checks that Kill also empties a paused (frozen) cgroup: the
// lifecycle kills paused sandboxes.
func killFrozen(t *testing.T, m Manager) {
	cmd := start(t, exec.Command("sleep", "100"))
	if err := m.AddProc(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if pids, err := m.Procs(); len(pids) != 0 || err != nil {
		t.Fatalf("after Kill of a frozen cgroup: %v, %v", pids, err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
		t.Errorf("sleep ended with %v, want killed", err)
	}
	if err := m.Delete(); err != nil {
		t.Fatal(err)
	}
}

func TestHostKillFrozen(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	killFrozen(t, newCgroup(t, f, Resources{}))
}
