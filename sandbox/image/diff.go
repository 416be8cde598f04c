package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// Change is one line of `diff`: Kind is 'A' (added), 'C' (changed) or 'D'
// (deleted), Path the path inside the sandbox.
type Change struct {
	Kind byte
	Path string
}

func (c Change) String() string { return string(c.Kind) + " " + c.Path }

// Diff lists what a sandbox changed in its root filesystem, from its upper
// directory as docker lists it: a whiteout is a deletion; an opaque
// directory deletes what the layers below had in it; anything else is
// added when the layers below lack it, changed when they have it.
func Diff(sb *state.Sandbox) ([]Change, error) {
	if sb.UpperDir == "" {
		return nil, errors.New("the sandbox has no writable layer")
	}
	if _, err := os.Stat(sb.UpperDir); err != nil {
		return nil, fmt.Errorf("the sandbox's writable layer: %w", err)
	}
	var out []Change
	err := filepath.WalkDir(sb.UpperDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(sb.UpperDir, p)
		if rel == "." {
			return nil
		}
		inside := "/" + filepath.ToSlash(rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if isWhiteout(&st) {
			out = append(out, Change{'D', inside})
			return nil
		}
		_, below := Lookup(sb.Layers, inside)
		if d.IsDir() {
			if opaque, _ := isOpaque(p); opaque && below {
				// what the layers below had in it is gone, unless the
				// upper has it again
				gone, _ := listBelow(sb.Layers, inside)
				for _, n := range gone {
					if _, err := os.Lstat(filepath.Join(p, n)); err != nil {
						out = append(out, Change{'D', inside + "/" + n})
					}
				}
			}
		}
		switch {
		case below:
			out = append(out, Change{'C', inside})
		case runtimeMade(inside, d, p):
			// the runtime's mount point or the file it bind-mounts over
		default:
			out = append(out, Change{'A', inside})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return out, err
}

// runtimeMade says a path is one the runtime creates in a sandbox's root
// when the image lacks it (a mount point, or a file it bind-mounts over),
// still empty: not the workload's change, as docker leaves it out too.
func runtimeMade(inside string, d fs.DirEntry, p string) bool {
	switch inside {
	case "/proc", "/sys", "/dev", "/tmp", "/etc":
		entries, err := os.ReadDir(p)
		return d.IsDir() && err == nil && (len(entries) == 0 || inside == "/etc" && onlyEtcFiles(entries))
	case "/etc/hosts", "/etc/hostname", "/etc/resolv.conf":
		fi, err := d.Info()
		return err == nil && fi.Mode().IsRegular() && fi.Size() == 0
	}
	return false
}

func onlyEtcFiles(entries []fs.DirEntry) bool {
	for _, e := range entries {
		if e.Name() != "hosts" && e.Name() != "hostname" && e.Name() != "resolv.conf" {
			return false
		}
	}
	return true
}

// listBelow lists the names the layers have in a directory.
func listBelow(layers []state.Layer, inside string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, l := range layers {
		entries, err := os.ReadDir(filepath.Join(l.Dir, inside))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !seen[e.Name()] {
				seen[e.Name()] = true
				if _, ok := Lookup(layers, inside+"/"+e.Name()); ok {
					names = append(names, e.Name())
				}
			}
		}
	}
	return names, nil
}
