package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"glassbox/sandbox/state"
)

// maxLowerLen is how long the lower directories may be, joined, before
// they are given short names: overlayfs takes its options from one page
// (4096 bytes), which also holds upperdir, workdir and the flags.
const maxLowerLen = 3000

// shortLowerDirs returns the layer directories as the overlay mount names
// them: as they are, or — when an image has so many layers that their
// paths would not fit in a page of mount options — each through a short
// symlink, Run/l/<10 hex digits of the directory's sha256>, the way docker's
// overlay2 driver does with its l/ links. The links name a layer by its
// path, so they are the same for every sandbox and are made once.
func shortLowerDirs(roots state.Roots, dirs []string) ([]string, error) {
	if len(strings.Join(dirs, ":")) <= maxLowerLen {
		return dirs, nil
	}
	linkDir := filepath.Join(roots.Run, "l")
	if err := os.MkdirAll(linkDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the short layer links: %w", err)
	}
	out := make([]string, len(dirs))
	for i, d := range dirs {
		sum := sha256.Sum256([]byte(d))
		link := filepath.Join(linkDir, hex.EncodeToString(sum[:5]))
		if target, err := os.Readlink(link); err != nil || target != d {
			tmp := link + ".tmp"
			os.Remove(tmp)
			if err := os.Symlink(d, tmp); err != nil {
				return nil, fmt.Errorf("link layer %s: %w", d, err)
			}
			if err := os.Rename(tmp, link); err != nil {
				return nil, fmt.Errorf("link layer %s: %w", d, err)
			}
		}
		out[i] = link
	}
	return out, nil
}
