package cgroup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
			{"ok-id", Resources{MemoryBytes: 1 << 20}},
			{"ok-id", Resources{CPUQuotaUS: 50000}},
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
	if UnifiedDir(m) != "" {
		t.Errorf("UnifiedDir on v1 = %q", UnifiedDir(m))
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

func TestV2LimitsWritten(t *testing.T) {
	fx := newFixture(t, "v2")
	id := testID(t)
	q, p := CPUs(0.5)
	m, err := fx.New(id, Resources{MemoryBytes: 256 << 20, CPUQuotaUS: q, CPUPeriodUS: p, PidsLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	dir := "glassbox/" + id + "/"
	for file, v := range map[string]string{
		dir + "cpu.max":                   "50000 100000",
		dir + "memory.max":                "268435456",
		dir + "memory.swap.max":           "0",
		dir + "pids.max":                  "100",
		"cgroup.subtree_control":          "cpu memory pids",
		"glassbox/cgroup.subtree_control": "cpu memory pids",
	} {
		if got := fx.read(file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	if got, want := UnifiedDir(m), filepath.Join(fx.root, "glassbox", id); got != want {
		t.Errorf("UnifiedDir = %q, want %q", got, want)
	}
	for _, c := range []string{"unified", "memory", "cpu", "pids"} {
		if m.Dirs()[c] != filepath.Join(fx.root, "glassbox", id) {
			t.Errorf("Dirs[%s] = %q", c, m.Dirs()[c])
		}
	}
	// A second sandbox finds the controllers enabled and writes nothing more.
	if _, err := fx.New(testID(t), Resources{}); err != nil {
		t.Fatal(err)
	}
	if got := fx.read(dir + "memory.max"); got != "268435456" {
		t.Errorf("memory.max of the first changed to %q", got)
	}
}

func TestV2ZeroMeansUnlimited(t *testing.T) {
	fx := newFixture(t, "v2")
	id := testID(t)
	if _, err := fx.New(id, Resources{}); err != nil {
		t.Fatal(err)
	}
	dir := "glassbox/" + id + "/"
	for file, v := range map[string]string{dir + "cpu.max": "max 100000", dir + "memory.max": "max", dir + "memory.swap.max": "max", dir + "pids.max": "max"} {
		if got := fx.read(file); got != v {
			t.Errorf("%s = %q, want the default %q", file, got, v)
		}
	}
	// Controllers are enabled even without limits: statistics need them.
	if got := fx.read("glassbox/cgroup.subtree_control"); got != "cpu memory pids" {
		t.Errorf("glassbox/cgroup.subtree_control = %q", got)
	}
}

func TestV2ParentWithProcesses(t *testing.T) {
	fx := newFixture(t, "v2")
	os.MkdirAll(filepath.Join(fx.root, Parent), 0o755)
	copyTree(t, filepath.Join(testdata, "v2", "child"), filepath.Join(fx.root, Parent))
	os.WriteFile(filepath.Join(fx.root, Parent, "cgroup.procs"), []byte("4242\n"), 0o644)
	id := testID(t)
	_, err := fx.New(id, Resources{MemoryBytes: 64 << 20})
	if err == nil || !strings.Contains(err.Error(), "holds processes [4242]") {
		t.Fatalf("New below a parent with processes: %v; want the no-internal-processes error", err)
	}
	if exists(filepath.Join(fx.root, Parent, id)) {
		t.Error("the failed New left its directory")
	}
}

func TestV2LimitWithoutController(t *testing.T) {
	// Like the unified mount of a hybrid host: a cgroup2 tree without controllers.
	fx := newFixture(t, "v2")
	os.WriteFile(filepath.Join(fx.root, "cgroup.controllers"), []byte("\n"), 0o644)
	_, err := newV2(fx.FS, testID(t), Resources{PidsLimit: 10})
	if err == nil || !strings.Contains(err.Error(), "needs the pids controller") {
		t.Errorf("pids limit without pids: %v", err)
	}
	m, err := newV2(fx.FS, testID(t), Resources{})
	if err != nil {
		t.Fatalf("no limits, no controllers: %v", err)
	}
	if len(m.Dirs()) != 1 {
		t.Errorf("Dirs = %v, want only unified", m.Dirs())
	}
	if got := fx.read("cgroup.subtree_control"); got != "" {
		t.Errorf("cgroup.subtree_control = %q, want nothing enabled", got)
	}
}

func TestV2WithoutSwapAccounting(t *testing.T) {
	fx := newFixture(t, "v2")
	fx.FS.onMkdir = func(dir string) error {
		fx.mkdir(dir)
		return os.Remove(filepath.Join(dir, "memory.swap.max"))
	}
	id := testID(t)
	if _, err := fx.New(id, Resources{MemoryBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(fx.root, "glassbox", id, "memory.swap.max")) {
		t.Error("memory.swap.max created on a host without swap accounting")
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

func TestFreezeV2(t *testing.T) {
	fx := newFixture(t, "v2")
	m, err := fx.New(testID(t), Resources{})
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimPrefix(m.Dirs()["unified"], fx.root)
	if err := m.Freeze(5 * time.Second); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if fx.read(dir+"/cgroup.freeze") != "1" || !strings.Contains(fx.read(dir+"/cgroup.events"), "frozen 1") {
		t.Errorf("after Freeze: cgroup.freeze %q, cgroup.events %q", fx.read(dir+"/cgroup.freeze"), fx.read(dir+"/cgroup.events"))
	}
	if err := m.Thaw(time.Second); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if fx.read(dir+"/cgroup.freeze") != "0" || !strings.Contains(fx.read(dir+"/cgroup.events"), "frozen 0") {
		t.Errorf("after Thaw: %q", fx.read(dir+"/cgroup.events"))
	}

	fx.freezeSticks = true
	err = m.Freeze(50 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `still says "frozen 0"`) {
		t.Fatalf("a freeze that never completes: %v; want a timeout error", err)
	}
	if got := fx.read(dir + "/cgroup.freeze"); got != "0" {
		t.Errorf("after a failed freeze cgroup.freeze is %q, want 0 again", got)
	}
}

func TestKillV2(t *testing.T) {
	fx := newFixture(t, "v2")
	m, err := fx.New(testID(t), Resources{})
	if err != nil {
		t.Fatal(err)
	}
	// PIDs that are not ours: only cgroup.kill (played by the fixture) may
	// act on them, never kill(2).
	dir := m.Dirs()["unified"]
	os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("999999991\n999999992\n"), 0o644)
	if pids, err := m.Procs(); err != nil || len(pids) != 2 {
		t.Fatalf("Procs = %v, %v", pids, err)
	}
	if err := m.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if pids, _ := m.Procs(); len(pids) != 0 {
		t.Errorf("after Kill: %v", pids)
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
