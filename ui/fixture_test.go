package ui

import (
	"fmt"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// t0 is when the fixtures' first snapshot is taken.
var t0 = time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)

const mib = 1 << 20

// fixture describes one calculator sandbox as the snapshots see it.
type fixture struct {
	id, name         string
	engine           string // another engine's container (read-only) when set
	initPID, appPID  int
	nsBase           uint64 // the sandbox's namespace inodes start here
	status           state.Status
	health           state.Health
	restart          string
	restarts         int
	exit             *state.Exit
	restartedAfter   *state.Exit
	memUsage, anon   int64
	file             int64
	cpuNS            int64 // cumulative
	periods, thrott  int64
	oomKills         int64
	appCPU           float64
	upperSize        int64
	changed          int
	hostPort         int
	running          bool
	started, created time.Time
}

func calc() fixture {
	return fixture{
		id: "3f2a9c01b7de", name: "calc", initPID: 4242, appPID: 4250, nsBase: 4026532201,
		status: state.Running, health: state.HealthHealthy, restart: "no",
		memUsage: 180 * mib, anon: 150 * mib, file: 28 * mib,
		cpuNS: 125_000_000_000, periods: 12_000, thrott: 3_400, appCPU: 118.5,
		upperSize: 12 << 10, changed: 3, hostPort: 8000, running: true,
		started: t0.Add(-5*time.Minute - 12*time.Second), created: t0.Add(-5*time.Minute - 13*time.Second),
	}
}

func calc2() fixture {
	f := calc()
	f.id, f.name, f.initPID, f.appPID, f.nsBase, f.hostPort = "9b1c77d04e21", "calc2", 5120, 5127, 4026532301, 8001
	f.memUsage, f.anon, f.file, f.cpuNS, f.appCPU = 24*mib, 9*mib, 14*mib, 3_000_000_000, 2.9
	f.periods, f.thrott = 900, 0
	f.started, f.created = t0.Add(-40*time.Second), t0.Add(-41*time.Second)
	return f
}

// defaultCaps are docker's default capability set, the app's.
var defaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}

// snap builds the snapshot of f at time at.
func (f fixture) snap(at time.Time) *inspect.Snapshot {
	v1 := "/sys/fs/cgroup/memory/glassbox/" + f.id + "/"
	cpu := "/sys/fs/cgroup/cpu,cpuacct/glassbox/" + f.id + "/"
	pids := "/sys/fs/cgroup/pids/glassbox/" + f.id + "/"
	val := func(v int64, src string) inspect.Value { return inspect.Value{Value: v, Source: src, Valid: true} }
	sb := &state.Sandbox{
		ID: f.id, Name: f.name, Image: "calculator", Args: []string{"/app/calculator"}, Hostname: f.name,
		ImageEnv: []string{"SERVER_PORT=8000", "WORKER_COUNT=4"},
		Env:      []string{"SERVER_PORT=8000", "WORKER_COUNT=2", "LOG_FORMAT=text"},
		Status:   f.status, Health: f.health, Engine: f.engine, InitPID: f.initPID, WorkloadPID: f.appPID, SupervisorPID: f.initPID - 3,
		Namespaces: []string{"pid", "net", "mnt", "uts", "ipc", "cgroup"},
		Limits:     state.Limits{MemoryBytes: 256 * mib, CPUs: 0.5, CPUQuotaUS: 50000, CPUPeriodUS: 100000, PidsLimit: 512},
		Cgroup:     state.Cgroup{Mode: "hybrid", Path: "/glassbox/" + f.id},
		Network: state.Network{Mode: "bridge", IP: "10.88.0.2", Gateway: "10.88.0.1", Bridge: "glassbox0", HostIf: "gb-" + f.id,
			Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: f.hostPort, ContainerPort: 8000, Proto: "tcp", Via: "kernel"}}},
		Restart: f.restart, RestartCount: f.restarts, StopTimeout: 10 * time.Second, Detached: true,
		Created: f.created, Started: f.started, Exit: f.exit, RestartedAfter: f.restartedAfter,
		Security: state.Security{Caps: defaultCaps, Seccomp: "default", SeccompSummary: "306 system calls allowed, 71 denied",
			SeccompBlocks: []string{"mount", "umount2", "unshare", "setns", "keyctl", "bpf", "ptrace", "kexec_load"}},
	}
	s := &inspect.Snapshot{Taken: at, Sandbox: sb, PID: f.initPID}
	if !f.running {
		s.Errors = []string{fmt.Sprintf("read /proc/%d/status: no such process", f.initPID)}
		return s
	}
	kinds := []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}
	hostIno := map[string]uint64{"cgroup": 4026531835, "ipc": 4026531839, "mnt": 4026531841, "net": 4026531840,
		"pid": 4026531836, "pid_for_children": 4026531836, "time": 4026531834, "time_for_children": 4026531834,
		"user": 4026531837, "uts": 4026531838}
	own := map[string]uint64{"cgroup": 0, "ipc": 1, "mnt": 2, "net": 3, "pid": 4, "pid_for_children": 4, "uts": 5}
	for _, k := range kinds {
		n := inspect.Namespace{Kind: k, HostInode: hostIno[k], Inode: hostIno[k],
			Source: fmt.Sprintf("/proc/%d/ns/%s", f.initPID, k), HostSource: "/proc/1/ns/" + k}
		if off, ok := own[k]; ok {
			n.Inode, n.Own = f.nsBase+off, true
		}
		switch k {
		case "time": // the init unshares it for its children: the app's own
			n.InitInode, n.InitSource = n.Inode, n.Source
			n.Inode, n.Own, n.Source = f.nsBase+6, true, fmt.Sprintf("/proc/%d/ns/time", f.appPID)
		case "time_for_children":
			n.Inode, n.Own = f.nsBase+6, true
		}
		s.Namespaces = append(s.Namespaces, n)
	}
	s.Processes = []inspect.Process{
		{HostPID: f.initPID, NSpid: []int{f.initPID, 1}, SandboxPID: 1, PPID: f.initPID - 3, Command: "glassbox",
			Args: []string{"glassbox", "init"}, State: "S", Threads: 4, RSSBytes: 3 * mib, CPUTime: 0.02,
			Source: fmt.Sprintf("/proc/%d/status", f.initPID), StatSource: fmt.Sprintf("/proc/%d/stat", f.initPID)},
		{HostPID: f.appPID, NSpid: []int{f.appPID, 2}, SandboxPID: 2, PPID: f.initPID, Command: "calculator",
			Args: []string{"/app/calculator"}, State: "S", Threads: 7, RSSBytes: f.anon + 6*mib, CPUTime: f.appCPU,
			Source: fmt.Sprintf("/proc/%d/status", f.appPID), StatSource: fmt.Sprintf("/proc/%d/stat", f.appPID), CapEff: "00000000a80425fb", Caps: defaultCaps,
			Seccomp: 2, SeccompFilters: 1, NoNewPrivs: true},
	}
	s.UTS = inspect.UTS{Hostname: f.name, HostHostname: "classroom", KernelRelease: "6.1.0-28-amd64",
		Source: fmt.Sprintf("uname in /proc/%d/ns/uts", f.initPID), HostSource: "/proc/sys/kernel/hostname", KernelSource: "/proc/sys/kernel/osrelease"}
	s.Environ = inspect.Environ{Source: fmt.Sprintf("/proc/%d/environ", f.appPID),
		Vars: []string{"SERVER_PORT=8000", "WORKER_COUNT=2", "LOG_FORMAT=text", "HOSTNAME=" + f.name, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
	lib := "/var/lib/glassbox/"
	s.Filesystem = inspect.Filesystem{
		RootType: "overlay",
		Upper:    inspect.Upper{Dir: lib + "containers/" + f.id + "/upper", SizeBytes: f.upperSize, ChangedFiles: f.changed, Work: lib + "containers/" + f.id + "/work"},
		Lowers: []inspect.Lower{
			{Dir: lib + "layers/8c1e0f5ab2d4/fs", Digest: "sha256:8c1e0f5ab2d4e7f9a0b1c2d3", CreatedBy: "COPY calculator /app/calculator", SizeBytes: 9_800_000,
				SizeSource: inspect.SizeFromRecord, SharedBy: 2, SharedWith: []string{"calc", "calc2"}, SharedSource: "/run/glassbox/sandboxes/*/state.json"},
			{Dir: lib + "layers/51d7a3c9e0f2/fs", Digest: "sha256:51d7a3c9e0f2a1b2c3d4e5f6", CreatedBy: "ADD base: /etc/passwd /etc/hosts /tmp", SizeBytes: 4_200,
				SizeSource: inspect.SizeFromRecord, SharedBy: 2, SharedWith: []string{"calc", "calc2"}, SharedSource: "/run/glassbox/sandboxes/*/state.json"},
		},
		Source: fmt.Sprintf("/proc/%d/mountinfo", f.initPID),
	}
	s.Cgroup = inspect.Cgroup{
		Mode: "hybrid", Path: "/glassbox/" + f.id,
		Memory: inspect.Memory{
			Usage: val(f.memUsage, v1+"memory.usage_in_bytes"), Limit: val(256*mib, v1+"memory.limit_in_bytes"),
			Peak: val(f.memUsage+20*mib, v1+"memory.max_usage_in_bytes"),
			Anon: val(f.anon, v1+"memory.stat"), File: val(f.file, v1+"memory.stat"), Shmem: val(0, v1+"memory.stat"),
			OOM: val(f.oomKills, v1+"memory.oom_control"), OOMKills: val(f.oomKills, v1+"memory.oom_control"),
		},
		CPU: inspect.CPU{
			UsageNS: val(f.cpuNS, cpu+"cpuacct.usage"), QuotaUS: val(50000, cpu+"cpu.cfs_quota_us"), PeriodUS: val(100000, cpu+"cpu.cfs_period_us"),
			Periods: val(f.periods, cpu+"cpu.stat"), Throttled: val(f.thrott, cpu+"cpu.stat"), ThrottledNS: val(f.thrott*31_000_000, cpu+"cpu.stat"),
		},
		Pids: inspect.Pids{Current: val(3, pids+"pids.current"), Limit: val(512, pids+"pids.max")},
	}
	return s
}

// busy advances f by one second of a CPU-bound, throttled calculator: 0.42
// cores, throttled in 8 of 10 periods.
func (f fixture) busy() fixture {
	f.cpuNS += 420_000_000
	f.appCPU += 0.41
	f.periods += 10
	f.thrott += 8
	return f
}

// oomKilled is f after the kernel's OOM killer ended it.
func (f fixture) oomKilled(at time.Time) fixture {
	f.status, f.health, f.running = state.Exited, state.HealthNone, false
	f.oomKills++
	f.exit = &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true, FinishedAt: at,
		Reason: "killed by the OOM killer: memory limit 256 MiB reached"}
	return f
}

// rated gives each snapshot the rates since the one before it of the same
// sandbox and init, as the Inspector that reads a live sandbox does (a
// restart opens a new one: its first snapshot has no rates).
func rated(rounds [][]*inspect.Snapshot) [][]*inspect.Snapshot {
	last := map[string]*inspect.Snapshot{}
	for _, r := range rounds {
		for _, s := range r {
			id := s.Sandbox.ID
			if p := last[id]; p != nil && p.PID == s.PID {
				inspect.Rate(p, s)
			}
			last[id] = s
		}
	}
	return rounds
}
