package cgroup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestV1LimitsWritten(t *testing.T) {
	fx := newFixture(t, "v1")
	id := testID(t)
	q, p := CPUs(0.5)
	m, err := fx.New(id, Resources{MemoryBytes: 256 << 20, CPUQuotaUS: q, CPUPeriodUS: p, PidsLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if m.Mode() != ModeV1 || m.Path() != "/glassbox/"+id {
		t.Errorf("mode %q path %q", m.Mode(), m.Path())
	}
	want := map[string]string{
		"memory/glassbox/" + id + "/memory.limit_in_bytes":       "268435456",
		"memory/glassbox/" + id + "/memory.memsw.limit_in_bytes": "268435456",
		"cpu/glassbox/" + id + "/cpu.cfs_quota_us":               "50000",
		"cpu/glassbox/" + id + "/cpu.cfs_period_us":              "100000",
		"pids/glassbox/" + id + "/pids.max":                      "100",
	}
	for file, v := range want {
		if got := fx.read(file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	dirs := m.Dirs()
	for _, c := range v1Controllers {
		if want := filepath.Join(fx.root, c, "glassbox", id); dirs[c] != want {
			t.Errorf("Dirs[%s] = %q, want %q", c, dirs[c], want)
		}
	}
	if d := m.Dirs()[unifiedKey]; d != "" {
		t.Errorf("a unified directory on v1: %q", d)
	}
	if _, err := fx.New(id, Resources{}); err == nil {
		t.Error("New of an existing cgroup succeeded")
	}
	if got := fx.read("memory/glassbox/" + id + "/memory.limit_in_bytes"); got != "268435456" {
		t.Errorf("the failed second New changed the first cgroup: %s", got)
	}
}

func TestV1ZeroMeansUnlimited(t *testing.T) {
	fx := newFixture(t, "v1")
	id := testID(t)
	if _, err := fx.New(id, Resources{}); err != nil {
		t.Fatal(err)
	}
	for file, v := range map[string]string{
		"memory/glassbox/" + id + "/memory.limit_in_bytes": fx.read("memory/memory.limit_in_bytes"),
		"cpu/glassbox/" + id + "/cpu.cfs_quota_us":         "-1",
		"pids/glassbox/" + id + "/pids.max":                "max",
	} {
		if got := fx.read(file); got != v {
			t.Errorf("%s = %q, want the default %q", file, got, v)
		}
	}
}

func TestV1WithoutSwapAccounting(t *testing.T) {
	fx := newFixture(t, "v1")
	os.Remove(filepath.Join(fx.root, "memory", "memory.memsw.limit_in_bytes"))
	id := testID(t)
	if _, err := fx.New(id, Resources{MemoryBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := fx.read("memory/glassbox/" + id + "/memory.memsw.limit_in_bytes"); got == "67108864" {
		t.Error("memsw written on a host without swap accounting")
	}
}

func TestFreezeV1(t *testing.T) {
	fx := newFixture(t, "v1")
	m, err := fx.New(testID(t), Resources{})
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(m.Dirs()["freezer"], "freezer.state")
	fx.freezeAfter = 3 // FREEZING twice, as while tasks are still running
	if err := m.Freeze(5 * time.Second); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if got := fx.read(strings.TrimPrefix(state, fx.root)); got != "FROZEN" || fx.frozenWrites != 3 {
		t.Errorf("after Freeze: %s after %d writes", got, fx.frozenWrites)
	}
	if err := m.Thaw(time.Second); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if got := fx.read(strings.TrimPrefix(state, fx.root)); got != "THAWED" {
		t.Errorf("after Thaw: %s", got)
	}

	fx.freezeSticks = true
	err = m.Freeze(50 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "still FREEZING") {
		t.Fatalf("a FREEZING that sticks: %v; want a timeout error", err)
	}
	if got := fx.read(strings.TrimPrefix(state, fx.root)); got != "THAWED" {
		t.Errorf("after a failed freeze the cgroup is %s, want THAWED again", got)
	}
}

func TestProcsV1Union(t *testing.T) {
	fx := newFixture(t, "v1")
	m, err := fx.New(testID(t), Resources{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(m.Dirs()["memory"], "cgroup.procs"), []byte("30\n10\n"), 0o644)
	os.WriteFile(filepath.Join(m.Dirs()["pids"], "cgroup.procs"), []byte("10\n20\n"), 0o644)
	pids, err := m.Procs()
	if err != nil || len(pids) != 3 || pids[0] != 10 || pids[1] != 20 || pids[2] != 30 {
		t.Errorf("Procs = %v, %v; want [10 20 30]", pids, err)
	}
}

func TestV1CoMounted(t *testing.T) {
	// The usual v1 layout: cpu and cpuacct share one hierarchy, mounted at
	// cpu,cpuacct with a link for each name.
	fx := newFixture(t, "v1")
	os.Mkdir(filepath.Join(fx.root, "cpu,cpuacct"), 0o755)
	copyTree(t, filepath.Join(testdata, "v1", "root", "cpuacct"), filepath.Join(fx.root, "cpu,cpuacct"))
	copyTree(t, filepath.Join(testdata, "v1", "root", "cpu"), filepath.Join(fx.root, "cpu,cpuacct"))
	for _, c := range []string{"cpu", "cpuacct"} {
		os.RemoveAll(filepath.Join(fx.root, c))
		if err := os.Symlink("cpu,cpuacct", filepath.Join(fx.root, c)); err != nil {
			t.Fatal(err)
		}
	}
	id := testID(t)
	q, p := CPUs(1)
	m, err := fx.New(id, Resources{CPUQuotaUS: q, CPUPeriodUS: p})
	if err != nil {
		t.Fatal(err)
	}
	if got := fx.read("cpu,cpuacct/glassbox/" + id + "/cpu.cfs_quota_us"); got != "100000" {
		t.Errorf("cpu.cfs_quota_us = %q", got)
	}
	if !exists(filepath.Join(m.Dirs()["cpuacct"], "cpuacct.usage")) {
		t.Errorf("Dirs[cpuacct] = %s has no cpuacct.usage", m.Dirs()["cpuacct"])
	}
	if err := m.Delete(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(fx.root, "*", Parent, id)); len(left) > 0 {
		t.Errorf("left: %v", left)
	}
}
