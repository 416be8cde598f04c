package cgroup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewFSDetectsLayout(t *testing.T) {
	if got := newFixture(t, "v1").Mode(); got != ModeV1 {
		t.Errorf("v1 fixture: mode %q", got)
	}
	if got := newFixture(t, "v2").Mode(); got != ModeV2 {
		t.Errorf("v2 fixture: mode %q", got)
	}
	hybrid := newFixture(t, "v1")
	copyTree(t, filepath.Join(testdata, "v2", "root"), filepath.Join(hybrid.root, "unified"))
	f, err := NewFS(hybrid.root)
	if err != nil || f.Mode() != ModeHybrid {
		t.Errorf("v1 + unified/: mode %v, err %v; want hybrid", f, err)
	}
	if _, err := NewFS(t.TempDir()); err == nil {
		t.Error("an empty directory opened as a cgroup filesystem")
	}
}

func TestCheck(t *testing.T) {
	for _, layout := range []string{"v1", "v2"} {
		if err := newFixture(t, layout).Check(); err != nil {
			t.Errorf("%s fixture: %v", layout, err)
		}
	}
	if os.Geteuid() != 0 { // root may write anywhere on a writable filesystem
		ro := newFixture(t, "v2")
		os.Chmod(ro.root, 0o555)
		t.Cleanup(func() { os.Chmod(ro.root, 0o755) })
		if err := ro.Check(); err == nil || !strings.Contains(err.Error(), "cannot create cgroups") {
			t.Errorf("read-only v2 root: %v", err)
		}
	}
	v1 := newFixture(t, "v1")
	os.RemoveAll(filepath.Join(v1.root, "pids"))
	if err := v1.Check(); err == nil || !strings.Contains(err.Error(), "pids") {
		t.Errorf("v1 without pids: %v; want an error naming pids", err)
	}
	v2 := newFixture(t, "v2")
	os.WriteFile(filepath.Join(v2.root, "cgroup.controllers"), []byte("cpuset io hugetlb\n"), 0o644)
	err := v2.Check()
	if err == nil || !strings.Contains(err.Error(), "memory, cpu, pids") {
		t.Errorf("v2 without controllers: %v; want an error naming memory, cpu, pids", err)
	}
	if _, err := v2.New(testID(t), Resources{MemoryBytes: 64 << 20}); err == nil || !strings.Contains(err.Error(), "needs the memory controller") {
		t.Errorf("a memory limit on a v2 host without memory: %v", err)
	}
	if _, err := v1.New(testID(t), Resources{PidsLimit: 5}); err == nil || !strings.Contains(err.Error(), "needs the pids hierarchy") {
		t.Errorf("a pids limit on a v1 host without pids: %v", err)
	}
}

func TestValidate(t *testing.T) {
	q, p := CPUs(0.5)
	ok := []Resources{
		{},
		{MemoryBytes: 256 << 20, CPUQuotaUS: q, CPUPeriodUS: p, PidsLimit: 100},
		{MemoryBytes: MinMemory},
		{CPUPeriodUS: 100000}, // a period without quota is harmless
	}
	for _, r := range ok {
		if err := r.Validate(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	bad := []struct {
		res  Resources
		want string
	}{
		{Resources{MemoryBytes: -1}, "memory limit -1 is negative"},
		{Resources{MemoryBytes: 4 << 20}, "below the minimum of 6MiB"},
		{Resources{CPUQuotaUS: -5}, "cpu quota -5µs is negative"},
		{Resources{CPUQuotaUS: 50000}, "has no period"},
		{Resources{CPUQuotaUS: 500, CPUPeriodUS: 100000}, "below the kernel's minimum"},
		{Resources{CPUQuotaUS: 50000, CPUPeriodUS: 10}, "outside the kernel's range"},
		{Resources{CPUQuotaUS: 100000 * 4096, CPUPeriodUS: 100000}, "more than the"},
		{Resources{PidsLimit: -2}, "pids limit -2 is negative"},
	}
	for _, b := range bad {
		err := b.res.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: %v; want %q", b.res, err, b.want)
		}
	}
	err := Resources{MemoryBytes: -1, PidsLimit: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), "memory") || !strings.Contains(err.Error(), "pids") {
		t.Errorf("two faults: %v; want both named", err)
	}
}

func TestCPUsAndParseMemory(t *testing.T) {
	if q, p := CPUs(0.5); q != 50000 || p != 100000 {
		t.Errorf("CPUs(0.5) = %d, %d", q, p)
	}
	if q, p := CPUs(1.25); q != 125000 || p != 100000 {
		t.Errorf("CPUs(1.25) = %d, %d", q, p)
	}
	if q, p := CPUs(0); q != 0 || p != 0 {
		t.Errorf("CPUs(0) = %d, %d; want unlimited", q, p)
	}
	if got := (Resources{CPUQuotaUS: 50000, CPUPeriodUS: 100000}).CPUs(); got != 0.5 {
		t.Errorf("Resources.CPUs = %v", got)
	}
	for in, want := range map[string]int64{"256m": 256 << 20, "1g": 1 << 30, "64MiB": 64 << 20, "1048576": 1 << 20} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-5m"} {
		if _, err := ParseMemory(in); err == nil {
			t.Errorf("ParseMemory(%q) accepted", in)
		}
	}
}

func TestInvalidInputCreatesNothing(t *testing.T) {
	for _, layout := range []string{"v1", "v2"} {
		fx := newFixture(t, layout)
		cases := []struct {
			id  string
			res Resources
		}{
			{"", Resources{}},
			{"../escape", Resources{}},
			{"a/b", Resources{}},
			{"..", Resources{}},
		}
		for _, c := range cases {
			if _, err := fx.New(c.id, c.res); err == nil {
				t.Errorf("%s: New(%q, %+v) succeeded", layout, c.id, c.res)
			}
		}
		if m, _ := filepath.Glob(filepath.Join(fx.root, "*", Parent)); len(m) > 0 {
			t.Errorf("%s: invalid input created %v", layout, m)
		}
		if exists(filepath.Join(fx.root, Parent)) {
			t.Errorf("%s: invalid input created the parent", layout)
		}
	}
}

func TestLoadAndDelete(t *testing.T) {
	for _, layout := range []string{"v1", "v2"} {
		fx := newFixture(t, layout)
		id := testID(t)
		m, err := fx.New(id, Resources{PidsLimit: 10})
		if err != nil {
			t.Fatal(err)
		}
		l, err := fx.Load(id)
		if err != nil {
			t.Fatalf("%s: Load: %v", layout, err)
		}
		if l.Path() != m.Path() || len(l.Dirs()) != len(m.Dirs()) {
			t.Errorf("%s: Load gives %s %v, New gave %s %v", layout, l.Path(), l.Dirs(), m.Path(), m.Dirs())
		}
		if _, err := fx.Load("test-missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: Load of a missing cgroup: %v; want fs.ErrNotExist", layout, err)
		}
		// A cgroup with a process in it stays.
		procs := filepath.Join(m.Dirs()["pids"], "cgroup.procs")
		os.WriteFile(procs, []byte("4242\n"), 0o644)
		if err := l.Delete(); err == nil || !strings.Contains(err.Error(), "4242") {
			t.Errorf("%s: Delete with a process: %v", layout, err)
		}
		os.WriteFile(procs, nil, 0o644)
		if err := l.Delete(); err != nil {
			t.Fatalf("%s: Delete: %v", layout, err)
		}
		for _, dir := range m.Dirs() {
			if exists(dir) {
				t.Errorf("%s: %s left", layout, dir)
			}
			if !exists(filepath.Dir(dir)) {
				t.Errorf("%s: the shared parent %s was removed", layout, filepath.Dir(dir))
			}
		}
		if err := m.Delete(); err != nil {
			t.Errorf("%s: second Delete: %v", layout, err)
		}
		if _, err := m.Procs(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: Procs of a deleted cgroup: %v; want fs.ErrNotExist", layout, err)
		}
		if err := m.Kill(); err != nil {
			t.Errorf("%s: Kill of a deleted cgroup: %v", layout, err)
		}
		if _, err := fx.Load(id); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: Load after Delete: %v", layout, err)
		}
	}
}

func TestOOMKills(t *testing.T) {
	for layout, file := range map[string]string{"v1": "memory.oom_control", "v2": "memory.events"} {
		fx := newFixture(t, layout)
		m, err := fx.New(testID(t), Resources{MemoryBytes: 32 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := m.OOMKills(); n != 0 || err != nil {
			t.Errorf("%s: fresh cgroup: %d, %v", layout, n, err)
		}
		dst := filepath.Join(m.Dirs()["memory"], file)
		copyTree(t, filepath.Join(testdata, layout, "after-oom"), filepath.Dir(dst))
		if n, err := m.OOMKills(); n != 1 || err != nil {
			t.Errorf("%s: after an OOM kill: %d, %v", layout, n, err)
		}
		os.WriteFile(dst, []byte("oom_kill lots\n"), 0o644)
		if _, err := m.OOMKills(); err == nil {
			t.Errorf("%s: garbage in %s parsed", layout, file)
		}
		os.WriteFile(dst, []byte("under_oom 0\n"), 0o644)
		if _, err := m.OOMKills(); err == nil {
			t.Errorf("%s: %s without oom_kill parsed", layout, file)
		}
	}
}

func TestNewRollsBackOnFailure(t *testing.T) {
	for layout, file := range map[string]string{"v1": "pids.max", "v2": "cpu.max"} {
		fx := newFixture(t, layout)
		// A limit file the kernel refuses to write: here, a directory.
		fx.FS.onMkdir = func(dir string) error {
			fx.mkdir(dir)
			if filepath.Base(dir) != Parent && exists(filepath.Join(dir, file)) {
				os.Remove(filepath.Join(dir, file))
				os.Mkdir(filepath.Join(dir, file), 0o755)
			}
			return nil
		}
		id := testID(t)
		q, p := CPUs(1)
		_, err := fx.New(id, Resources{MemoryBytes: 64 << 20, CPUQuotaUS: q, CPUPeriodUS: p, PidsLimit: 5})
		if err == nil || !strings.Contains(err.Error(), "set limits") {
			t.Errorf("%s: New with an unwritable %s: %v", layout, file, err)
		}
		left, _ := filepath.Glob(filepath.Join(fx.root, "*", Parent, id))
		left2, _ := filepath.Glob(filepath.Join(fx.root, Parent, id))
		if left = append(left, left2...); len(left) > 0 {
			t.Errorf("%s: the failed New left %v", layout, left)
		}
	}
}
