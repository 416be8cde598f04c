package image

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"glassbox/sandbox/state"
)

// Lookup finds what a path inside the sandbox is in a stack of layers
// (top-most first), as overlayfs would merge them: the top-most layer that
// has it wins, a whiteout hides it, an opaque directory hides what the
// layers below have inside it. Symlinks along the path are not followed
// (Resolve follows them).
func Lookup(topFirst []state.Layer, inside string) (fs.FileInfo, bool) {
	_, fi, ok := find(topFirst, splitInside(path.Clean("/"+inside)))
	return fi, ok
}

// Resolve finds the file a path inside the sandbox names, as a process in
// the merged root would open it: like Lookup, but every symlink on the
// way, the last one too, is followed inside the root — an absolute target
// starts again at the sandbox's /, and ".." stops there — never on the
// host. It returns where the file is on the host (in the layer that holds
// it) and what it is (never a symlink). A missing file, a dangling link or
// a loop (more than 40 links, as the kernel counts) is not found.
func Resolve(topFirst []state.Layer, inside string) (string, fs.FileInfo, bool) {
	todo := splitInside(inside)
	var done []string // the components resolved so far, free of symlinks
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		if part == ".." {
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		next := append(append([]string(nil), done...), part)
		host, fi, ok := find(topFirst, next)
		if !ok {
			return "", nil, false
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > 40 {
				return "", nil, false
			}
			target, err := os.Readlink(host)
			if err != nil {
				return "", nil, false
			}
			if path.IsAbs(target) {
				done = nil
			}
			todo = append(splitInside(target), todo...)
			continue
		}
		if len(todo) > 0 && !fi.IsDir() {
			return "", nil, false
		}
		done = next
	}
	return find(topFirst, done)
}

// splitInside cuts a path inside the sandbox into its components, without
// empty ones and ".": "/usr//bin/./sh" is usr, bin, sh; ".." stays, for
// Resolve to take back a component it has resolved.
func splitInside(inside string) []string {
	var parts []string
	for _, p := range strings.Split(inside, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	return parts
}

// find is Lookup on the components of a path (no "." or ".." among them),
// with the file's path on the host.
func find(topFirst []state.Layer, parts []string) (string, fs.FileInfo, bool) {
	// depth below which lower layers are hidden by an opaque directory
	opaqueAt := len(parts) + 1
	for _, l := range topFirst {
		limit := opaqueAt // what this layer finds opaque hides the layers below it
		cur := l.Dir
		if len(parts) == 0 {
			if fi, err := os.Lstat(cur); err == nil {
				return cur, fi, true
			}
			continue
		}
		for i, part := range parts {
			if i >= opaqueAt {
				return "", nil, false
			}
			cur = filepath.Join(cur, part)
			fi, err := os.Lstat(cur)
			if err != nil {
				break // not in this layer: look below
			}
			// os.Lstat's Sys is a *syscall.Stat_t.
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && isWhiteoutStat(st) {
				return "", nil, false
			}
			if i == len(parts)-1 {
				return cur, fi, true
			}
			if !fi.IsDir() {
				return "", nil, false // a file or symlink where a directory would be
			}
			if opaque, _ := isOpaque(cur); opaque && i+1 < limit {
				limit = i + 1
			}
		}
		opaqueAt = limit
	}
	return "", nil, false
}

func isOpaque(dir string) (bool, error) {
	for _, name := range opaqueXattrs {
		if v, err := getXattr(dir, name); err == nil && v == "y" {
			return true, nil
		}
	}
	return false, nil
}

func isWhiteoutStat(st *syscall.Stat_t) bool {
	return st.Mode&syscall.S_IFMT == syscall.S_IFCHR && st.Rdev == 0
}
