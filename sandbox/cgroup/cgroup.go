// Package cgroup gives each sandbox a cgroup below a "glassbox" parent, with
// its limits, on cgroup v2, v1 and hybrid hosts, behind one small interface.
//
// CONTRACT (shared by the runtime, the supervisor and the tests): the names
// and signatures below are relied on by other packages. Extend, don't rename.
package cgroup

import "time"

// Parent is the cgroup below which every sandbox's cgroup lives, in every
// hierarchy: /sys/fs/cgroup/<controller>/glassbox/<id> on v1,
// /sys/fs/cgroup/glassbox/<id> on v2.
const Parent = "glassbox"

// Resources are the limits applied to a sandbox's cgroup. Zero means "no limit".
type Resources struct {
	MemoryBytes int64  // memory limit; memory+swap is capped to the same value
	CPUQuotaUS  int64  // CFS quota per period, in µs (0.5 CPUs → 50000)
	CPUPeriodUS uint64 // CFS period in µs (default 100000)
	PidsLimit   int64
}

// Manager is one sandbox's cgroup.
type Manager interface {
	// AddProc moves a process (all its threads) into the cgroup.
	AddProc(pid int) error
	// Procs lists the host PIDs in the cgroup.
	Procs() ([]int, error)
	// Freeze stops every process in the cgroup and waits until the kernel
	// reports it frozen, at most timeout; Thaw resumes them.
	Freeze(timeout time.Duration) error
	Thaw(timeout time.Duration) error
	// OOMKills is how many processes the OOM killer killed in this cgroup
	// (memory.events oom_kill on v2, memory.oom_control oom_kill on v1).
	OOMKills() (uint64, error)
	// Kill sends SIGKILL to every process in the cgroup and waits until it is
	// empty (at most 5 s), frozen ones included; a deleted cgroup is no error.
	Kill() error
	// Delete removes the cgroup (in every hierarchy). It fails if processes
	// remain; a cgroup that is gone already is no error. The shared "glassbox"
	// parent stays.
	Delete() error
	// Path is the cgroup's path relative to the hierarchy root ("/glassbox/<id>").
	Path() string
	// Dirs maps controller names to the absolute directories of this cgroup.
	// v1/hybrid: "memory", "cpu", "cpuacct", "pids", "freezer" (those the host
	// mounts), each in its own hierarchy. v2: "unified" and each controller
	// the parent enabled ("cpu", "memory", "pids"), all the one directory.
	Dirs() map[string]string
	// Mode is "v1", "v2" or "hybrid".
	Mode() string
}
