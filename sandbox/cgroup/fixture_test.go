package cgroup

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

const testdata = "testdata/cgroupfs"

// fixture is a copy of testdata/cgroupfs/<layout>/root in a temp dir, opened as
// an FS whose hooks play cgroupfs: a new directory gets the files of
// <layout>/child, cgroup.subtree_control keeps a set, cgroup.freeze updates
// cgroup.events, cgroup.kill empties the cgroup, rmdir drops the files.
// Tests change the kernel's behaviour through the fields.
type fixture struct {
	*FS
	t      *testing.T
	layout string

	mu      sync.Mutex
	subtree map[string][]string // cgroup.subtree_control file → enabled controllers
	// freezeSticks makes a freeze never complete (freezer.state stays
	// FREEZING on v1, cgroup.events stays "frozen 0" on v2).
	freezeSticks bool
	// freezeAfter makes a v1 freeze complete only at that many writes of FROZEN.
	freezeAfter  int
	frozenWrites int
}

func newFixture(t *testing.T, layout string) *fixture {
	t.Helper()
	root := t.TempDir()
	copyTree(t, filepath.Join(testdata, layout, "root"), root)
	f, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{FS: f, t: t, layout: layout, subtree: map[string][]string{}}
	f.onMkdir = fx.mkdir
	f.onWrite = fx.write
	f.onRmdir = fx.rmdir
	return fx
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy fixture %s: %v", src, err)
	}
}

func (fx *fixture) mkdir(dir string) error {
	tmpl := filepath.Join(testdata, fx.layout, "child")
	if fx.layout != "v1" {
		copyTree(fx.t, tmpl, dir)
		return nil
	}
	// A v1 hierarchy's directory is named after its controllers: "memory",
	// or "cpu,cpuacct" where they are co-mounted.
	realRoot, _ := filepath.EvalSymlinks(fx.root)
	realDir, _ := filepath.EvalSymlinks(dir)
	rel, _ := filepath.Rel(realRoot, realDir)
	for _, c := range strings.Split(strings.Split(rel, string(filepath.Separator))[0], ",") {
		copyTree(fx.t, filepath.Join(tmpl, c), dir)
	}
	return nil
}

func (fx *fixture) rmdir(dir string) error {
	// The kernel refuses to remove a cgroup that holds processes.
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return unix.EBUSY
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		// Child cgroups stay (rmdir must fail on them); anything else goes.
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() || !exists(filepath.Join(p, "cgroup.procs")) {
			os.RemoveAll(p)
		}
	}
	return nil
}

func (fx *fixture) write(file, value string) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	dir, name := filepath.Split(file)
	switch name {
	case "cgroup.subtree_control":
		on := fx.subtree[file]
		for _, tok := range strings.Fields(value) {
			c := tok[1:]
			if tok[0] == '+' && !slices.Contains(on, c) {
				on = append(on, c)
			}
		}
		slices.Sort(on)
		fx.subtree[file] = on
		fx.put(file, strings.Join(on, " ")+"\n")
	case "freezer.state":
		if value == "FROZEN" {
			fx.frozenWrites++
			if fx.freezeSticks || fx.frozenWrites < fx.freezeAfter {
				fx.put(file, "FREEZING\n")
			}
		}
	case "cgroup.freeze":
		if value == "1" && fx.freezeSticks {
			return
		}
		fx.setEvent(dir, "frozen", strings.TrimSpace(value))
	case "cgroup.kill":
		fx.put(filepath.Join(dir, "cgroup.procs"), "")
		fx.setEvent(dir, "populated", "0")
	}
}

func (fx *fixture) put(file, content string) {
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		fx.t.Errorf("fixture kernel: %v", err)
	}
}

func (fx *fixture) setEvent(dir, key, value string) {
	file := filepath.Join(dir, "cgroup.events")
	b, err := os.ReadFile(file)
	if err != nil {
		fx.t.Errorf("fixture kernel: %v", err)
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, key+" ") {
			lines[i] = key + " " + value
		}
	}
	fx.put(file, strings.Join(lines, "\n")+"\n")
}

// read returns a fixture file's content without surrounding space.
func (fx *fixture) read(rel string) string {
	fx.t.Helper()
	b, err := os.ReadFile(filepath.Join(fx.root, rel))
	if err != nil {
		fx.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
