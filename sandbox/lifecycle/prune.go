package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

// foreignCgroupAge is how old an empty glassbox cgroup that no sandbox of
// this state root knows must be before prune takes it: cgroups are shared
// by every state root on the host, and a younger one may be another root's
// sandbox being created (whose lock is in that root, out of sight).
const foreignCgroupAge = 30 * time.Second

// cgroupRoot is where the cgroup hierarchies are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// Prune removes every exited sandbox and whatever a crash left behind below
// these roots: records whose supervisor died (reconciled, then removed),
// state directories without a record, writable layers, address leases,
// gb-* links and forwarding tables of sandboxes that no longer exist, and
// empty glassbox cgroups that no sandbox owns. It returns what it removed.
//
// It works one sandbox id at a time, under the id's lock (state/lock.go),
// and passes over every id whose lock another process holds: a sandbox
// being created, running under its supervisor, or being removed by another
// prune or rm. Nothing of a sandbox that is starting can be taken, however
// the two interleave: its creator holds the lock before the record and the
// first resource exist.
func (e *Engine) Prune() ([]string, error) {
	var removed []string
	var errs []error
	ids, err := e.knownIDs()
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range ids {
		l, err := e.store.TryLock(id)
		if errors.Is(err, state.ErrBusy) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		what, err := e.pruneLocked(id, l)
		l.Release()
		removed = append(removed, what...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	what, err := e.pruneSharedLinks()
	removed = append(removed, what...)
	if err != nil {
		errs = append(errs, err)
	}
	what, err = e.pruneForeignCgroups(ids)
	removed = append(removed, what...)
	if err != nil {
		errs = append(errs, err)
	}
	bridges, err := network.ForgetGoneBridges()
	for _, b := range bridges {
		removed = append(removed, "firewall rules of the removed bridge "+b)
	}
	if err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// knownIDs lists every sandbox id that has something below these roots:
// a state directory or lock, a writable layer, or something of the network.
func (e *Engine) knownIDs() ([]string, error) {
	seen := map[string]bool{}
	entries, _ := os.ReadDir(e.Roots.SandboxesDir())
	for _, ent := range entries {
		seen[strings.TrimSuffix(ent.Name(), ".lock")] = true
	}
	entries, _ = os.ReadDir(e.Roots.ContainersDir())
	for _, ent := range entries {
		seen[ent.Name()] = true
	}
	// Short layer links (sandbox/shortlinks.go): a directory per sandbox.
	entries, _ = os.ReadDir(filepath.Join(e.Roots.Run, "l"))
	for _, ent := range entries {
		seen[ent.Name()] = true
	}
	net, err := network.Leftovers(e.Roots)
	for _, id := range net {
		seen[id] = true
	}
	var ids []string
	for id := range seen {
		if state.IsID(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, err
}

// pruneLocked removes sandbox id if it has exited or has no record, with
// everything it holds; the caller holds its lock, so nobody is at work on
// it.
func (e *Engine) pruneLocked(id string, l *state.Lock) ([]string, error) {
	sb, err := e.store.Load(id)
	if err == nil {
		sb = e.reconcileLocked(sb) // its owner died if it claims one
		if sb.Status != state.Exited {
			return nil, nil // a supervisor from before the locks still runs it
		}
		if err := e.removeLocked(sb, l); err != nil {
			return nil, err
		}
		return []string{"sandbox " + sb.Name + " (" + id + ")"}, nil
	}
	// No readable record: what a crash left before the first record was
	// written or after the last was removed.
	var removed []string
	var errs []error
	dir := filepath.Join(e.Roots.ContainersDir(), id)
	if _, err := os.Stat(dir); err == nil {
		removed = append(removed, "writable layer "+dir)
		// A sandbox's mounts live in its own mount namespace; one that
		// reached the host's must not have its contents removed with it.
		for _, m := range mountsBelow(dir) {
			unix.Unmount(m, unix.MNT_DETACH)
		}
	}
	orphan := &state.Sandbox{ID: id, Name: id}
	if err := e.release(orphan); err != nil {
		errs = append(errs, err)
	}
	if err := e.forget(id); err != nil {
		errs = append(errs, err)
	}
	if err := network.Forget(e.Roots, id); err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(e.Roots.SandboxDir(id)); err == nil {
		if err := e.store.Remove(id); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, "state dir "+e.Roots.SandboxDir(id))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, l.Remove())
	}
	return removed, errors.Join(errs...)
}

// pruneForeignCgroups removes empty glassbox cgroups of ids these roots do
// not know, once they are old enough (foreignCgroupAge). A cgroup with
// processes in it may be a sandbox of another state root: it is left alone.
func (e *Engine) pruneForeignCgroups(known []string) ([]string, error) {
	ours := map[string]bool{}
	for _, id := range known {
		ours[id] = true
	}
	var removed []string
	var errs []error
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", cgroup.Parent, "*"))
	v2, _ := filepath.Glob(filepath.Join(cgroupRoot, cgroup.Parent, "*"))
	for _, dir := range append(dirs, v2...) {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || ours[filepath.Base(dir)] || time.Since(fi.ModTime()) < foreignCgroupAge || !emptyCgroup(dir) {
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

// pruneSharedLinks removes the short layer links glassbox made before each
// sandbox had its own (Run/l/<10 hex digits>, shared and never removed):
// the kernel needs a link only while it mounts, and nothing makes these
// any more.
func (e *Engine) pruneSharedLinks() ([]string, error) {
	dir := filepath.Join(e.Roots.Run, "l")
	entries, _ := os.ReadDir(dir)
	var removed []string
	var errs []error
	for _, ent := range entries {
		if ent.IsDir() || state.IsID(ent.Name()) {
			continue
		}
		p := filepath.Join(dir, ent.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the stale layer link %s: %w", p, err))
			continue
		}
		removed = append(removed, "layer link "+p)
	}
	return removed, errors.Join(errs...)
}
