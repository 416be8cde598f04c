package service

import (
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// v1Unlimited: cgroup v1 writes "no limit" as the largest page-aligned
// int64 (9223372036854771712); anything this big means no limit.
const v1Unlimited = int64(1) << 62

// parseSelfCgroup parses /proc/self/cgroup ("hierarchy-id:controllers:path"
// per line) into controllers → path, with "unified" for the v2 line.
func parseSelfCgroup(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		key := parts[1]
		if parts[0] == "0" && key == "" {
			key = "unified"
		}
		out[key] = parts[2]
	}
	return out
}

// pathFor returns the cgroup path of the hierarchy carrying controller, and
// whether there is one ("cpu" is found in "cpu,cpuacct").
func pathFor(paths map[string]string, controller string) (string, bool) {
	_, p, ok := hierarchyOf(paths, controller)
	return p, ok
}

// hierarchyOf returns the /proc/self/cgroup key ("cpu,cpuacct") and path of
// the v1 hierarchy carrying controller.
func hierarchyOf(paths map[string]string, controller string) (key, path string, ok bool) {
	for key, p := range paths {
		for _, c := range strings.Split(key, ",") {
			if c == controller {
				return key, p, true
			}
		}
	}
	return "", "", false
}

// v1Mount is where a v1 controller's hierarchy is mounted below root:
// root/<controller> (systemd adds symlinks like cpu -> cpu,cpuacct), else
// root/<all its controllers> as a runtime may mount it without the link.
func v1Mount(root string, paths map[string]string, controller string) (mount, path string, ok bool) {
	key, path, ok := hierarchyOf(paths, controller)
	if !ok {
		return "", "", false
	}
	for _, dir := range []string{filepath.Join(root, controller), filepath.Join(root, key)} {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, path, true
		}
	}
	return "", "", false
}

// readCgroupView finds the limits visible below root (/sys/fs/cgroup)
// given the text of /proc/self/cgroup. It looks, in this order, in
//
//   - cgroup v2: root/<path>/memory.max and cpu.max, walking up to root
//     (inside a cgroup namespace with its own cgroupfs mount, <path> is "/"
//     and root itself is the sandbox's cgroup);
//   - cgroup v1: root/memory/<path>/memory.limit_in_bytes and
//     root/cpu/<path>/cpu.cfs_quota_us + cpu.cfs_period_us, walking up.
//
// A limit set on a parent binds the child too, so the tightest one on the
// way up is the one that counts.
func readCgroupView(root, selfCgroup string) CgroupView {
	v := CgroupView{Paths: parseSelfCgroup(selfCgroup), MemoryLimit: "unlimited", CPUQuota: "unlimited"}
	unified, hasUnified := v.Paths["unified"]
	memPath, hasV1Mem := pathFor(v.Paths, "memory")
	switch {
	case hasV1Mem:
		v.Path = memPath
	case hasUnified:
		v.Path = unified
	}

	// cgroup v2 where it has controllers (root/cgroup.controllers lists
	// them); on a hybrid host the v2 mount at root/unified has none.
	if hasUnified {
		if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
			walkUp(root, unified, func(d string) bool {
				if b, src, ok := v2Memory(d); ok && (v.MemoryLimitBytes == 0 || b < v.MemoryLimitBytes) {
					v.setMemory(b, src)
				}
				if q, p, src, ok := v2CPU(d); ok && (v.CPUs == 0 || float64(q)/float64(p) < v.CPUs) {
					v.setCPU(q, p, src)
				}
				return true
			})
		}
	}
	if mount, memPath, ok := v1Mount(root, v.Paths, "memory"); ok && v.MemoryLimitSource == "" {
		walkUp(mount, memPath, func(d string) bool {
			f := filepath.Join(d, "memory.limit_in_bytes")
			if b, ok := readInt(f); ok && b > 0 && b < v1Unlimited && (v.MemoryLimitBytes == 0 || b < v.MemoryLimitBytes) {
				v.setMemory(b, f)
			}
			return true
		})
	}
	if mount, cpuPath, ok := v1Mount(root, v.Paths, "cpu"); ok && v.CPUQuotaSource == "" {
		walkUp(mount, cpuPath, func(d string) bool {
			qf := filepath.Join(d, "cpu.cfs_quota_us")
			q, ok1 := readInt(qf)
			p, ok2 := readInt(filepath.Join(d, "cpu.cfs_period_us"))
			if ok1 && ok2 && q > 0 && p > 0 && (v.CPUs == 0 || float64(q)/float64(p) < v.CPUs) {
				v.setCPU(q, p, qf)
			}
			return true
		})
	}
	return v
}

func (v *CgroupView) setMemory(b int64, src string) {
	v.MemoryLimitBytes = b
	v.MemoryLimit = strconv.FormatInt(b, 10)
	v.MemoryLimitSource = src
}

func (v *CgroupView) setCPU(quota, period int64, src string) {
	v.CPUQuota = strconv.FormatInt(quota, 10) + "/" + strconv.FormatInt(period, 10)
	v.CPUs = float64(quota) / float64(period)
	v.CPUQuotaSource = src
}

// walkUp calls fn for mount/<cgPath> and each of its parents up to mount
// itself. Directories that do not exist are skipped: inside a cgroup
// namespace the path in /proc/self/cgroup may not exist under a mount
// that shows the host's whole tree.
func walkUp(mount, cgPath string, fn func(dir string) bool) {
	p := path.Clean("/" + cgPath)
	for {
		dir := filepath.Join(mount, p)
		if _, err := os.Stat(dir); err == nil {
			if !fn(dir) {
				return
			}
		}
		if p == "/" {
			return
		}
		p = path.Dir(p)
	}
}

// v2Memory reads dir/memory.max: "max" or bytes.
func v2Memory(dir string) (int64, string, bool) {
	f := filepath.Join(dir, "memory.max")
	data, err := os.ReadFile(f)
	if err != nil {
		return 0, "", false
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, "", false
	}
	b, err := strconv.ParseInt(s, 10, 64)
	if err != nil || b <= 0 {
		return 0, "", false
	}
	return b, f, true
}

// v2CPU reads dir/cpu.max: "max 100000" or "<quota> <period>".
func v2CPU(dir string) (quota, period int64, src string, ok bool) {
	f := filepath.Join(dir, "cpu.max")
	data, err := os.ReadFile(f)
	if err != nil {
		return 0, 0, "", false
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 || fields[0] == "max" {
		return 0, 0, "", false
	}
	q, err1 := strconv.ParseInt(fields[0], 10, 64)
	p, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, 0, "", false
	}
	return q, p, f, true
}

func readInt(file string) (int64, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n, err == nil
}
