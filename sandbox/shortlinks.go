package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"glassbox/sandbox/state"
)

// maxLowerLen is how long the lower directories may be, joined, before
// they are given short names: overlayfs takes its options from one page
// (4096 bytes), which also holds upperdir, workdir and the flags.
const maxLowerLen = 3000

// shortLinksDir is where the short names of sandbox id's layers live while
// it starts and runs: Run/l/<id>/<n>, one symlink per layer.
func shortLinksDir(roots state.Roots, id string) string {
	return filepath.Join(roots.Run, "l", id)
}

// shortLowerDirs returns the layer directories as the overlay mount names
// them: as they are, or — when an image has so many layers that their
// paths would not fit in a page of mount options — each through a short
// symlink of the sandbox's own, Run/l/<id>/<n>, the way docker's overlay2
// driver shortens its lowerdirs with l/ links. The kernel resolves them
// once, at the mount; inspect resolves them back while the sandbox runs.
// They belong to the sandbox and go with its mounts' directories
// (removeShortLinks), so nothing outlives it; prune takes what a crash left.
func shortLowerDirs(roots state.Roots, id string, dirs []string) ([]string, error) {
	if len(strings.Join(dirs, ":")) <= maxLowerLen {
		return dirs, nil
	}
	linkDir := shortLinksDir(roots, id)
	if err := os.RemoveAll(linkDir); err != nil {
		return nil, fmt.Errorf("remove the old short layer links: %w", err)
	}
	if err := os.MkdirAll(linkDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the short layer links: %w", err)
	}
	out := make([]string, len(dirs))
	for i, d := range dirs {
		link := filepath.Join(linkDir, strconv.Itoa(i))
		if err := os.Symlink(d, link); err != nil {
			return nil, fmt.Errorf("link layer %s: %w", d, err)
		}
		out[i] = link
	}
	return out, nil
}

// removeShortLinks removes sandbox id's short layer links, if it has any.
func removeShortLinks(roots state.Roots, id string) error {
	if err := os.RemoveAll(shortLinksDir(roots, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the short layer links: %w", err)
	}
	return nil
}
