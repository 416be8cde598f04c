package sandbox

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/state"
)

// Cgroups are named by sandbox id alone (glassbox/<id>), the same for every
// state root on the host, while everything else of a sandbox lives below
// its root. A clean-up in one root that kills glassbox/<id> by id — crash
// recovery, rm, prune of what a crash left — must not reach a sandbox of
// another root that has the same id: a record written by hand, a test's
// fixed id. What tells them apart is the sandbox's own root filesystem:
// its processes' "/" is an overlay whose writable layer is
// <root>/lib/containers/<id>/upper.

// LoadCgroup opens sandbox id's cgroup for a clean-up in roots, refusing
// one whose processes run in another state root's sandbox. A process
// without an overlay root of its own (an init still building it) is no
// evidence either way.
func LoadCgroup(roots state.Roots, id string) (cgroup.Manager, error) {
	m, err := cgroup.Load(id)
	if err != nil {
		return nil, err
	}
	pids, err := m.Procs()
	if err != nil {
		return m, nil // gone meanwhile: nothing to kill
	}
	want := filepath.Join(roots.ContainersDir(), id, upperName)
	for _, pid := range pids {
		upper, ok := rootUpper(pid)
		if !ok {
			continue
		}
		if upper != want {
			return nil, &ForeignCgroupError{ID: id, Path: m.Path(), Upper: upper}
		}
		return m, nil
	}
	return m, nil
}

// ForeignCgroupError is a cgroup left alone: its processes belong to a
// sandbox of another state root.
type ForeignCgroupError struct{ ID, Path, Upper string }

func (e *ForeignCgroupError) Error() string {
	return fmt.Sprintf("cgroup %s runs a sandbox of another state root (its writable layer is %s): left alone", e.Path, e.Upper)
}

// rootUpper is the writable layer of the overlay a process sees as "/".
func rootUpper(pid int) (string, bool) {
	infos, err := mountinfo.PidMountInfo(pid)
	if err != nil {
		return "", false
	}
	var root *mountinfo.Info
	for _, in := range infos {
		if in.Mountpoint == "/" {
			root = in // the last mounted on "/" is the one in use
		}
	}
	if root == nil || root.FSType != "overlay" {
		return "", false
	}
	for _, opt := range strings.Split(root.VFSOptions, ",") {
		if v, ok := strings.CutPrefix(opt, "upperdir="); ok {
			return v, true
		}
	}
	return "", false
}
