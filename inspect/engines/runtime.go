package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"glassbox/inspect"

	"github.com/prometheus/procfs"
)

// Plain OCI runtimes keep one directory per container below their state
// root (runc: /run/runc/ID/state.json; crun: /run/crun/ID/status beside a
// copy of the spec). Docker's, containerd's and podman's containers are in
// such roots too (other roots, or the same), and are listed under those
// engines instead: see Discover's dedupe.

// runcState is the part of runc's (libcontainer's) state.json read here.
type runcState struct {
	ID         string            `json:"id"`
	PID        int               `json:"init_process_pid"`
	PIDStart   uint64            `json:"init_process_start"`
	Created    time.Time         `json:"created"`
	CgroupDirs map[string]string `json:"cgroup_paths"`
	Config     struct {
		Rootfs   string   `json:"rootfs"`
		Labels   []string `json:"labels"` // "bundle=/path"
		Hostname string   `json:"hostname"`
	} `json:"config"`
}

// crunStatus is crun's status file.
type crunStatus struct {
	PID       int    `json:"pid"`
	PIDStart  uint64 `json:"process-start-time"`
	CgroupDir string `json:"cgroup-path"`
	Rootfs    string `json:"rootfs"`
	Bundle    string `json:"bundle"`
	Created   string `json:"created"`
}

// runtimeContainers lists the containers in one runtime state root.
func runtimeContainers(p Places, runtime, root string) ([]*inspect.Container, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []*inspect.Container
	var bad []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := runtimeContainer(p, runtime, filepath.Join(root, e.Name()))
		if err != nil {
			if !absent(err) { // a container deleted while we looked
				bad = append(bad, err.Error())
			}
			continue
		}
		out = append(out, c)
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return out, nil
}

// runtimeContainer reads one container's state directory.
func runtimeContainer(p Places, runtime, dir string) (*inspect.Container, error) {
	c := &inspect.Container{Engine: runtime, ID: filepath.Base(dir)}
	var start uint64
	switch runtime {
	case inspect.EngineCrun:
		src := filepath.Join(dir, "status")
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		var st crunStatus
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("parse %s: %w", src, err)
		}
		c.Source, c.PID, start, c.Bundle = src, st.PID, st.PIDStart, st.Bundle
		c.Created, _ = time.Parse(time.RFC3339Nano, st.Created)
		c.RootFS = st.Rootfs
		if c.RootFS != "" && !filepath.IsAbs(c.RootFS) {
			c.RootFS = filepath.Join(st.Bundle, c.RootFS)
		}
		// crun keeps the spec it was given beside its status.
		if s, err := bundleSpec(dir); err == nil {
			c.Limits, c.Hostname, c.Annotations = specLimits(s), s.Hostname, s.Annotations
		}
	default:
		src := filepath.Join(dir, "state.json")
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		var st runcState
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("parse %s: %w", src, err)
		}
		c.Source, c.PID, start, c.Created = src, st.PID, st.PIDStart, st.Created
		c.RootFS, c.Hostname = st.Config.Rootfs, st.Config.Hostname
		if st.ID != "" {
			c.ID = st.ID
		}
		for _, l := range st.Config.Labels {
			if b, ok := strings.CutPrefix(l, "bundle="); ok {
				c.Bundle = b
			}
		}
		if s, err := bundleSpec(c.Bundle); err == nil {
			c.Limits, c.Annotations = specLimits(s), s.Annotations
		}
		if f := st.CgroupDirs["freezer"]; f != "" {
			c.Status = frozenV1(f)
		} else if u := st.CgroupDirs[""]; u != "" {
			c.Status = frozenV2(u)
		}
	}
	c.Name = c.ID
	if !alive(p.ProcRoot, c.PID, start) {
		c.PID = 0
		c.Status = "stopped"
	} else if c.Status == "" {
		c.Status = "running"
	}
	return c, nil
}

// alive says whether pid is the process a runtime started: it exists and
// started when the runtime recorded (field 22 of /proc/PID/stat, in clock
// ticks since boot, read with procfs), so a reused PID is not taken for the
// container.
func alive(procRoot string, pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return false
	}
	p, err := fs.Proc(pid)
	if err != nil {
		return false
	}
	st, err := p.Stat()
	if err != nil {
		return false
	}
	return start == 0 || st.Starttime == start
}

// frozenV1 is "paused" when a v1 freezer cgroup is frozen, else "".
func frozenV1(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
	if err == nil && strings.TrimSpace(string(b)) == "FROZEN" {
		return "paused"
	}
	return ""
}

// frozenV2 is "paused" when a v2 cgroup is frozen, else "".
func frozenV2(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze"))
	if err == nil && strings.TrimSpace(string(b)) == "1" {
		return "paused"
	}
	return ""
}
