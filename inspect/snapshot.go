// Package inspect reads what the kernel knows about a sandbox, or any process,
// from /proc and cgroupfs into a Snapshot. It never writes.
package inspect

import (
	"time"

	"glassbox/sandbox/state"
)

// Snapshot is everything glassbox shows about one sandbox (or process) at one
// moment. Next to each figure it keeps the kernel file it was read from.
type Snapshot struct {
	Taken time.Time `json:"taken"`

	// Sandbox is the runtime's record; nil when inspecting a foreign process (--pid).
	Sandbox *state.Sandbox `json:"sandbox,omitempty"`
	// Container is another engine's container as its engine describes it
	// (docker:NAME, k8s:NS/POD/CONTAINER, runc:ID, …); nil otherwise.
	Container *Container `json:"container,omitempty"`
	PID       int        `json:"pid"` // the host PID the snapshot is centred on (the sandbox's init)

	Namespaces []Namespace `json:"namespaces"`
	Processes  []Process   `json:"processes"`
	Filesystem Filesystem  `json:"filesystem"`
	Cgroup     Cgroup      `json:"cgroup"`
	Network    Network     `json:"network"`
	UTS        UTS         `json:"uts"`
	// Environ is the workload's environment (its init's for a process
	// without a sandbox record).
	Environ Environ `json:"environ"`

	// Errors lists what could not be read, and why; a snapshot is still
	// useful when one part fails (a process exited mid-read, a file is missing).
	Errors []string `json:"errors,omitempty"`
}

// Value is one figure and where it came from.
type Value struct {
	Value  int64  `json:"value"`
	Source string `json:"source"` // the file it was read from; "" when there is no such file
	// Valid is false when the kernel does not provide the figure (Source
	// empty) or, for limits, when the file says there is no limit ("max",
	// -1, or v1's huge number): then Source names the file that said so.
	Valid bool `json:"valid"`
}

// Namespace compares one namespace kind of the sandbox with the host's.
type Namespace struct {
	Kind       string `json:"kind"` // cgroup, ipc, mnt, net, pid, pid_for_children, time, time_for_children, user, uts
	Inode      uint64 `json:"inode"`
	HostInode  uint64 `json:"host_inode"` // the host's PID 1's (glassbox's own when PID 1's links are unreadable: see HostSource)
	Own        bool   `json:"own"`        // true when it differs from the host's
	Source     string `json:"source"`     // e.g. /proc/4242/ns/pid
	HostSource string `json:"host_source"`
	// InitInode is set when the sandbox's init is in another namespace of
	// this kind than its workload, whose namespace the row shows: glassbox's
	// init unshares the time namespace, which applies to its children only.
	InitInode  uint64 `json:"init_inode,omitempty"`
	InitSource string `json:"init_source,omitempty"`
}

// Process is one process in the sandbox's cgroup (cgroup.procs; for a
// process in the host's root cgroup, only that process).
type Process struct {
	HostPID    int      `json:"host_pid"`
	NSpid      []int    `json:"nspid"`       // host first, innermost last (from /proc/PID/status NSpid)
	SandboxPID int      `json:"sandbox_pid"` // the innermost NSpid
	PPID       int      `json:"ppid"`
	Command    string   `json:"command"`
	Args       []string `json:"args"`
	State      string   `json:"state"`
	Threads    int      `json:"threads"`
	RSSBytes   int64    `json:"rss_bytes"`
	CPUTime    float64  `json:"cpu_seconds"` // utime+stime
	// CPUCores is the CPU time used per second since the previous snapshot
	// (Rate); nil when there was none with this process.
	CPUCores *float64 `json:"cpu_cores,omitempty"`
	// UID and GID are who it runs as (effective ids, Uid: and Gid: of
	// /proc/PID/status).
	UID    int      `json:"uid"`
	GID    int      `json:"gid"`
	CapEff string   `json:"cap_eff"` // hex mask as in /proc/PID/status
	Caps   []string `json:"caps"`    // names of the effective capabilities
	// Seccomp is the process's seccomp mode, as Seccomp: in
	// /proc/PID/status says it: 0 none, 1 strict, 2 filter;
	// SeccompFilters how many filters judge its calls (Seccomp_filters:).
	Seccomp        int    `json:"seccomp"`
	SeccompFilters int    `json:"seccomp_filters"`
	NoNewPrivs     bool   `json:"no_new_privs"`
	Source         string `json:"source"`      // /proc/PID/status (NSpid, uid, gid, capabilities, seccomp)
	StatSource     string `json:"stat_source"` // /proc/PID/stat (state, PPID, threads, RSS, CPU time)
	// Joined: the process entered the running sandbox with setns(2)
	// (glassbox exec, a health check), rather than being forked by one of
	// its processes: its parent is outside the sandbox, so inside its PPID
	// is 0. (Not the sandbox's PID 1, whose parent is outside too.)
	Joined bool `json:"joined,omitempty"`
}

// Filesystem is the sandbox's root mount and the others inside it.
type Filesystem struct {
	RootType string `json:"root_type"` // "overlay" for a glassbox sandbox
	// RootSource is the root mount's source (a device such as /dev/vda1,
	// or "overlay"), and RootDir the directory of that filesystem the
	// process sees as "/" (mountinfo's root field): for a runtime that
	// bind-mounts a bundle's rootfs and pivots into it (runc, crun), the
	// bundle's root directory.
	RootSource string `json:"root_source,omitempty"`
	RootDir    string `json:"root_dir,omitempty"`
	// RootHostDir is where RootDir is in glassbox's own mount namespace
	// (the host's): RootDir is a path inside the filesystem, which may be
	// mounted below another directory (a /tmp of its own).
	RootHostDir string  `json:"root_host_dir,omitempty"`
	Upper       Upper   `json:"upper"`
	Lowers      []Lower `json:"lowers"` // top-most first, as in lowerdir=
	Mounts      []Mount `json:"mounts"`
	Source      string  `json:"source"` // /proc/PID/mountinfo
}

// Upper is the writable layer.
type Upper struct {
	Dir          string `json:"dir"`
	SizeBytes    int64  `json:"size_bytes"`
	ChangedFiles int    `json:"changed_files"` // regular files, whiteouts and dirs in the upper dir
	Work         string `json:"work"`
}

// Lower is one read-only layer, mapped back to the image layer when known.
type Lower struct {
	Dir string `json:"dir"`
	// Resolved is where Dir leads when it is a symbolic link (docker's
	// overlay2 names its layers by short links, l/ABC… → ../<id>/diff).
	Resolved  string `json:"resolved,omitempty"`
	Digest    string `json:"digest,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	SizeBytes int64  `json:"size_bytes"`
	SharedBy  int    `json:"shared_by"` // how many sandboxes (glassbox's, running) use this layer
	// SharedWith names them, this one included, oldest first;
	// SharedSource is where they were found (the sandboxes' records).
	SharedWith   []string `json:"shared_with,omitempty"`
	SharedSource string   `json:"shared_source,omitempty"`
	// SizeSource says where SizeBytes came from: the layer's record in
	// the image store ("record"), or a walk of Dir ("walk").
	SizeSource string `json:"size_source,omitempty"`
	DataOnly   bool   `json:"data_only,omitempty"` // a data-only lower (after "::" in lowerdir)
}

// Lower.SizeSource values.
const (
	SizeFromRecord = "record" // the size the image store measured when it unpacked the layer
	SizeWalked     = "walk"   // a walk of the layer's directory (files' sizes, each inode once)
)

// Mount is one line of the sandbox's mountinfo.
type Mount struct {
	MountPoint string   `json:"mount_point"`
	FSType     string   `json:"fs_type"`
	Source     string   `json:"source"`
	Options    []string `json:"options"` // per-mount options (rw, nosuid, …)
	// SuperOptions are the filesystem's own options (for overlay:
	// lowerdir=…, upperdir=…), unescaped.
	SuperOptions []string `json:"super_options,omitempty"`
	Root         string   `json:"root,omitempty"` // the subtree mounted ("/", or e.g. "/null" for a bind of /dev/null)
	Masked       bool     `json:"masked"`         // a masked path (/dev/null or empty tmpfs over it)
	ReadOnly     bool     `json:"read_only"`      // mounted ro
}

// Cgroup holds the sandbox's resource accounting.
type Cgroup struct {
	Mode string            `json:"mode"` // v1, v2 or hybrid
	Path string            `json:"path"` // relative to the hierarchy root, from /proc/PID/cgroup
	Dirs map[string]string `json:"dirs"` // controller -> absolute directory
	// Paths maps each controller to the process's path in its hierarchy
	// (v1 engines may use different paths in different hierarchies).
	Paths map[string]string `json:"paths"`
	// ProcsSource is the cgroup.procs file the process list came from.
	ProcsSource string `json:"procs_source,omitempty"`
	Memory      Memory `json:"memory"`
	CPU         CPU    `json:"cpu"`
	Pids        Pids   `json:"pids"`
	// Pressure is PSI (some avg10, in %) per resource, where the kernel has it.
	Pressure map[string]float64 `json:"pressure,omitempty"`
	// PressureSources maps a resource to its *.pressure file.
	PressureSources map[string]string `json:"pressure_sources,omitempty"`
	Frozen          bool              `json:"frozen"`
	FrozenSource    string            `json:"frozen_source,omitempty"` // cgroup.events (v2) / freezer.state (v1)
}

// Memory is memory usage as the OOM killer counts it, and its parts.
type Memory struct {
	Usage    Value `json:"usage"` // memory.current / memory.usage_in_bytes
	Limit    Value `json:"limit"` // memory.max / memory.limit_in_bytes; Valid=false when unlimited
	Peak     Value `json:"peak"`  // memory.peak / memory.max_usage_in_bytes
	Anon     Value `json:"anon"`
	File     Value `json:"file"`
	Shmem    Value `json:"shmem"`
	Kernel   Value `json:"kernel"`
	OOM      Value `json:"oom"`      // times the limit was hit and the OOM path ran
	OOMKills Value `json:"oom_kill"` // processes the OOM killer killed
	// UnderOOM is v1's memory.oom_control under_oom: 1 while the cgroup is
	// stuck at its limit (only with oom_kill_disable). v1 has no OOM count.
	UnderOOM Value `json:"under_oom"`
	// FailCount is v1's memory.failcnt: times usage hit the limit. On this
	// kernel it stays 0 when memory and memory+swap limits are equal, even
	// through an OOM kill: watch OOMKills, not this.
	FailCount Value `json:"failcnt"`
	SwapUsage Value `json:"swap_usage"` // v2 memory.swap.current; v1 memsw.usage_in_bytes − usage_in_bytes
}

// CPU is CPU usage and throttling. Rates (CoresUsed, PercentOfQuota) need two
// snapshots: see Rate.
type CPU struct {
	UsageNS          Value   `json:"usage_ns"` // cumulative
	QuotaUS          Value   `json:"quota_us"` // Valid=false when unlimited
	PeriodUS         Value   `json:"period_us"`
	Periods          Value   `json:"nr_periods"`
	Throttled        Value   `json:"nr_throttled"`
	ThrottledNS      Value   `json:"throttled_ns"`
	CoresUsed        float64 `json:"cores_used"`       // since the previous snapshot
	PercentOfQuota   float64 `json:"percent_of_quota"` // since the previous snapshot; 0 when unlimited
	ThrottledDelta   int64   `json:"throttled_delta"`  // throttled periods since the previous snapshot
	PeriodsDelta     int64   `json:"periods_delta"`
	ThrottledNSDelta int64   `json:"throttled_ns_delta"` // throttled time since the previous snapshot
	IntervalSeconds  float64 `json:"interval_seconds"`   // between the two snapshots; 0: no rates
}

// Pids is the pids controller's view.
type Pids struct {
	Current Value `json:"current"`
	Limit   Value `json:"limit"` // Valid=false when "max"
	// Refused counts the forks the limit refused (pids.events "max", v1
	// and v2 alike): the proof that a fork failed with EAGAIN.
	Refused Value `json:"refused"`
}

// Network is what the sandbox's network namespace holds.
type Network struct {
	Interfaces []Interface  `json:"interfaces"`
	Ports      []state.Port `json:"ports,omitempty"`
	Source     string       `json:"source"` // /proc/PID/net/dev: names and byte counters
	// AddrSource says where flags, MACs and addresses came from (netlink
	// inside the netns); empty when they could not be read.
	AddrSource string `json:"addr_source,omitempty"`
	// Firewall is what the host's firewall does to the traffic between
	// the sandboxes on this one's bridge; nil off a bridge.
	Firewall *Firewall `json:"firewall,omitempty"`
}

// Interface is one link inside the sandbox's netns.
type Interface struct {
	Name    string   `json:"name"`
	Index   int      `json:"index"`
	Up      bool     `json:"up"`
	MAC     string   `json:"mac,omitempty"`
	Addrs   []string `json:"addrs"` // CIDR notation
	RxBytes int64    `json:"rx_bytes"`
	TxBytes int64    `json:"tx_bytes"`
}

// UTS compares hostname and kernel inside and outside.
type UTS struct {
	Hostname      string `json:"hostname"`
	HostHostname  string `json:"host_hostname"`
	KernelRelease string `json:"kernel_release"` // the same inside and out: one shared kernel
	Source        string `json:"source"`         // how Hostname was read
	HostSource    string `json:"host_source"`    // /proc/sys/kernel/hostname
	KernelSource  string `json:"kernel_source"`  // /proc/sys/kernel/osrelease
}

// PressureKinds are the resources a cgroup reports pressure (PSI) for, in
// the order the snapshot reads them.
var PressureKinds = [3]string{"cpu", "memory", "io"}

// OOMEvent is one OOM kill (or, rarely, an OOM without a kill) in a cgroup.
type OOMEvent struct {
	Time     time.Time `json:"time"`
	OOMKills int64     `json:"oom_kill"` // the cgroup's oom_kill count after the event
	Killed   bool      `json:"killed"`   // the count rose: the OOM killer killed a process
	Source   string    `json:"source"`   // memory.oom_control (v1) or memory.events (v2)
}
