package inspect_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/sandboxtest"
)

// glassbox is the kit's CLI run, with a failure as an error.
func glassbox(c *sandboxtest.CLI, args ...string) (string, error) {
	out, errs, code := c.Run(args...)
	if code != 0 {
		return out, fmt.Errorf("glassbox %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out, nil
}

// testCgroup is a cgroup the test makes (outside glassbox's parent, named
// so a person can tell whose it is) with a memory limit, a CPU quota of
// half a core and a pids limit; cleanup kills what is left in it and
// removes it.
type testCgroup struct {
	dirs  []string // one per hierarchy (one on v2)
	mem   string   // the memory controller's dir
	procs []string // each hierarchy's cgroup.procs
}

func newTestCgroup(t testing.TB, fs inspect.FS, memLimit int64) *testCgroup {
	t.Helper()
	name := fmt.Sprintf("glassbox-inspect-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	cg := &testCgroup{}
	write := func(dir, file, val string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(val), 0); err != nil && !os.IsNotExist(err) {
			t.Fatalf("set %s/%s: %v", dir, file, err)
		}
	}
	mk := func(dir string) {
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			t.Fatalf("create cgroup: %v", err)
		}
		for _, d := range cg.dirs {
			if d == dir {
				return
			}
		}
		cg.dirs = append(cg.dirs, dir)
		cg.procs = append(cg.procs, filepath.Join(dir, "cgroup.procs"))
	}
	t.Cleanup(func() { cg.remove(t) })
	if fs.Mode == inspect.ModeV2 {
		dir := filepath.Join(fs.CgroupRoot, name)
		mk(dir)
		cg.mem = dir
		for _, f := range []string{"memory.max", "cpu.max", "pids.max"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Skipf("the root cgroup does not enable the memory, cpu and pids controllers for its children (no %s)", f)
			}
		}
		write(dir, "memory.max", strconv.FormatInt(memLimit, 10))
		write(dir, "memory.swap.max", "0")
		write(dir, "cpu.max", "50000 100000")
		write(dir, "pids.max", "100")
		return cg
	}
	for _, ctrl := range []string{"memory", "cpu", "cpuacct", "pids"} {
		root, err := filepath.EvalSymlinks(filepath.Join(fs.CgroupRoot, ctrl))
		if err != nil {
			t.Fatalf("cgroup v1 controller %s: %v", ctrl, err)
		}
		mk(filepath.Join(root, name))
	}
	cg.mem = cg.dirs[0]
	write(cg.mem, "memory.limit_in_bytes", strconv.FormatInt(memLimit, 10))
	write(cg.mem, "memory.memsw.limit_in_bytes", strconv.FormatInt(memLimit, 10))
	write(cg.dirs[1], "cpu.cfs_quota_us", "50000")
	write(cg.dirs[len(cg.dirs)-1], "pids.max", "100")
	return cg
}

func (cg *testCgroup) remove(t testing.TB) {
	deadline := time.Now().Add(5 * time.Second)
	for i := len(cg.dirs) - 1; i >= 0; i-- {
		dir := cg.dirs[i]
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			err := os.Remove(dir)
			if err == nil || os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("remove test cgroup %s: %v", dir, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// startIsolated starts, in the test cgroup, `unshare` with new pid, mount,
// uts and net namespaces running sleep as PID 1 of its pid namespace, with
// hostname "inspect-test". It returns the sleep's host PID.
func startIsolated(t testing.TB, cg *testCgroup) int {
	t.Helper()
	script := `for f; do echo $$ > "$f"; done; exec unshare --pid --fork --kill-child --mount --uts --net --mount-proc sh -c 'hostname inspect-test && exec sleep 300'`
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, cg.procs...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(children)
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "sleep" {
			return pid
		}
	}
	t.Fatal("the isolated sleep did not start")
	return 0
}

func readlinkPath(t testing.TB, path string) string {
	t.Helper()
	l, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func checkNamespaces(t *testing.T, s *inspect.Snapshot, pid int, own ...string) {
	t.Helper()
	if len(s.Namespaces) < 8 {
		t.Fatalf("only %d namespaces: %+v", len(s.Namespaces), s.Namespaces)
	}
	got := map[string]bool{}
	for _, n := range s.Namespaces {
		kind := strings.TrimSuffix(n.Kind, "_for_children")
		initSrc := fmt.Sprintf("/proc/%d/ns/%s", pid, n.Kind)
		if n.InitInode != 0 {
			// The row is the workload's; the init's differs (time).
			if n.InitSource != initSrc || readlinkPath(t, initSrc) != fmt.Sprintf("%s:[%d]", kind, n.InitInode) {
				t.Errorf("%s: init %d from %s", n.Kind, n.InitInode, n.InitSource)
			}
		} else if n.Source != initSrc {
			t.Errorf("%s: source %s", n.Kind, n.Source)
		}
		if want := readlinkPath(t, n.Source); want != fmt.Sprintf("%s:[%d]", kind, n.Inode) {
			t.Errorf("%s: inode %d, readlink %s says %s", n.Kind, n.Inode, n.Source, want)
		}
		got[n.Kind] = n.Own
	}
	for _, k := range own {
		if !got[k] {
			t.Errorf("namespace %s not its own: %v", k, got)
		}
	}
	if got["user"] {
		t.Error("user namespace reported own; none was made")
	}
}
