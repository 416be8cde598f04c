package lifecycle

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, …).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
