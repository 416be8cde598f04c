package vm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// netModules are the modules behind qemu's virtio-net PCI card; each is
// loaded with what it depends on, unless the kernel has it built in.
var netModules = []string{"virtio_pci", "virtio_net"}

// moduleTree is a kernel's /lib/modules/<release>: which modules it has as
// files and which are built in.
type moduleTree struct {
	dir     string
	files   map[string]string   // module name → path relative to dir
	deps    map[string][]string // module name → names it depends on (modules.dep)
	builtin map[string]bool
}

// moduleName is how the kernel names a module file: "virtio-net.ko.xz" is
// virtio_net.
func moduleName(file string) string {
	base := filepath.Base(file)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

func readModuleTree(dir string) (*moduleTree, error) {
	t := &moduleTree{dir: dir, files: map[string]string{}, builtin: map[string]bool{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(d.Name(), ".ko") {
			rel, _ := filepath.Rel(dir, p)
			t.files[moduleName(rel)] = rel
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read kernel modules in %s: %w", dir, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			t.builtin[moduleName(l)] = true
		}
	}
	// modules.dep ("kernel/a.ko: kernel/b.ko kernel/c.ko") is depmod's
	// answer; without it each module's own .modinfo "depends=" is read.
	if f, err := os.Open(filepath.Join(dir, "modules.dep")); err == nil {
		defer f.Close()
		t.deps = map[string][]string{}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			mod, deps, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			var names []string
			for _, d := range strings.Fields(deps) {
				names = append(names, moduleName(d))
			}
			t.deps[moduleName(mod)] = names
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s/modules.dep: %w", dir, err)
		}
	}
	return t, nil
}

// dependsOf is what module name needs loaded first.
func (t *moduleTree) dependsOf(name string) ([]string, error) {
	if t.deps != nil {
		return t.deps[name], nil
	}
	rel := t.files[name]
	if !strings.HasSuffix(rel, ".ko") {
		return nil, fmt.Errorf("module %s: %s is compressed and %s has no modules.dep (run depmod -b)", name, rel, t.dir)
	}
	f, err := elf.Open(filepath.Join(t.dir, rel))
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", name, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("module %s: no .modinfo section", name)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", name, err)
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			var names []string
			for _, d := range strings.Split(string(v), ",") {
				if d != "" {
					names = append(names, moduleName(d))
				}
			}
			return names, nil
		}
	}
	return nil, nil
}

// resolveModules returns the module files (relative to the tree) that
// load names, each after everything it depends on; built-in modules need
// no file.
func (t *moduleTree) resolve(names []string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("kernel modules depend on each other in a circle at %s", name)
		case 2:
			return nil
		}
		if t.builtin[name] {
			state[name] = 2
			return nil
		}
		rel, ok := t.files[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("module %s (needed by %s): %w in %s", name, from, errNoModule, t.dir)
			}
			return fmt.Errorf("module %s: %w in %s", name, errNoModule, t.dir)
		}
		state[name] = 1
		deps, err := t.dependsOf(name)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, rel)
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}
