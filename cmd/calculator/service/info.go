package service

import (
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Info is the answer of GET /info: the service's own view of where it runs,
// read from inside. The UI shows it next to the host's view of the same
// process, so the JSON names are a contract: add fields, never rename them.
type Info struct {
	Hostname        string `json:"hostname"`
	ProcessID       int    `json:"process_id"`        // 1 as a sandbox's only process, 2 under an init
	ParentProcessID int    `json:"parent_process_id"` // 0 when PID 1 of its namespace
	UID             int    `json:"uid"`
	GID             int    `json:"gid"`
	KernelRelease   string `json:"kernel_release"` // uname -r: the same inside and outside
	// BootID is the kernel's boot id (/proc/sys/kernel/random/boot_id), new
	// at every boot of a kernel: the same in a sandbox as on its host (one
	// kernel), another in a VM (a kernel of its own).
	BootID string `json:"boot_id"`
	// KernelUptime is how long the kernel has been up (/proc/uptime), in
	// seconds: a sandbox's kernel has been up as long as its host.
	KernelUptime float64 `json:"kernel_uptime_seconds"`
	// Namespaces maps a kind as /proc/self/ns names it ("pid", "net", "mnt",
	// "uts", "ipc", "user", "cgroup", "time", …) to its inode number.
	Namespaces map[string]uint64 `json:"namespaces"`
	Cgroup     CgroupView        `json:"cgroup"`
	Workers    int               `json:"worker_count"`
	Port       int               `json:"port"`
	StartedAt  time.Time         `json:"started_at"`
	GoVersion  string            `json:"go_version"`
	NumCPU     int               `json:"num_cpu"`    // CPUs the process may run on
	GOMAXPROCS int               `json:"gomaxprocs"` // Go ≥1.25 lowers this to the CPU quota
}

// CgroupView is the cgroup as seen from inside: its path and the limits
// visible in cgroupfs. Each limit comes with the file it was read from.
type CgroupView struct {
	// Paths maps a hierarchy of /proc/self/cgroup to the cgroup's path in
	// it: "unified" for the cgroup v2 line ("0::/…"), else the controller
	// list of a v1 line ("memory", "cpu,cpuacct", …). Inside a cgroup
	// namespace the paths are relative to its root, usually "/".
	Paths map[string]string `json:"paths"`
	// Path is the one path to show: the v2 path on a pure v2 host, the
	// memory controller's path on v1 and hybrid hosts.
	Path string `json:"path"`
	// MemoryLimit is the tightest memory limit on the way from the cgroup
	// to the root of its hierarchy, in bytes as a decimal string, or
	// "unlimited". MemoryLimitBytes is the same figure (0 when unlimited).
	MemoryLimit       string `json:"memory_limit"`
	MemoryLimitBytes  int64  `json:"memory_limit_bytes"`
	MemoryLimitSource string `json:"memory_limit_source,omitempty"` // file read, e.g. /sys/fs/cgroup/memory.max
	// CPUQuota is "<quota_us>/<period_us>" or "unlimited"; CPUs the quota
	// in cores (0.5 = half a core; 0 when unlimited).
	CPUQuota       string  `json:"cpu_quota"`
	CPUs           float64 `json:"cpus"`
	CPUQuotaSource string  `json:"cpu_quota_source,omitempty"`
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) int {
	return writeJSON(w, http.StatusOK, s.collectInfo())
}

func (s *Server) collectInfo() Info {
	in := Info{
		Hostname:        s.hostname,
		ProcessID:       os.Getpid(),
		ParentProcessID: os.Getppid(),
		UID:             os.Getuid(),
		GID:             os.Getgid(),
		KernelRelease:   kernelRelease(),
		BootID:          bootID(),
		KernelUptime:    kernelUptime(),
		Namespaces:      namespaces("/proc/self/ns"),
		Workers:         s.cfg.Workers,
		Port:            int(s.port.Load()),
		StartedAt:       s.started.UTC(),
		GoVersion:       runtime.Version(),
		NumCPU:          runtime.NumCPU(),
		GOMAXPROCS:      runtime.GOMAXPROCS(0),
	}
	self, _ := os.ReadFile("/proc/self/cgroup")
	in.Cgroup = readCgroupView("/sys/fs/cgroup", string(self))
	return in
}

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// kernelUptime is the first figure of /proc/uptime (the second is idle time).
func kernelUptime() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// namespaces reads the inode of each namespace link in dir: the link reads
// "pid:[4026531836]", and two processes share a namespace exactly when the
// numbers agree.
func namespaces(dir string) map[string]uint64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := make(map[string]uint64, len(entries))
	for _, e := range entries {
		target, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		if ino, ok := parseNSLink(target); ok {
			out[e.Name()] = ino
		}
	}
	return out
}

// parseNSLink parses "kind:[inode]".
func parseNSLink(target string) (uint64, bool) {
	open := strings.IndexByte(target, '[')
	if open < 0 || !strings.HasSuffix(target, "]") {
		return 0, false
	}
	var n uint64
	digits := target[open+1 : len(target)-1]
	if digits == "" {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
