package vm

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/image"
	"glassbox/sandbox/vm/cpio"
	"glassbox/sandbox/vm/guest"
)

// node is one entry of the initramfs before it is written.
type node struct {
	mode   fs.FileMode // type and permission bits
	src    string      // a regular file's content, on the host
	size   int64
	data   []byte // or its content in memory
	target string // a symlink's target
	major  uint32 // a device's numbers
	minor  uint32
}

// tree is the initramfs being assembled: path (no leading "/") → node.
type tree map[string]*node

// WriteInitramfs writes the micro-VM's initramfs to w: the image's layers
// merged as overlayfs would show them (layers base first), the kernel
// modules for qemu's network card, the init's configuration, /dev/console,
// and /init: the host file init (a glassbox binary, which is the VM's init
// under that name) with the shared libraries it needs that the layers do
// not have, or, when init is "", a link to the workload's own binary (an
// image that carries glassbox itself). It returns the number of bytes
// written.
func WriteInitramfs(w io.Writer, layers []string, init string, k *Kernel, cfg guest.Config) (int64, error) {
	t := tree{}
	for _, l := range layers {
		if err := t.addLayer(l); err != nil {
			return 0, fmt.Errorf("initramfs: layer %s: %w", l, err)
		}
	}
	if k.Modules != "" {
		mods, err := readModuleTree(k.Modules)
		if err != nil {
			return 0, err
		}
		files, err := mods.resolve(netModules)
		if err != nil {
			return 0, fmt.Errorf("initramfs: the network card's modules: %w", err)
		}
		base := "lib/modules/" + filepath.Base(k.Modules)
		if k.Release != "" {
			base = "lib/modules/" + k.Release
		}
		for _, f := range files {
			src := filepath.Join(k.Modules, f)
			fi, err := os.Stat(src)
			if err != nil {
				return 0, err
			}
			t.addFile(path.Join(base, f), &node{mode: 0o644, src: src, size: fi.Size()})
			cfg.Modules = append(cfg.Modules, "/"+path.Join(base, f))
		}
	}
	if len(cfg.Args) == 0 {
		return 0, fmt.Errorf("initramfs: no command to run")
	}
	if n, ok := t[strings.TrimPrefix(cfg.Args[0], "/")]; !ok || !n.mode.IsRegular() {
		return 0, fmt.Errorf("initramfs: the command %s is not a file of the image", cfg.Args[0])
	}
	conf, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return 0, err
	}
	t.addFile(strings.TrimPrefix(guest.ConfigPath, "/"), &node{mode: 0o644, data: conf, size: int64(len(conf))})
	t.addFile("dev/console", &node{mode: fs.ModeDevice | fs.ModeCharDevice | 0o600, major: 5, minor: 1})
	if init == "" {
		t.addFile("init", &node{mode: fs.ModeSymlink | 0o777, target: cfg.Args[0]})
	} else if err := t.addInit(init); err != nil {
		return 0, fmt.Errorf("initramfs: %w", err)
	}
	return t.write(w)
}

// addInit adds the host binary bin as /init, with the shared libraries it
// needs at the paths its loader looks for them, where the layers have
// none.
func (t tree) addInit(bin string) error {
	libs, err := image.SharedLibraries(bin)
	if err != nil {
		return err
	}
	for _, p := range append(libs, bin) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		at := strings.TrimPrefix(p, "/")
		if p == bin {
			at = "init"
		} else if _, ok := t[at]; ok {
			continue
		}
		t.addFile(at, &node{mode: fi.Mode().Perm(), src: p, size: fi.Size()})
	}
	return nil
}

// addFile adds n at p, with any missing parent directories.
func (t tree) addFile(p string, n *node) {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, ok := t[d]; !ok {
			t[d] = &node{mode: fs.ModeDir | 0o755}
		}
	}
	t[p] = n
}

// addLayer merges one layer over what is there: overlayfs's whiteouts
// (0/0 character devices) remove a lower path, an opaque directory
// (trusted.overlay.opaque=y) hides everything below it in lower layers.
func (t tree) addLayer(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mode := fi.Mode()
		st, _ := fi.Sys().(*syscall.Stat_t)
		switch {
		case mode&fs.ModeCharDevice != 0 && st != nil && st.Rdev == 0:
			t.remove(rel)
			return nil
		case mode.IsDir():
			if opaque(p) {
				t.remove(rel)
			}
			t[rel] = &node{mode: mode}
		case mode.IsRegular():
			t[rel] = &node{mode: mode, src: p, size: fi.Size()}
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t[rel] = &node{mode: mode, target: target}
		case mode&fs.ModeCharDevice != 0 && st != nil:
			t[rel] = &node{mode: mode, major: unix.Major(st.Rdev), minor: unix.Minor(st.Rdev)}
		default:
			return fmt.Errorf("%s: cannot carry a %v in an initramfs", rel, mode.Type())
		}
		return nil
	})
}

// remove drops p and everything below it.
func (t tree) remove(p string) {
	delete(t, p)
	for k := range t {
		if strings.HasPrefix(k, p+"/") {
			delete(t, k)
		}
	}
}

func opaque(dir string) bool {
	var b [1]byte
	n, err := unix.Lgetxattr(dir, "trusted.overlay.opaque", b[:])
	return err == nil && n == 1 && b[0] == 'y'
}

// write writes the tree in path order, which puts every directory before
// what it holds.
func (t tree) write(w io.Writer) (int64, error) {
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	cw := &counter{w: w}
	cp := cpio.NewWriter(cw)
	for _, p := range paths {
		if err := t[p].writeTo(cp, p); err != nil {
			return cw.n, fmt.Errorf("initramfs: %s: %w", p, err)
		}
	}
	if err := cp.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

func (n *node) writeTo(cp *cpio.Writer, p string) error {
	switch {
	case n.mode.IsDir():
		return cp.Dir(p, n.mode)
	case n.mode&fs.ModeSymlink != 0:
		return cp.Symlink(p, n.target)
	case n.mode&fs.ModeCharDevice != 0:
		return cp.CharDev(p, n.mode, n.major, n.minor)
	case n.data != nil:
		return cp.File(p, n.mode, n.size, strings.NewReader(string(n.data)))
	}
	f, err := os.Open(n.src)
	if err != nil {
		return err
	}
	defer f.Close()
	return cp.File(p, n.mode, n.size, f)
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
