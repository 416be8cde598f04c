//go:build linux

package inspect

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// cgroupLine is one line of /proc/PID/cgroup: "4:memory:/glassbox/3f2a…"
// (v1: hierarchy ID, the controllers bound to it, path) or "0::/…" (v2).
type cgroupLine struct {
	ID          int
	Controllers string // "memory", "cpu,cpuacct", "name=systemd", "" for v2
	Path        string
}

func parseProcCgroup(b []byte) ([]cgroupLine, error) {
	var out []cgroupLine
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(line) == 0 {
			continue
		}
		parts := bytes.SplitN(line, []byte(":"), 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("cgroup line %q: %w", line, errSyntax)
		}
		id, ok := parseUint(parts[0])
		if !ok {
			return nil, fmt.Errorf("cgroup line %q: %w", line, errSyntax)
		}
		out = append(out, cgroupLine{ID: int(id), Controllers: string(parts[1]), Path: string(parts[2])})
	}
	return out, nil
}

// cgroupDirs maps each controller to the absolute directory of the
// process's cgroup under fs.CgroupRoot, and returns the path to show: the
// memory controller's on v1 (the one a sandbox's limits live in), the
// unified one on v2. On v2 the single hierarchy is keyed "unified", as in
// state.Cgroup.Dirs; on hybrid the cgroup2 mount is keyed "unified" too.
//
// A v1 hierarchy is mounted at CgroupRoot/<the controllers field>: the
// field says "cpu,cpuacct" exactly when both are mounted together, and
// distributions mount them at /sys/fs/cgroup/cpu,cpuacct (with cpu and
// cpuacct symlinks beside it); this host mounts each alone.
func cgroupDirs(fs FS, lines []cgroupLine) (path, unifiedPath string, dirs map[string]string) {
	dirs = map[string]string{}
	var memPath, anyPath string
	for _, l := range lines {
		if l.ID == 0 && l.Controllers == "" {
			unifiedPath = l.Path
			switch fs.Mode {
			case ModeV2:
				dirs["unified"] = filepath.Join(fs.CgroupRoot, l.Path)
				path = l.Path
			case ModeHybrid:
				dirs["unified"] = filepath.Join(fs.CgroupRoot, "unified", l.Path)
			}
			continue
		}
		if fs.Mode == ModeV2 || strings.HasPrefix(l.Controllers, "name=") || l.Controllers == "" {
			continue
		}
		dir := filepath.Join(fs.CgroupRoot, l.Controllers, l.Path)
		for c := range strings.SplitSeq(l.Controllers, ",") {
			dirs[c] = dir
			if c == "memory" {
				memPath = l.Path
			}
		}
		if anyPath == "" {
			anyPath = l.Path
		}
	}
	if fs.Mode != ModeV2 {
		path = memPath
		if path == "" {
			path = anyPath
		}
	}
	return path, unifiedPath, dirs
}

// dirFor is the directory holding a controller's files: dirs[controller] on
// v1 and hybrid, the unified dir on v2.
func dirFor(mode string, dirs map[string]string, controller string) string {
	if mode == ModeV2 {
		return dirs["unified"]
	}
	return dirs[controller]
}

// cgroupPaths maps the same controllers as cgroupDirs to the process's
// path in each one's hierarchy ("/docker/3f2a…"), as /proc/PID/cgroup says.
func cgroupPaths(fs FS, lines []cgroupLine) map[string]string {
	out := map[string]string{}
	for _, l := range lines {
		if l.ID == 0 && l.Controllers == "" {
			if fs.Mode != ModeV1 {
				out["unified"] = l.Path
			}
			continue
		}
		if fs.Mode == ModeV2 || strings.HasPrefix(l.Controllers, "name=") || l.Controllers == "" {
			continue
		}
		for c := range strings.SplitSeq(l.Controllers, ",") {
			out[c] = l.Path
		}
	}
	return out
}
