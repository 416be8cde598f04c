package image

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// libDirs are searched for a shared library, in this order, after the
// binary's own DT_RUNPATH/DT_RPATH. glassbox does not read ld.so.cache: the
// standard multiarch and lib64 directories are where Debian, Ubuntu,
// Fedora and Arch keep libc and its friends.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// SharedLibraries returns what the dynamic binary bin needs at run time, as
// absolute paths: its ELF interpreter (PT_INTERP, e.g.
// /lib64/ld-linux-x86-64.so.2) first, then every library named by DT_NEEDED,
// recursively, each once. A static binary needs none: the result is empty.
// The paths are where the libraries were found; the image puts each at the
// same path, so the interpreter's own search finds them there too.
func SharedLibraries(bin string) ([]string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, fmt.Errorf("read ELF headers of %s: %w", bin, err)
	}
	defer f.Close()
	var out []string
	interp, err := interpreter(f)
	if err != nil {
		return nil, fmt.Errorf("read ELF interpreter of %s: %w", bin, err)
	}
	if interp == "" {
		return nil, nil // static: no interpreter, nothing to load
	}
	out = append(out, interp)
	seen := map[string]bool{}
	var walk func(path string, f *elf.File) error
	walk = func(path string, f *elf.File) error {
		needed, err := f.ImportedLibraries()
		if err != nil {
			return fmt.Errorf("read DT_NEEDED of %s: %w", path, err)
		}
		dirs := runPaths(path, f)
		for _, name := range needed {
			if seen[name] {
				continue
			}
			seen[name] = true
			lib, lf, err := findLibrary(name, dirs, f)
			if err != nil {
				return fmt.Errorf("%s needs %s: %w", path, name, err)
			}
			if lib != interp {
				out = append(out, lib)
			}
			err = walk(lib, lf)
			lf.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(bin, f); err != nil {
		return nil, err
	}
	return out, nil
}

func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}

// runPaths are the directories of DT_RUNPATH and DT_RPATH, with $ORIGIN
// (the directory of the object itself) expanded.
func runPaths(path string, f *elf.File) []string {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(d, "${ORIGIN}", filepath.Dir(path))
				d = strings.ReplaceAll(d, "$ORIGIN", filepath.Dir(path))
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
	}
	return append(dirs, libDirs...)
}

// findLibrary looks for name in dirs and returns the first file that is an
// ELF shared object of the same class and machine as the one needing it
// (a 32-bit libc in /lib would not do for a 64-bit binary).
func findLibrary(name string, dirs []string, from *elf.File) (string, *elf.File, error) {
	if strings.Contains(name, "/") {
		dirs, name = []string{filepath.Dir(name)}, filepath.Base(name)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		lf, err := elf.Open(p)
		if err != nil {
			continue
		}
		if lf.Class != from.Class || lf.Machine != from.Machine {
			lf.Close()
			continue
		}
		return p, lf, nil
	}
	return "", nil, fmt.Errorf("not found in %s", strings.Join(dirs, ", "))
}
