package image

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// Lookup finds what a path inside the sandbox is in a stack of layers
// (top-most first), as overlayfs would merge them: the top-most layer that
// has it wins, a whiteout hides it, an opaque directory hides what the
// layers below have inside it. Symlinks along the path are not followed.
func Lookup(topFirst []state.Layer, inside string) (fs.FileInfo, bool) {
	parts := strings.Split(strings.Trim(filepath.Clean("/"+inside), "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	// depth below which lower layers are hidden by an opaque directory
	opaqueAt := len(parts) + 1
	for _, l := range topFirst {
		limit := opaqueAt // what this layer finds opaque hides the layers below it
		cur := l.Dir
		if len(parts) == 0 {
			if fi, err := os.Lstat(cur); err == nil {
				return fi, true
			}
			continue
		}
		for i, part := range parts {
			if i >= opaqueAt {
				return nil, false
			}
			cur = filepath.Join(cur, part)
			fi, err := os.Lstat(cur)
			if err != nil {
				break // not in this layer: look below
			}
			if st, ok := fi.Sys().(*unix.Stat_t); ok && isWhiteout(st) {
				return nil, false
			}
			if i == len(parts)-1 {
				return fi, true
			}
			if !fi.IsDir() {
				return nil, false // a file or symlink where a directory would be
			}
			if opaque, _ := isOpaque(cur); opaque && i+1 < limit {
				limit = i + 1
			}
		}
		opaqueAt = limit
	}
	return nil, false
}

func isOpaque(dir string) (bool, error) {
	for _, name := range opaqueXattrs {
		if v, err := getXattr(dir, name); err == nil && v == "y" {
			return true, nil
		}
	}
	return false, nil
}
