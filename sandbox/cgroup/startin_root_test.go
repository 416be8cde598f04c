package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// StartIn: the child is born in the sandbox's cgroup in every hierarchy,
// and no thread of this process is left in it.
func TestStartInBornInCgroup(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	f := hostFS(t)
	m := newCgroup(t, f, Resources{MemoryBytes: 64 << 20, PidsLimit: 16})
	s, ok := m.(Starter)
	if !ok {
		t.Skipf("%s: no Starter; the process is moved in with AddProc", f.Mode())
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	if err := s.StartIn(func(fd int) error {
		if fd >= 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		}
		return cmd.Start()
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := cgroupLines(t, cmd.Process.Pid)
	if f.Mode() == "v2" {
		// One hierarchy: "0::PATH" holds every controller.
		if !slices.Contains(lines, "0::"+m.Path()) {
			t.Errorf("the child is not in %s:\n%s", m.Path(), strings.Join(lines, "\n"))
		}
	} else {
		for c := range m.Dirs() {
			found := false
			for _, l := range lines {
				parts := strings.SplitN(l, ":", 3)
				if slices.Contains(strings.Split(parts[1], ","), c) && parts[2] == m.Path() {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: the child is not in %s", c, m.Path())
			}
		}
	}
	pids, err := m.Procs()
	if err != nil || !slices.Equal(pids, []int{cmd.Process.Pid}) {
		t.Errorf("Procs = %v, %v; want only the child %d", pids, err, cmd.Process.Pid)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		got, err := os.ReadFile("/proc/self/task/" + task.Name() + "/cgroup")
		if err == nil && string(got) != string(before) {
			t.Errorf("thread %s is not back in its cgroups:\n%s\nwas:\n%s", task.Name(), got, before)
		}
	}
}

// On v1 a pids limit of 1 cannot count the thread and its child: StartIn
// says so without calling start, and AddProc is the way. (v2 clones the
// child straight in: one process fits.)
func TestStartInPidsLimitOne(t *testing.T) {
	f := hostFS(t)
	if f.Mode() == "v2" {
		t.Skip("v2 clones the child straight into the cgroup: pids.max 1 holds it")
	}
	m := newCgroup(t, f, Resources{PidsLimit: 1})
	s, ok := m.(Starter)
	if !ok {
		t.Skipf("%s: no Starter", f.Mode())
	}
	called := false
	err := s.StartIn(func(int) error { called = true; return nil })
	if !errors.Is(err, ErrNoStartIn) || called {
		t.Errorf("StartIn with pids.max 1 = %v (start called: %v); want ErrNoStartIn, not called", err, called)
	}
}
