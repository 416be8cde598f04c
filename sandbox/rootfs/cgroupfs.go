package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// CgroupMount is one cgroup hierarchy to show inside the sandbox, below
// /sys/fs/cgroup/<Name>: FSType "cgroup" with the hierarchy's super options
// (v1, e.g. "memory" or "cpu,cpuacct"), or "cgroup2" with Name "".
type CgroupMount struct {
	Name    string
	FSType  string
	Options string
}

// HostCgroupMounts finds, in mountinfo, the hierarchies that hold the given
// cgroup directories (a sandbox's Cgroup.Dirs), so that the same ones are
// mounted inside. On a pure v2 host that is the one cgroup2 mount.
func HostCgroupMounts(mountinfoFile string, dirs []string) ([]CgroupMount, error) {
	f, err := os.Open(mountinfoFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", mountinfoFile, err)
	}
	defer f.Close()
	type hier struct{ point, fstype, opts string }
	var hs []hier
	infos, err := mountinfo.GetMountsFromReader(f, mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", mountinfoFile, err)
	}
	for _, in := range infos {
		hs = append(hs, hier{in.Mountpoint, in.FSType, in.VFSOptions})
	}
	var out []CgroupMount
	seen := map[string]bool{}
	for _, d := range dirs {
		best := -1
		for i, h := range hs {
			if strings.HasPrefix(d, h.point+"/") && (best < 0 || len(h.point) > len(hs[best].point)) {
				best = i
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("no cgroup hierarchy mounted above %s", d)
		}
		h := hs[best]
		if seen[h.point] {
			continue
		}
		seen[h.point] = true
		m := CgroupMount{FSType: h.fstype}
		if h.fstype == "cgroup" {
			m.Name = filepath.Base(h.point)
			m.Options = v1Options(h.opts)
		}
		out = append(out, m)
	}
	return out, nil
}

// v1Options keeps the super options that select a v1 hierarchy (its
// controllers, name=…); a second mount must name the same set.
func v1Options(super string) string {
	var keep []string
	for _, o := range strings.Split(super, ",") {
		switch {
		case o == "rw" || o == "ro":
		case strings.HasPrefix(o, "release_agent="), o == "clone_children":
		default:
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ",")
}

// cgroupOps mount the hierarchies read-only below root/sys/fs/cgroup. The
// init runs them inside the sandbox's cgroup namespace, created before any
// of the plan: the kernel then shows the sandbox's own cgroup as the root
// of each mount, so the workload reads its limits at
// /sys/fs/cgroup/memory/memory.limit_in_bytes (v1) or
// /sys/fs/cgroup/memory.max (v2).
func cgroupOps(root string, ms []CgroupMount) []Op {
	if len(ms) == 0 {
		return nil
	}
	base := join(root, "/sys/fs/cgroup")
	var ops []Op
	if hasV1(ms) {
		// A small tmpfs holds one mount point per v1 hierarchy.
		ops = append(ops, Op{Kind: OpMount, Src: "tmpfs", Dst: base, FSType: "tmpfs", Flags: nsde, Data: "mode=755"})
	}
	for _, m := range ms {
		target := base
		if m.Name != "" {
			target = filepath.Join(base, m.Name)
		}
		ops = append(ops, Op{Kind: OpMount, Src: "cgroup", Dst: target, FSType: m.FSType,
			Flags: nsde | unix.MS_RDONLY, Data: m.Options, Mkdir: true})
	}
	if hasV1(ms) {
		// Then the tmpfs holding the mount points becomes read-only too.
		ops = append(ops, Op{Kind: OpMount, Src: "tmpfs", Dst: base, FSType: "tmpfs",
			Flags: unix.MS_REMOUNT | unix.MS_RDONLY | nsde, Data: "mode=755"})
	}
	return ops
}

func hasV1(ms []CgroupMount) bool {
	for _, m := range ms {
		if m.FSType == "cgroup" {
			return true
		}
	}
	return false
}
