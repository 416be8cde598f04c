// Package sandbox is glassbox's runtime: it starts a workload in a real
// sandbox — new namespaces, a cgroup with limits, an overlayfs root stacked
// from image layers — waits for it, and removes everything it created.
//
//	cfg := &sandbox.Config{Roots: roots, Image: "calculator", Layers: im.TopFirst(), …}
//	if err := cfg.Validate(); err != nil { … }        // creates nothing; Start needs it
//	c, err := sandbox.Start(cfg, sandbox.Stdio{…})    // returns once the workload runs
//	exit, err := c.Wait()
//	c.Destroy()                                        // idempotent
//
// Start keeps no global state and never exits the process, so a long-lived
// supervisor can run many sandboxes.
package sandbox

import (
	"os"
	"syscall"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/state"
)

// Network modes the runtime itself implements. Other modes (bridge) are
// the business of Hooks: the runtime gives the sandbox its own network
// namespace and calls Hooks.OnCreated before the workload starts.
const (
	NetworkNone   = "none"   // own network namespace, loopback only (the default)
	NetworkHost   = "host"   // the host's network namespace
	NetworkBridge = "bridge" // own network namespace, attached by Hooks.OnCreated
)

// Config is what to run and how. The zero value of each field is the
// docker-like default. It is plain data (JSON, as runc's configs.Config):
// the lifecycle engine writes it into a detached sandbox's spec and its
// supervisor starts the sandbox from it. Roots, Hooks, KeepState and Lock
// belong to the process that starts the sandbox and are not serialised.
type Config struct {
	Roots state.Roots `json:"-"`
	// ID is the sandbox's id, 12 hex digits; Validate picks a random one when empty.
	ID string `json:"id"`
	// Name must be unique among recorded sandboxes; the id when empty.
	Name string `json:"name"`
	// Hostname defaults to the id (docker uses its short id).
	Hostname string `json:"hostname"`

	// Image is the image's name, for the record. Layers are its read-only
	// layers, top-most first (image.Image.TopFirst()).
	Image  string        `json:"image"`
	Layers []state.Layer `json:"layers"`
	// Expose are the TCP ports the image says its service listens on
	// (EXPOSE), for the record: what a client of the sandbox connects to.
	Expose []int `json:"expose,omitempty"`
	// Args is the command: argv[0] is looked up in the sandbox's PATH.
	Args []string `json:"args"`
	// Env is the workload's environment, KEY=VALUE; HOSTNAME and a default
	// PATH are added when missing.
	Env []string `json:"env"`
	// ImageEnv is the image's own ENV, for the record: the defaults Env
	// was merged from, so that what -e overrode can be told apart.
	ImageEnv []string `json:"image_env,omitempty"`
	// WorkDir is the workload's working directory inside the sandbox ("/").
	WorkDir string `json:"work_dir"`
	// User is who the workload runs as: docker's USER[:GROUP], names or
	// numbers (the image's USER, or run -u), resolved against the image's
	// /etc/passwd and /etc/group; root when empty.
	User string `json:"user,omitempty"`

	// Limits of the sandbox's cgroup (cgroup.Resources; zero = no limit).
	Resources cgroup.Resources `json:"resources"`
	// NoInit runs the workload itself as PID 1 (--init=false) instead of
	// under glassbox's init.
	NoInit bool `json:"no_init"`
	// UserNS maps the sandbox's root to UIDMapStart.. on the host.
	UserNS bool `json:"userns"`
	// TTY gives the workload a terminal (-t): a pty of the sandbox's own
	// devpts, whose master side Start hands to Stdio.Terminal. OpenStdin
	// (-i) keeps Stdio.In as its standard input; without it, /dev/null.
	TTY       bool `json:"tty,omitempty"`
	OpenStdin bool `json:"open_stdin,omitempty"`
	// Network is NetworkNone (default), NetworkHost or NetworkBridge.
	Network string `json:"network"`
	// Security: capabilities, seccomp filter, read-only root.
	Security Security `json:"security"`

	// ThrowawayUpper: the writable layer lives and dies with the sandbox's
	// record, which is runtime state (Roots.Run, emptied at boot), so no
	// host crash could keep it: its overlay is mounted volatile where the
	// kernel has it (rootfs.Spec.Volatile), and the sandbox's exit does not
	// wait for the host's disk. Not for a build step, whose writable layer
	// becomes an image layer.
	ThrowawayUpper bool `json:"throwaway_upper,omitempty"`

	Hooks Hooks `json:"-"`

	// KeepState: Destroy leaves the state directory (the record, logs) to
	// its owner — the supervisor, whose `rm` removes it. Otherwise Destroy
	// removes it too, as a foreground run does. The owner also records the
	// running sandbox and its exit (State, Wait): Start and Wait do not.
	KeepState bool `json:"-"`

	// Lock is the sandbox's lock (state/lock.go) when the caller holds it
	// already, as a supervisor does across all its starts. When nil, Start
	// takes it (failing if another process holds it) and Destroy lets go
	// of it: nothing of the sandbox is ever created or removed unlocked.
	Lock *state.Lock `json:"-"`

	// InitBinary is the glassbox binary re-executed as the sandbox's init;
	// /proc/self/exe when empty (tests point it at the binary under test).
	InitBinary string `json:"init_binary,omitempty"`
}

// Hooks let the caller act at fixed points of the start protocol.
type Hooks struct {
	// OnCreated runs once the init exists in its namespaces and its cgroup,
	// before any rootfs pivot or workload starts: the place to attach the
	// network (network.Attach with sb.InitPID) and fill sb.Network, which
	// is then saved. An error aborts the start and rolls everything back.
	OnCreated func(sb *state.Sandbox) error
	// Meanwhile runs once the init has been told to go on (after
	// OnCreated), while it pivots into the root and starts the workload:
	// the caller's own bookkeeping that must be done before Start returns
	// but need not hold the workload back. An error aborts the start and
	// rolls everything back.
	Meanwhile func() error
	// OnDestroy runs in Destroy and Cleanup before the state is removed,
	// e.g. network.Detach. Its error is reported, cleanup goes on.
	OnDestroy func(sb *state.Sandbox) error
}

// Stdio are the workload's standard streams, passed as file descriptors
// (a terminal, a pipe, a log file). Nil means /dev/null.
type Stdio struct {
	In, Out, Err *os.File
	// Terminal receives the master side of the workload's terminal when
	// one was asked for (Config.TTY, an exec's TTY), before Start or Exec
	// returns; In, Out and Err are then unused. The receiver copies it to
	// and from its own streams and closes it.
	Terminal func(master *os.File)
	// Rows and Cols are the terminal's first size (0: the kernel's 0×0).
	Rows, Cols uint16
}

// The user namespace mapping of --userns: the sandbox's uid/gid 0..65535
// are the host's UIDMapStart..UIDMapStart+65535, owned by nobody.
const (
	UIDMapStart = 100000
	UIDMapSize  = 65536
)

// DefaultPath is the workload's PATH when neither the image nor -e sets one.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ForwardedSignals are the signals the sandbox's init passes on to the
// workload, and that glassbox run passes on to the init.
var ForwardedSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP,
	syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}
