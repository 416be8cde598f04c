package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/cgroups/v3"
	"golang.org/x/sys/unix"
)

// HostRoot is where the host mounts its cgroup hierarchies.
const HostRoot = "/sys/fs/cgroup"

// The host's cgroup layouts, as Mode and HostMode report them.
const (
	ModeV1     = "v1"     // only v1 hierarchies, one per controller (or co-mounted)
	ModeHybrid = "hybrid" // v1 controllers plus a v2 mount at <root>/unified, which glassbox leaves alone
	ModeV2     = "v2"     // one unified hierarchy at <root>
)

// requiredControllers are what a sandbox's limits need; without any of them
// Check fails.
var requiredControllers = []string{"memory", "cpu", "pids"}

// v1Controllers are the v1 hierarchies a sandbox's cgroup is made in. cpuacct
// (CPU usage) and freezer (pause) are used when the host mounts them.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids", "freezer"}

// FS is a cgroup filesystem rooted at a directory: the host's /sys/fs/cgroup,
// a cgroup2 mount elsewhere, or a fixture tree in a unit test.
type FS struct {
	root string
	mode string

	// Unit tests run against plain directories, which do not do what cgroupfs
	// does by itself; these hooks let a test play the kernel's part. Both are
	// nil on a real cgroup filesystem.
	onMkdir func(dir string) error   // fill a new cgroup directory with its files
	onWrite func(file, value string) // react to a write (freeze, kill)
	onRmdir func(dir string) error   // empty a directory as rmdir of a cgroup does, or refuse (EBUSY) as it does one with processes
}

// Host is the host's cgroup filesystem at /sys/fs/cgroup, its layout detected
// with cgroups.Mode().
func Host() (*FS, error) {
	switch cgroups.Mode() {
	case cgroups.Unified:
		return &FS{root: HostRoot, mode: ModeV2}, nil
	case cgroups.Hybrid:
		return &FS{root: HostRoot, mode: ModeHybrid}, nil
	case cgroups.Legacy:
		return &FS{root: HostRoot, mode: ModeV1}, nil
	}
	return nil, fmt.Errorf("no cgroup filesystem mounted at %s", HostRoot)
}

// NewFS opens the cgroup filesystem rooted at root: a cgroup2 mount (or a
// tree that looks like one: cgroup.controllers at its top) is v2; a directory
// of v1 hierarchies (memory/, cpu/, …) is v1, or hybrid when it also holds a
// cgroup2 tree at unified/.
func NewFS(root string) (*FS, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return nil, fmt.Errorf("open cgroup filesystem %s: %w", root, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC || exists(filepath.Join(root, "cgroup.controllers")) {
		return &FS{root: root, mode: ModeV2}, nil
	}
	for _, c := range v1Controllers {
		if exists(filepath.Join(root, c, "cgroup.procs")) {
			mode := ModeV1
			if exists(filepath.Join(root, "unified", "cgroup.controllers")) {
				mode = ModeHybrid
			}
			return &FS{root: root, mode: mode}, nil
		}
	}
	return nil, fmt.Errorf("open cgroup filesystem %s: neither a cgroup2 mount nor v1 hierarchies (%s) there",
		root, strings.Join(v1Controllers, ", "))
}

// Root is the directory the hierarchies are mounted at.
func (f *FS) Root() string { return f.root }

// Mode is "v1", "v2" or "hybrid".
func (f *FS) Mode() string { return f.mode }

// Check fails, saying what is missing, when the filesystem lacks a controller
// that sandboxes need (memory, cpu, pids).
func (f *FS) Check() error {
	var missing []string
	if f.mode == ModeV2 {
		avail, err := f.v2Available()
		if err != nil {
			return fmt.Errorf("no usable cgroup controllers: %w", err)
		}
		for _, c := range requiredControllers {
			if !avail[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no usable cgroup controllers: cgroup v2 at %s does not offer %s (see %s)",
				f.root, strings.Join(missing, ", "), filepath.Join(f.root, "cgroup.controllers"))
		}
		return writable(f.root)
	}
	for _, c := range requiredControllers {
		if !exists(filepath.Join(f.root, c, "cgroup.procs")) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no usable cgroup controllers: cgroup v1 hierarchies %s are not mounted below %s",
			strings.Join(missing, ", "), f.root)
	}
	for _, c := range requiredControllers {
		if err := writable(filepath.Join(f.root, c)); err != nil {
			return err
		}
	}
	return nil
}

// writable fails when cgroups cannot be made in dir: typically a container
// that sees the host's cgroupfs read-only.
func writable(dir string) error {
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("no usable cgroup controllers: cannot create cgroups in %s: %w", dir, err)
	}
	return nil
}

// New creates the cgroup of sandbox id, below the "glassbox" parent in every
// hierarchy, with res applied; res must have passed Resources.Validate (the
// sandbox's configuration checks it once, before anything is created). It
// fails, creating nothing, when id is malformed, a limit's controller is
// missing, the kernel refuses a limit, or the cgroup exists already; a
// failure half way removes what it made. Unlike the package's New it does not
// demand every controller Check does: a cgroup2 mount without controllers
// (the unified one of a hybrid host) still serves a cgroup without limits.
func (f *FS) New(id string, res Resources) (Manager, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if f.mode == ModeV2 {
		return newV2(f, id, res)
	}
	return newV1(f, id, res)
}

// Load opens the existing cgroup of sandbox id (after a restart of glassbox,
// or to clean up after a crash). A missing cgroup is an error that matches
// fs.ErrNotExist.
func (f *FS) Load(id string) (Manager, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if f.mode == ModeV2 {
		return loadV2(f, id)
	}
	return loadV1(f, id)
}

// New creates the cgroup of sandbox id on the host, which must pass Check;
// see FS.New.
func New(id string, res Resources) (Manager, error) {
	f, err := Host()
	if err != nil {
		return nil, err
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	return f.New(id, res)
}

// Load opens the host's existing cgroup of sandbox id; see FS.Load.
func Load(id string) (Manager, error) {
	f, err := Host()
	if err != nil {
		return nil, err
	}
	return f.Load(id)
}

// Check fails, saying what is missing, when the host has no usable cgroup
// controllers for sandboxes (memory, cpu, pids).
func Check() error {
	f, err := Host()
	if err != nil {
		return fmt.Errorf("no usable cgroup controllers: %w", err)
	}
	return f.Check()
}

// checkID refuses ids that would escape the parent or nest cgroups.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00\n") {
		return fmt.Errorf("invalid cgroup id %q: must be a non-empty single path element", id)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// notExist says that the cgroup is missing, in a way errors.Is recognises.
func notExist(path string) error {
	return fmt.Errorf("cgroup %s does not exist: %w", path, fs.ErrNotExist)
}

var errNoFreezer = errors.New("no freezer: the host does not mount the v1 freezer hierarchy")
