package cgroup

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"glassbox/sandbox/sandboxtest"

	"golang.org/x/sys/unix"
)

// Root integration tests of the v2 code against a real cgroup2 hierarchy:
// the host's on a v2 host, the cgroup2 mount at /sys/fs/cgroup/unified on a
// hybrid one.

// v2FS is a cgroup2 hierarchy of this host with real cgroup.procs,
// cgroup.freeze, cgroup.events and cgroup.kill: the host's own on a v2 host,
// and on a hybrid host the cgroup2 mount at /sys/fs/cgroup/unified, which has
// no controllers but runs the v2 code against the kernel all the same.
func v2FS(t *testing.T) *FS {
	t.Helper()
	sandboxtest.RequireRoot(t)
	switch hostMode() {
	case ModeV2:
		return hostFS(t)
	case ModeHybrid:
		return unifiedFS(t)
	}
	t.Skipf("no cgroup2 hierarchy on this %s host", hostMode())
	return nil
}

// hostMode is the host's cgroup layout, "none" without a cgroup filesystem.
func hostMode() string {
	f, err := Host()
	if err != nil {
		return "none"
	}
	return f.Mode()
}

func unifiedFS(t *testing.T) *FS {
	t.Helper()
	sandboxtest.RequireRoot(t)
	root := filepath.Join(HostRoot, "unified")
	if hostMode() != ModeHybrid {
		t.Skipf("no cgroup2 mount at %s on this %s host", root, hostMode())
	}
	f, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mode() != ModeV2 {
		t.Fatalf("%s: mode %s", root, f.Mode())
	}
	return f
}

func TestV2FreezeThaw(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := v2FS(t)
	m := newCgroup(t, f, Resources{})
	freezeThaw(t, m)
}

func TestV2KillAndDelete(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := v2FS(t)
	m := newCgroup(t, f, Resources{})
	killAndDelete(t, f, m)
}

func TestV2CloneIntoCgroup(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := v2FS(t)
	m := newCgroup(t, f, Resources{})
	dir := m.Dirs()[unifiedKey]
	if dir == "" {
		t.Fatal("no unified directory on v2")
	}
	fd, err := syscall.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	start(t, cmd)
	if pids, _ := m.Procs(); !slices.Equal(pids, []int{cmd.Process.Pid}) {
		t.Errorf("started with CLONE_INTO_CGROUP: Procs %v, want [%d]", pids, cmd.Process.Pid)
	}
	want := "0::" + m.Path()
	if lines := cgroupLines(t, cmd.Process.Pid); !slices.Contains(lines, want) {
		t.Errorf("/proc/PID/cgroup lacks %q:\n%s", want, strings.Join(lines, "\n"))
	}
}

// Hybrid hosts only: the cgroup2 mount beside v1's controllers is the one
// place a cgroup2 tree has no controllers to give; not run in the v2 VM.
func TestUnifiedV2RefusesLimitsWithoutControllers(t *testing.T) {
	f := unifiedFS(t)
	id := testID(t)
	_, err := f.New(id, Resources{MemoryBytes: 64 << 20})
	if err == nil || !strings.Contains(err.Error(), "needs the memory controller") {
		t.Errorf("a memory limit on a cgroup2 mount without controllers: %v", err)
	}
	if exists(filepath.Join(f.root, Parent, id)) {
		t.Error("the refused New left its directory")
	}
}

func TestV2KillFrozen(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := v2FS(t)
	killFrozen(t, newCgroup(t, f, Resources{}))
}
