package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v1 is a sandbox's cgroup on a v1 or hybrid host: one directory in each v1
// hierarchy (memory, cpu, cpuacct, pids, freezer), all at the same path.
type v1 struct {
	fs   *FS
	path string            // "/glassbox/<id>"
	dirs map[string]string // controller → absolute directory
	cg   cgroup1.Cgroup

	pidsLimit int64 // as created (StartIn); 0 when loaded
}

// v1Present lists the hierarchies of v1Controllers that the host mounts.
func (f *FS) v1Present() []string {
	var names []string
	for _, c := range v1Controllers {
		if exists(filepath.Join(f.root, c, "cgroup.procs")) {
			names = append(names, c)
		}
	}
	return names
}

// v1Subsystems are the library's controllers for the named hierarchies.
func (f *FS) v1Subsystems(names []string) cgroup1.Hierarchy {
	var subs []cgroup1.Subsystem
	for _, n := range names {
		switch n {
		case "memory":
			subs = append(subs, cgroup1.NewMemory(f.root))
		case "cpu":
			subs = append(subs, cgroup1.NewCpu(f.root))
		case "cpuacct":
			subs = append(subs, cgroup1.NewCpuacct(f.root))
		case "pids":
			subs = append(subs, cgroup1.NewPids(f.root))
		case "freezer":
			subs = append(subs, cgroup1.NewFreezer(f.root))
		}
	}
	return func() ([]cgroup1.Subsystem, error) { return subs, nil }
}

// v1Spec translates Resources into the runtime-spec form the library writes.
// Zero fields stay nil: the kernel's defaults are "no limit".
func (f *FS) v1Spec(res Resources) *specs.LinuxResources {
	spec := &specs.LinuxResources{}
	if res.MemoryBytes > 0 {
		limit := res.MemoryBytes
		spec.Memory = &specs.LinuxMemory{Limit: &limit}
		// memory.memsw.* (memory+swap) exists only with swap accounting; without
		// it there is no swap use to cap. The library writes limit_in_bytes
		// before memsw.limit_in_bytes, the order a new cgroup needs (memsw may
		// never be below the memory limit).
		if exists(filepath.Join(f.root, "memory", "memory.memsw.limit_in_bytes")) {
			memsw := res.MemoryBytes
			spec.Memory.Swap = &memsw
		}
	}
	if res.CPUQuotaUS > 0 {
		quota, period := res.CPUQuotaUS, res.CPUPeriodUS
		spec.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	if res.PidsLimit > 0 {
		limit := res.PidsLimit
		spec.Pids = &specs.LinuxPids{Limit: &limit}
	}
	return spec
}

func newV1(f *FS, id string, res Resources) (_ Manager, err error) {
	path := "/" + Parent + "/" + id
	names := f.v1Present()
	for c, needed := range map[string]bool{"memory": res.MemoryBytes > 0, "cpu": res.CPUQuotaUS > 0, "pids": res.PidsLimit > 0} {
		if needed && !slices.Contains(names, c) {
			return nil, fmt.Errorf("create cgroup %s: a %s limit needs the %s hierarchy, which is not mounted at %s", path, c, c, filepath.Join(f.root, c))
		}
	}
	m := &v1{fs: f, path: path, dirs: map[string]string{}, pidsLimit: res.PidsLimit}
	for _, c := range names {
		if dir := filepath.Join(f.root, c, path); exists(dir) {
			return nil, fmt.Errorf("create cgroup %s: %s exists already", path, dir)
		}
	}
	// Rollback: remove the sandbox's own directories, never the shared parent.
	var made []string
	defer func() {
		if err != nil {
			for _, dir := range slices.Backward(made) {
				f.rmdir(dir, nil)
			}
		}
	}()
	// Most v1 hosts co-mount some controllers (cpu,cpuacct) and link each
	// name to the one hierarchy: make each hierarchy's directory once.
	hierarchies := map[string]bool{}
	for _, c := range names {
		dir := filepath.Join(f.root, c, path)
		m.dirs[c] = dir
		real, err := filepath.EvalSymlinks(filepath.Join(f.root, c))
		if err != nil {
			return nil, fmt.Errorf("create cgroup %s: %w", path, err)
		}
		if hierarchies[real] {
			continue
		}
		hierarchies[real] = true
		if _, err := f.mkdir(filepath.Dir(dir)); err != nil {
			return nil, err
		}
		created, err := f.mkdir(dir)
		if err != nil {
			return nil, err
		}
		if !created {
			return nil, fmt.Errorf("create cgroup %s: %s exists already", path, dir)
		}
		made = append(made, dir)
	}
	// The directories exist, so the library only writes the limits.
	m.cg, err = cgroup1.New(cgroup1.StaticPath(path), f.v1Spec(res),
		cgroup1.WithHierarchy(f.v1Subsystems(names)))
	if err != nil {
		return nil, fmt.Errorf("set limits on cgroup %s: %w", path, err)
	}
	return m, nil
}

func loadV1(f *FS, id string) (Manager, error) {
	path := "/" + Parent + "/" + id
	m := &v1{fs: f, path: path, dirs: map[string]string{}}
	var names []string
	for _, c := range f.v1Present() {
		if dir := filepath.Join(f.root, c, path); exists(dir) {
			names = append(names, c)
			m.dirs[c] = dir
		}
	}
	if len(names) == 0 {
		return nil, notExist(path)
	}
	var err error
	m.cg, err = cgroup1.Load(cgroup1.StaticPath(path), cgroup1.WithHierarchy(f.v1Subsystems(names)))
	if err != nil {
		return nil, fmt.Errorf("load cgroup %s: %w", path, err)
	}
	return m, nil
}

func (m *v1) Path() string               { return m.path }
func (m *v1) Mode() string               { return m.fs.mode }
func (m *v1) Dirs() map[string]string    { return maps.Clone(m.dirs) }
func (m *v1) controllers() []string      { return slices.Sorted(maps.Keys(m.dirs)) }
func (m *v1) file(c, name string) string { return filepath.Join(m.dirs[c], name) }
func (m *v1) has(controller string) bool { _, ok := m.dirs[controller]; return ok }

// AddProc writes pid to cgroup.procs in every hierarchy (the library retries
// the EINVAL a task that is still being forked gets).
func (m *v1) AddProc(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("move pid %d into cgroup %s: not a PID", pid, m.path)
	}
	if err := m.cg.AddProc(uint64(pid)); err != nil {
		return fmt.Errorf("move pid %d into cgroup %s: %w", pid, m.path, err)
	}
	return nil
}

// Procs is the union of the hierarchies' cgroup.procs: a process that left one
// of them (moved by someone else) still belongs to the sandbox. A deleted
// cgroup is an error that matches fs.ErrNotExist.
func (m *v1) Procs() ([]int, error) {
	seen := map[int]bool{}
	present := 0
	for _, c := range m.controllers() {
		pids, err := readPids(m.file(c, "cgroup.procs"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list processes of cgroup %s: %w", m.path, err)
		}
		present++
		for _, p := range pids {
			seen[p] = true
		}
	}
	if present == 0 {
		return nil, notExist(m.path)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// Freeze writes FROZEN to freezer.state and waits until it reads FROZEN. Not
// the library's Freeze: it loops without a deadline, and FREEZING can stick
// (a task in an uninterruptible sleep, e.g. on a stuck NFS server). Writing
// FROZEN again makes the kernel retry the tasks it could not freeze yet. On
// timeout the cgroup is thawed again, so that it is not left half frozen.
func (m *v1) Freeze(timeout time.Duration) error {
	if !m.has("freezer") {
		return fmt.Errorf("freeze cgroup %s: %w", m.path, errNoFreezer)
	}
	file := m.file("freezer", "freezer.state")
	var state string
	err := poll(timeout, func() (bool, error) {
		if err := m.fs.write(file, "FROZEN"); err != nil {
			return false, err
		}
		var err error
		state, err = readString(file)
		return state == "FROZEN", err
	})
	if errors.Is(err, errTimeout) {
		m.fs.write(file, "THAWED")
		return fmt.Errorf("freeze cgroup %s: still %s after %v (a task would not stop; thawed it again)", m.path, state, timeout)
	}
	if err != nil {
		return fmt.Errorf("freeze cgroup %s: %w", m.path, err)
	}
	return nil
}

// Thaw writes THAWED to freezer.state and waits until it reads THAWED.
func (m *v1) Thaw(timeout time.Duration) error {
	if !m.has("freezer") {
		return fmt.Errorf("thaw cgroup %s: %w", m.path, errNoFreezer)
	}
	file := m.file("freezer", "freezer.state")
	if err := m.fs.write(file, "THAWED"); err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", m.path, err)
	}
	var state string
	err := poll(timeout, func() (bool, error) {
		var err error
		state, err = readString(file)
		return state == "THAWED", err
	})
	if errors.Is(err, errTimeout) {
		return fmt.Errorf("thaw cgroup %s: still %s after %v", m.path, state, timeout)
	}
	if err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", m.path, err)
	}
	return nil
}

// OOMKills reads oom_kill from memory.oom_control (kernel 4.13+). Not
// memory.failcnt: on this kernel it stays 0 when memory and memory+swap
// limits are equal, although the OOM killer strikes.
func (m *v1) OOMKills() (uint64, error) {
	if !m.has("memory") {
		return 0, fmt.Errorf("read OOM kills of cgroup %s: no memory hierarchy", m.path)
	}
	n, err := readKey(m.file("memory", "memory.oom_control"), "oom_kill")
	if err != nil {
		return 0, fmt.Errorf("read OOM kills of cgroup %s: %w", m.path, err)
	}
	return n, nil
}

// Kill SIGKILLs every process and waits until the cgroup is empty. v1 has no
// cgroup.kill: freeze first so that nothing forks between reading
// cgroup.procs and the kill, then thaw, because a frozen task only dies once
// it runs again. Rounds repeat until the cgroup is empty or killTimeout.
func (m *v1) Kill() error {
	return killLoop(m.path, m.Procs, func(pids []int) error {
		frozen := m.has("freezer") && m.Freeze(killFreezeTimeout) == nil
		if frozen {
			// Read again: the list may have grown before the freeze took hold.
			if now, err := m.Procs(); err == nil {
				pids = now
			}
		}
		err := killAll(pids)
		if frozen {
			if terr := m.Thaw(killFreezeTimeout); terr != nil {
				err = errors.Join(err, terr)
			}
		}
		return err
	})
}

// Delete removes the sandbox's directory in every hierarchy; the shared
// "glassbox" parent stays. Missing directories are no error (Delete twice,
// or after a crash half way through New).
func (m *v1) Delete() error {
	var errs []string
	for _, c := range m.controllers() {
		dir := m.dirs[c]
		if err := m.fs.rmdir(dir, holdsProcesses(dir)); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete cgroup %s: %s", m.path, strings.Join(errs, "; "))
	}
	return nil
}
