// Package state holds the records glassbox keeps about its sandboxes on disk,
// and the paths where they live. It is the only part of sandbox that inspect
// and ui may import: the runtime writes these records, everything else reads
// them.
package state

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Status is a sandbox's place in its lifecycle:
// created → running ⇄ paused → exited → removed.
type Status string

const (
	Created Status = "created"
	Running Status = "running"
	Paused  Status = "paused"
	Exited  Status = "exited"
	Removed Status = "removed"
)

// Health is the result of the image's health check, polled by the supervisor.
type Health string

const (
	HealthNone      Health = ""
	HealthStarting  Health = "starting"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
)

// HealthProbe is one run of a sandbox's health check, as docker inspect's
// State.Health.Log shows it: when it ran, its exit code (0 healthy, -1 when
// it could not run or timed out) and what it printed (the last 4 KiB).
type HealthProbe struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	ExitCode int       `json:"exit_code"`
	Output   string    `json:"output"`
}

// HealthProbeAgent is the User-Agent of the supervisor's HTTP health
// probes: in a workload's request log it marks the polls, which the UI's
// log view can hide.
const HealthProbeAgent = "glassbox-healthcheck"

// NoteStream is the stream of a sandbox log's entries written by its
// supervisor (restarts, stops, pauses, health changes): the sandbox's
// events, which `glassbox logs` leaves out and `glassbox events` shows.
const NoteStream = "glassbox"

// HealthLogSize is how many probes a record keeps, as docker does.
const HealthLogSize = 5

// Layer is one read-only image layer as a sandbox uses it: the directory that
// is a lowerdir of the sandbox's overlay mount, and where it came from.
type Layer struct {
	Digest    string `json:"digest"`     // sha256:<hex> of the layer's content
	Dir       string `json:"dir"`        // the directory used as an overlay lowerdir
	CreatedBy string `json:"created_by"` // the build step that made it, e.g. "COPY calculator /app/calculator"
	Size      int64  `json:"size"`       // bytes of file content in the layer
}

// Port is one published port: HostIP:HostPort on the host forwards to
// ContainerPort inside the sandbox.
type Port struct {
	HostIP        string `json:"host_ip"`
	HostPort      int    `json:"host_port"`
	ContainerPort int    `json:"container_port"`
	Proto         string `json:"proto"` // "tcp"
	// Via says how connections reach the sandbox while it runs: "kernel"
	// (an nftables DNAT rule) or "proxy" (the supervisor copies them).
	Via string `json:"via,omitempty"`
	// ProxyReason says why the proxy carries a port the kernel would carry
	// on a host that allows it, e.g. "nftables unavailable".
	ProxyReason string `json:"proxy_reason,omitempty"`
}

// Port.Via values.
const (
	ViaKernel = "kernel" // nftables DNAT rules rewrite the host's (and its sandboxes') connections
	ViaProxy  = "proxy"  // the supervisor's userland proxy copies them
)

// Limits are the resource limits a sandbox was started with. Zero means none.
type Limits struct {
	MemoryBytes int64   `json:"memory_bytes,omitempty"`
	CPUs        float64 `json:"cpus,omitempty"`
	CPUQuotaUS  int64   `json:"cpu_quota_us,omitempty"`
	CPUPeriodUS uint64  `json:"cpu_period_us,omitempty"`
	PidsLimit   int64   `json:"pids_limit,omitempty"`
}

// Cgroup says where a sandbox's cgroup lives.
type Cgroup struct {
	Mode string `json:"mode"` // "v1", "v2" or "hybrid"
	// Path is the cgroup's path relative to each hierarchy's root,
	// e.g. "/glassbox/3f2a9c01b7de".
	Path string `json:"path"`
	// Dirs maps a controller ("memory", "cpu", "pids", "freezer", …, or
	// "unified" on v2) to the absolute directory of the sandbox's cgroup.
	Dirs map[string]string `json:"dirs"`
}

// Network describes how a sandbox is attached.
type Network struct {
	Mode    string `json:"mode"` // "bridge", "none" or "host"
	IP      string `json:"ip,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	Bridge  string `json:"bridge,omitempty"`
	HostIf  string `json:"host_if,omitempty"` // veth host end, "gb-<id>"
	Ports   []Port `json:"ports,omitempty"`
	// Firewall is what went wrong, if anything, when the sandbox's bridge
	// was readied for the host's firewall (its iptables accept rule, its
	// packet counters); "" when all is in place.
	Firewall string `json:"firewall,omitempty"`
}

// Exit records how a sandbox's workload ended.
type Exit struct {
	Code       int       `json:"code"`             // shell convention: 128+signal when killed
	Signal     string    `json:"signal,omitempty"` // e.g. "SIGKILL"
	OOMKilled  bool      `json:"oom_killed"`
	FinishedAt time.Time `json:"finished_at"`
	// Reason is the runtime's diagnosis when it has one beyond the code and
	// signal, e.g. "lost the workload: …".
	Reason string `json:"reason,omitempty"`
	// NeverStarted: the workload never ran — the process that was starting
	// the sandbox (glassbox run, or its supervisor) ended first. Code and
	// Signal are then zero.
	NeverStarted bool `json:"never_started,omitempty"`
}

// String is the one wording of an exit, docker's "Exited (137)" with what
// else is known: "Exited (0)", "Exited (143, SIGTERM)", "Exited (137,
// SIGKILL, OOMKilled)". ps, inspect, the UI and the supervisor's log all
// say it so (the presentation package, ui/words, builds on it: the runtime
// may not import that one).
func (e *Exit) String() string {
	if e == nil {
		return "Exited (unknown)"
	}
	if e.NeverStarted {
		return "Exited (never started)"
	}
	s := "Exited (" + strconv.Itoa(e.Code)
	if e.Signal != "" {
		s += ", " + e.Signal
	}
	if e.OOMKilled {
		s += ", OOMKilled"
	}
	return s + ")"
}

// Sandbox is the record of one sandbox, kept as JSON in its state directory.
type Sandbox struct {
	ID    string   `json:"id"` // 12 hex digits
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args"`
	Env   []string `json:"env,omitempty"`
	// ImageEnv is the image's ENV that Env was merged from: a variable of
	// Env that is not in it, or has another value, came from -e.
	ImageEnv []string `json:"image_env,omitempty"`
	Hostname string   `json:"hostname"`
	// User is who the workload runs as, as resolved at its last start.
	User User `json:"user"`

	Status Status `json:"status"`
	Health Health `json:"health,omitempty"`
	// HealthLog is the health check's last probes, oldest first;
	// FailingStreak counts the failures in a row.
	HealthLog     []HealthProbe `json:"health_log,omitempty"`
	FailingStreak int           `json:"failing_streak,omitempty"`

	// Engine is empty for glassbox's own sandboxes. A container of another
	// engine (docker, podman, k8s, containerd, runc, crun) is shown beside
	// them under a record with Engine set, made afresh from what that engine
	// says on each look and never stored: glassbox only reads it.
	Engine string `json:"engine,omitempty"`

	// InitPID is the host PID of the sandbox's PID 1 (glassbox's init, or
	// the workload itself with --init=false). WorkloadPID is the host PID of
	// the workload. SupervisorPID is the host PID of the process that owns
	// the sandbox (the supervisor when detached, glassbox run otherwise).
	InitPID       int `json:"init_pid"`
	WorkloadPID   int `json:"workload_pid"`
	SupervisorPID int `json:"supervisor_pid"`

	Namespaces []string `json:"namespaces"` // kinds it unshared: "pid", "net", …
	UserNS     bool     `json:"userns,omitempty"`

	Limits Limits  `json:"limits"`
	Cgroup Cgroup  `json:"cgroup"`
	Layers []Layer `json:"layers"` // top-most read-only layer first, as in lowerdir=
	// Expose are the TCP ports the image's service listens on (EXPOSE).
	Expose []int `json:"expose,omitempty"`
	// UpperDir is the writable layer; WorkDir overlayfs's work directory;
	// RootFS the merged mount point.
	UpperDir string `json:"upper_dir"`
	WorkDir  string `json:"work_dir"`
	RootFS   string `json:"rootfs"`

	Network  Network  `json:"network"`
	Security Security `json:"security"`

	LogPath      string        `json:"log_path,omitempty"`
	Restart      string        `json:"restart,omitempty"` // "no", "on-failure[:N]", "always"
	RestartCount int           `json:"restart_count"`
	StopTimeout  time.Duration `json:"stop_timeout"`
	Detached     bool          `json:"detached"`
	Created      time.Time     `json:"created"`
	Started      time.Time     `json:"started,omitempty"`
	Exit         *Exit         `json:"exit,omitempty"`
	// RestartedAfter is the exit the restart policy answered last: a
	// sandbox that runs again after an OOM kill still says so.
	RestartedAfter *Exit  `json:"restarted_after,omitempty"`
	LastEventNote  string `json:"last_event_note,omitempty"`
}

// Roots are the two directory trees glassbox keeps: images and layers under
// Lib (default /var/lib/glassbox), runtime state under Run (default
// /run/glassbox). GLASSBOX_ROOT moves both below one directory.
type Roots struct {
	Lib string
	Run string
}

// DefaultRoots returns the roots in force: below $GLASSBOX_ROOT when it is
// set, otherwise the system defaults.
func DefaultRoots() Roots {
	if r := os.Getenv("GLASSBOX_ROOT"); r != "" {
		return RootsAt(r)
	}
	return Roots{Lib: "/var/lib/glassbox", Run: "/run/glassbox"}
}

// RootsAt places both trees below dir (what --root and GLASSBOX_ROOT do).
func RootsAt(dir string) Roots {
	return Roots{Lib: filepath.Join(dir, "lib"), Run: filepath.Join(dir, "run")}
}

// SandboxesDir is where each sandbox's state directory lives.
func (r Roots) SandboxesDir() string { return filepath.Join(r.Run, "sandboxes") }

// SandboxDir is one sandbox's state directory: state.json, its log, its
// supervisor's socket and lock.
func (r Roots) SandboxDir(id string) string { return filepath.Join(r.SandboxesDir(), id) }

// StateFile is the JSON record of one sandbox.
func (r Roots) StateFile(id string) string { return filepath.Join(r.SandboxDir(id), "state.json") }

// ImagesDir holds image manifests; LayersDir the unpacked, content-addressed layers.
func (r Roots) ImagesDir() string { return filepath.Join(r.Lib, "images") }
func (r Roots) LayersDir() string { return filepath.Join(r.Lib, "layers") }

// ContainersDir holds each sandbox's writable layer and overlay work dir.
func (r Roots) ContainersDir() string { return filepath.Join(r.Lib, "containers") }

// User is who a sandbox's workload runs as: Spec as given (docker's
// USER[:GROUP] from the image's USER or run -u; root when empty) and the
// ids the sandbox's /etc/passwd and /etc/group gave it.
type User struct {
	Spec   string   `json:"spec,omitempty"`
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
}
