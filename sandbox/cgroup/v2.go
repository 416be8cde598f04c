package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3/cgroup2"
	"golang.org/x/sys/unix"
)

// unifiedKey names the cgroup's own directory in Dirs on v2, next to the
// controllers, which all share it.
const unifiedKey = "unified"

// v2 is a sandbox's cgroup in the unified hierarchy: one directory.
type v2 struct {
	fs          *FS
	path        string // "/glassbox/<id>"
	dir         string
	controllers []string // what the parent enabled for it, of cpu/memory/pids
	mgr         *cgroup2.Manager
}

// v2Available reads the controllers the hierarchy's root offers.
func (f *FS) v2Available() (map[string]bool, error) {
	file := filepath.Join(f.root, "cgroup.controllers")
	s, err := readString(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	avail := map[string]bool{}
	for _, c := range strings.Fields(s) {
		avail[c] = true
	}
	return avail, nil
}

// v2Resources translates Resources into the library's v2 form; swapMax says
// whether the kernel accounts swap (memory.swap.max exists).
func v2Resources(res Resources, swapMax bool) *cgroup2.Resources {
	out := &cgroup2.Resources{}
	if res.MemoryBytes > 0 {
		limit := res.MemoryBytes
		out.Memory = &cgroup2.Memory{Max: &limit}
		// v2 limits swap on its own, not memory+swap as v1 does: 0 caps
		// memory+swap at the memory limit, the meaning of --memory.
		if swapMax {
			var none int64
			out.Memory.Swap = &none
		}
	}
	if res.CPUQuotaUS > 0 {
		quota, period := res.CPUQuotaUS, res.CPUPeriodUS
		out.CPU = &cgroup2.CPU{Max: cgroup2.NewCPUMax(&quota, &period)}
	}
	if res.PidsLimit > 0 {
		out.Pids = &cgroup2.Pids{Max: res.PidsLimit}
	}
	return out
}

// enableControllers writes "+name" to a cgroup.subtree_control for each
// controller it lacks, one at a time so that an error names the controller.
// Not the library's ToggleControllers: it reports only the last file's error
// and cannot say why a write failed.
func (f *FS) enableControllers(dir string, controllers []string) error {
	file := filepath.Join(dir, "cgroup.subtree_control")
	cur, err := readString(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	on := strings.Fields(cur)
	for _, c := range controllers {
		if slices.Contains(on, c) {
			continue
		}
		if err := f.write(file, "+"+c); err != nil {
			if errors.Is(err, unix.EBUSY) {
				// The "no internal processes" rule: a cgroup other than the root
				// may hand controllers to its children only while it holds no
				// processes itself.
				return fmt.Errorf("enable the %s controller for the children of %s: it holds processes of its own, which cgroup v2 forbids there (move them to a leaf cgroup): %w", c, dir, err)
			}
			return fmt.Errorf("enable the %s controller for the children of %s: %w", c, dir, err)
		}
	}
	return nil
}

func newV2(f *FS, id string, res Resources) (_ Manager, err error) {
	path := "/" + Parent + "/" + id
	dir := filepath.Join(f.root, path)
	if exists(dir) {
		return nil, fmt.Errorf("create cgroup %s: %s exists already", path, dir)
	}
	avail, err := f.v2Available()
	if err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", path, err)
	}
	// Limits need their controllers; without limits a cgroup still gets every
	// one the host offers, for its statistics (memory.current, cpu.stat).
	for c, needed := range map[string]bool{"memory": res.MemoryBytes > 0, "cpu": res.CPUQuotaUS > 0, "pids": res.PidsLimit > 0} {
		if needed && !avail[c] {
			return nil, fmt.Errorf("create cgroup %s: a %s limit needs the %s controller, which cgroup v2 at %s does not offer", path, c, c, f.root)
		}
	}
	var want []string
	for _, c := range requiredControllers {
		if avail[c] {
			want = append(want, c)
		}
	}
	parent := filepath.Join(f.root, Parent)
	if _, err := f.mkdir(parent); err != nil {
		return nil, err
	}
	if pids, err := readPids(filepath.Join(parent, "cgroup.procs")); err == nil && len(pids) > 0 && len(want) > 0 {
		return nil, fmt.Errorf("create cgroup %s: %s holds processes %v; cgroup v2 lets a cgroup with processes of its own give no controllers to its children, so they must leave it", path, parent, pids)
	}
	if err := f.enableControllers(f.root, want); err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", path, err)
	}
	if err := f.enableControllers(parent, want); err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", path, err)
	}
	created, err := f.mkdir(dir)
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, fmt.Errorf("create cgroup %s: %s exists already", path, dir)
	}
	defer func() {
		if err != nil {
			f.rmdir(dir, nil)
		}
	}()
	m := &v2{fs: f, path: path, dir: dir, controllers: want}
	if m.mgr, err = cgroup2.Load(path, cgroup2.WithMountpoint(f.root)); err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", path, err)
	}
	swapMax := exists(filepath.Join(dir, "memory.swap.max"))
	if err := m.mgr.Update(v2Resources(res, swapMax)); err != nil {
		return nil, fmt.Errorf("set limits on cgroup %s: %w", path, err)
	}
	return m, nil
}

func loadV2(f *FS, id string) (Manager, error) {
	path := "/" + Parent + "/" + id
	dir := filepath.Join(f.root, path)
	if !exists(dir) {
		return nil, notExist(path)
	}
	m := &v2{fs: f, path: path, dir: dir}
	// cgroup.controllers lists what the parent enabled for this cgroup.
	if s, err := readString(filepath.Join(dir, "cgroup.controllers")); err == nil {
		for _, c := range strings.Fields(s) {
			if slices.Contains(requiredControllers, c) {
				m.controllers = append(m.controllers, c)
			}
		}
	}
	var err error
	if m.mgr, err = cgroup2.Load(path, cgroup2.WithMountpoint(f.root)); err != nil {
		return nil, fmt.Errorf("load cgroup %s: %w", path, err)
	}
	return m, nil
}

func (m *v2) Path() string { return m.path }
func (m *v2) Mode() string { return m.fs.mode }

// Dirs maps "unified" and each enabled controller to the one directory.
func (m *v2) Dirs() map[string]string {
	d := map[string]string{unifiedKey: m.dir}
	for _, c := range m.controllers {
		d[c] = m.dir
	}
	return d
}

func (m *v2) file(name string) string { return filepath.Join(m.dir, name) }

func (m *v2) AddProc(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("move pid %d into cgroup %s: not a PID", pid, m.path)
	}
	if err := m.mgr.AddProc(uint64(pid)); err != nil {
		return fmt.Errorf("move pid %d into cgroup %s: %w", pid, m.path, err)
	}
	return nil
}

func (m *v2) Procs() ([]int, error) {
	pids, err := readPids(m.file("cgroup.procs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notExist(m.path)
	}
	if err != nil {
		return nil, fmt.Errorf("list processes of cgroup %s: %w", m.path, err)
	}
	slices.Sort(pids)
	return pids, nil
}

// Freeze writes 1 to cgroup.freeze and waits for "frozen 1" in cgroup.events.
// Not the library's Freeze: it reads back cgroup.freeze, which only echoes the
// request, and it loops without a deadline. On timeout the cgroup is thawed
// again, so that it is not left half frozen.
func (m *v2) Freeze(timeout time.Duration) error {
	if err := m.setFrozen(true, timeout); err != nil {
		m.fs.write(m.file("cgroup.freeze"), "0")
		return fmt.Errorf("freeze cgroup %s: %w", m.path, err)
	}
	return nil
}

// Thaw writes 0 to cgroup.freeze and waits for "frozen 0" in cgroup.events.
func (m *v2) Thaw(timeout time.Duration) error {
	if err := m.setFrozen(false, timeout); err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", m.path, err)
	}
	return nil
}

func (m *v2) setFrozen(frozen bool, timeout time.Duration) error {
	want, value := uint64(0), "0"
	if frozen {
		want, value = 1, "1"
	}
	if err := m.fs.write(m.file("cgroup.freeze"), value); err != nil {
		return err
	}
	events := m.file("cgroup.events")
	var got uint64
	err := poll(timeout, func() (bool, error) {
		var err error
		got, err = readKey(events, "frozen")
		return got == want, err
	})
	if errors.Is(err, errTimeout) {
		return fmt.Errorf("%s still says \"frozen %d\" after %v", events, got, timeout)
	}
	return err
}

// OOMKills reads oom_kill from memory.events (which counts the cgroup's
// descendants too; glassbox makes none).
func (m *v2) OOMKills() (uint64, error) {
	n, err := readKey(m.file("memory.events"), "oom_kill")
	if err != nil {
		return 0, fmt.Errorf("read OOM kills of cgroup %s: %w", m.path, err)
	}
	return n, nil
}

// Kill writes 1 to cgroup.kill (kernel 5.14+), which SIGKILLs every process
// in the cgroup at once, forks included; older kernels get rounds of freeze,
// SIGKILL each, thaw. Then it waits until the cgroup is empty.
func (m *v2) Kill() error {
	kill := m.file("cgroup.kill")
	if _, err := os.Stat(kill); err == nil {
		return killLoop(m.path, m.Procs, func([]int) error { return m.fs.write(kill, "1") })
	}
	canFreeze := exists(m.file("cgroup.freeze"))
	return killLoop(m.path, m.Procs, func(pids []int) error {
		frozen := canFreeze && m.Freeze(killFreezeTimeout) == nil
		if frozen {
			if now, err := m.Procs(); err == nil {
				pids = now
			}
		}
		err := killAll(pids)
		if frozen {
			err = errors.Join(err, m.Thaw(killFreezeTimeout))
		}
		return err
	})
}

// Delete removes the sandbox's directory; the shared "glassbox" parent stays.
// A missing directory is no error.
func (m *v2) Delete() error {
	if err := m.fs.rmdir(m.dir, holdsProcesses(m.dir)); err != nil {
		return fmt.Errorf("delete cgroup %s: %w", m.path, err)
	}
	return nil
}
