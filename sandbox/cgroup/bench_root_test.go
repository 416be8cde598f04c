package cgroup

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// Figures for the cost of a sandbox's cgroup on this host (root only):
//
//	go test -run '^$' -bench . ./sandbox/cgroup

func benchFS(b *testing.B) *FS {
	sandboxtest.RequireRoot(b)
	f, err := Host()
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkHostNewDelete: create a cgroup with all three limits, then remove it.
func BenchmarkHostNewDelete(b *testing.B) {
	f := benchFS(b)
	q, p := CPUs(0.5)
	res := Resources{MemoryBytes: 256 << 20, CPUQuotaUS: q, CPUPeriodUS: p, PidsLimit: 100}
	for b.Loop() {
		m, err := f.New(testID(b), res)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Delete(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostFreezeThaw: pause and resume a cgroup holding one process.
func BenchmarkHostFreezeThaw(b *testing.B) {
	f := benchFS(b)
	m, err := f.New(testID(b), Resources{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Delete()
	defer m.Kill()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if err := m.AddProc(cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := m.Freeze(5 * time.Second); err != nil {
			b.Fatal(err)
		}
		if err := m.Thaw(5 * time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostAddProcKill: move a fresh process in, kill it and wait until
// the cgroup is empty (the start and the forced stop of a workload).
func BenchmarkHostAddProcKill(b *testing.B) {
	f := benchFS(b)
	m, err := f.New(testID(b), Resources{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Delete()
	defer m.Kill()
	for b.Loop() {
		b.StopTimer()
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := m.AddProc(cmd.Process.Pid); err != nil {
			b.Fatal(err)
		}
		if err := m.Kill(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cmd.Wait()
		b.StartTimer()
	}
}

// BenchmarkHostStartMoved and BenchmarkHostStartBornIn: a process started
// and then moved into a cgroup (AddProc, a write to cgroup.procs), against
// one born in it (StartIn: the thread's own move on v1, CLONE_INTO_CGROUP
// on v2), until the child exists in the cgroup. Each start comes after a
// pause, as a sandbox's start does: a move's wait for an RCU grace period
// is spared only right after another move. Interleave them:
//
//	go test -run '^$' -bench 'HostStart(Moved|BornIn)' -benchtime 40x -count 5 ./sandbox/cgroup
func BenchmarkHostStartMoved(b *testing.B) {
	benchStart(b, func(m Manager, cmd *exec.Cmd) error {
		if err := cmd.Start(); err != nil {
			return err
		}
		return m.AddProc(cmd.Process.Pid)
	})
}

func BenchmarkHostStartBornIn(b *testing.B) {
	benchStart(b, func(m Manager, cmd *exec.Cmd) error {
		s, ok := m.(Starter)
		if !ok {
			b.Skipf("%T: no Starter", m)
		}
		return s.StartIn(func(fd int) error {
			if fd >= 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
			}
			return cmd.Start()
		})
	})
}

func benchStart(b *testing.B, start func(Manager, *exec.Cmd) error) {
	f := benchFS(b)
	m, err := f.New(testID(b), Resources{MemoryBytes: 64 << 20, PidsLimit: 16})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Delete()
	defer m.Kill()
	for b.Loop() {
		cmd := exec.Command("sleep", "1000")
		if err := start(m, cmd); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := m.Kill(); err != nil {
			b.Fatal(err)
		}
		cmd.Wait()
		time.Sleep(50 * time.Millisecond)
		b.StartTimer()
	}
}

// BenchmarkReadOOMKills: one read of the OOM kill counter.
func BenchmarkHostOOMKills(b *testing.B) {
	f := benchFS(b)
	m, err := f.New(testID(b), Resources{MemoryBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Delete()
	for b.Loop() {
		if _, err := m.OOMKills(); err != nil {
			b.Fatal(err)
		}
	}
}
