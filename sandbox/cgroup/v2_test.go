package cgroup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
	if got, want := m.Dirs()[unifiedKey], filepath.Join(fx.root, "glassbox", id); got != want {
		t.Errorf("unified directory %q, want %q", got, want)
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
