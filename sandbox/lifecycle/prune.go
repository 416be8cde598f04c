package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/network"
)

// orphanAge is how old a leftover must be before prune takes it: anything
// younger may belong to a sandbox being created at this moment.
const orphanAge = 30 * time.Second

// cgroupRoot is where the cgroup hierarchies are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// pruneOrphans removes leftovers of sandboxes with no record; live are the
// ids that still have one.
func (e *Engine) pruneOrphans(live map[string]bool) ([]string, error) {
	var removed []string
	var errs []error
	old := func(path string) bool {
		fi, err := os.Lstat(path)
		return err == nil && time.Since(fi.ModTime()) > orphanAge
	}

	// State directories without a readable record.
	entries, _ := os.ReadDir(e.Roots.SandboxesDir())
	for _, ent := range entries {
		id := ent.Name()
		dir := filepath.Join(e.Roots.SandboxesDir(), id)
		if !ent.IsDir() || live[id] || !old(dir) {
			continue
		}
		if _, err := e.store.Load(id); err == nil {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove stale state dir %s: %w", dir, err))
			continue
		}
		removed = append(removed, "state dir "+dir)
	}

	// Writable layers (and their mount points) without a record.
	entries, _ = os.ReadDir(e.Roots.ContainersDir())
	for _, ent := range entries {
		dir := filepath.Join(e.Roots.ContainersDir(), ent.Name())
		if live[ent.Name()] || !old(dir) {
			continue
		}
		for _, m := range mountsBelow(dir) {
			unix.Unmount(m, unix.MNT_DETACH)
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove stale layer %s: %w", dir, err))
			continue
		}
		removed = append(removed, "writable layer "+dir)
	}

	// Address leases and gb-* links of sandboxes that are gone.
	ids := make([]string, 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	if err := network.Reconcile(e.Roots, ids); err != nil {
		errs = append(errs, err)
	}

	// Empty cgroups below glassbox/ that no record of this root owns. A
	// cgroup with processes in it may be a sandbox of another state root:
	// it is left alone.
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", cgroup.Parent, "*"))
	v2, _ := filepath.Glob(filepath.Join(cgroupRoot, cgroup.Parent, "*"))
	for _, dir := range append(dirs, v2...) {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || live[filepath.Base(dir)] || !old(dir) || !emptyCgroup(dir) {
			continue
		}
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove stale cgroup %s: %w", dir, err))
			continue
		}
		removed = append(removed, "cgroup "+dir)
	}
	return removed, errors.Join(errs...)
}

func emptyCgroup(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return false
	}
	sub, _ := filepath.Glob(filepath.Join(dir, "*", "cgroup.procs"))
	return strings.TrimSpace(string(data)) == "" && len(sub) == 0
}

// mountsBelow lists mount points at or below dir, deepest first.
func mountsBelow(dir string) []string {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(infos))
	for i := len(infos) - 1; i >= 0; i-- { // mounted later, on top
		out = append(out, infos[i].Mountpoint)
	}
	return out
}
