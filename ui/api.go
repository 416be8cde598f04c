// Package ui is glassbox's terminal UI: one screen that shows, live, what the
// kernel sees of a sandbox (namespaces, processes, the overlay stack, the
// cgroup's memory and CPU against their limits) and keys that poke it.
//
// The program follows the Elm architecture of bubbletea: all I/O (snapshots,
// actions) happens in tea.Cmds, and every panel is a pure function of the
// model's state, golden-tested in render_test.go.
package ui

import (
	"context"
	"errors"
	"os/exec"
	"time"

	"glassbox/inspect"
	"glassbox/inspect/union"
	"glassbox/sandbox/state"
)

// Source is where the UI reads sandboxes from. The real one is backed by the
// state store and the inspect package; tests use fixtures.
type Source interface {
	// List returns the sandboxes glassbox knows about, running or not. The
	// UI calls it once per refresh and finds the sandboxes it watches in it.
	List() ([]*state.Sandbox, error)
	// Snapshot reads one sandbox, given its current record, as the kernel
	// sees it now.
	Snapshot(sb *state.Sandbox) (*inspect.Snapshot, error)
}

// OOMWatcher is what a Source may also do: pass on the kernel's own word of
// an OOM kill as it happens (inspect.WatchOOM: an eventfd on v1's
// memory.oom_control, inotify on v2's memory.events), so that the banner
// does not wait for the next refresh. The UI watches every running sandbox
// it shows through it.
type OOMWatcher interface {
	// WatchOOM delivers the OOM kills of a running sandbox's memory cgroup.
	// The channel closes when the cgroup goes (the sandbox ended or
	// restarts) or the source is closed.
	WatchOOM(sb *state.Sandbox) (<-chan inspect.OOMEvent, error)
}

// LogLine is one line of a sandbox's log: the workload's output.
type LogLine struct {
	Time   time.Time
	Stream string // "stdout" or "stderr"
	Text   string
}

// LogFollower is what a Source may also do: follow a sandbox's log — the
// workload's output, read through the engine — from its last tail lines
// on, giving each line to line, until ctx ends or the sandbox has ended
// for good (its supervisor is gone).
type LogFollower interface {
	FollowLog(ctx context.Context, ref string, tail int, line func(LogLine)) error
}

// ErrNoAnswer is what an action's error wraps when the workload died with
// its request in flight (the connection dropped without an answer): at
// the memory limit, the OOM killer's doing. The UI tells such a failure
// after the kill, as its consequence, not as an error of its own.
var ErrNoAnswer = errors.New("the connection dropped: the workload died mid-request")

// Actions are what the keys do to sandboxes. Every call may block (a graceful
// stop takes up to its grace period), so the UI only calls them from tea.Cmds.
type Actions interface {
	// StressMemory asks the sandbox's calculator to allocate and hold mb
	// more MiB; it returns how much the calculator says it holds now.
	StressMemory(ref string, mb int) (heldMB int, err error)
	// ReleaseMemory asks the calculator to free what it holds; it returns
	// how much it says it holds now.
	ReleaseMemory(ref string) (heldMB int, err error)
	// BurnCPU asks the calculator to burn CPU with workers goroutines for seconds.
	BurnCPU(ref string, seconds, workers int) error
	// Calculate sends one /calculate request and returns its answer and the
	// hostname of the sandbox that processed it.
	Calculate(ref string) (result string, processedBy string, err error)
	Pause(ref string) error
	Unpause(ref string) error
	// Stop sends SIGTERM, waits up to timeout, then SIGKILL; it returns the
	// signal that ended the workload.
	Stop(ref string, timeout time.Duration) (string, error)
	Kill(ref string) error
	// Restart starts a sandbox again, as docker users expect of the key: a
	// stopped one as glassbox start does (docker start: its writable layer
	// kept), a running or paused one as glassbox restart does (stopped
	// first, as its grace period allows, then started).
	Restart(ref string) error
	// IgnoreSIGTERM asks the sandbox's calculator to ignore SIGTERM from
	// now on (POST /stress/sigterm), so that a stop waits out its grace
	// period and ends with SIGKILL.
	IgnoreSIGTERM(ref string) error
	// Start starts a new calculator sandbox and returns its name.
	Start() (string, error)
	// Remove removes a stopped sandbox (the UI stops it first if asked to).
	Remove(ref string) error
	// CompareVM boots the calculator in a micro-VM and runs it in a
	// sandbox, measures both (glassbox vm-vs-container), and reports each
	// step and figure as it goes; it returns the comparison. Cancelling
	// ctx stops it; everything it started is removed before it returns.
	CompareVM(ctx context.Context, report func(state.CompareEvent)) (*state.Comparison, error)
	// Shell is the command that opens an interactive shell in a running
	// sandbox (glassbox exec -it REF sh); the UI hands the terminal to it
	// and comes back when it ends.
	Shell(ref string) (*exec.Cmd, error)
	// CopyUp appends one byte to the file at path inside the running
	// sandbox, through its root mount: when only a lower layer has the
	// file, overlayfs first copies all of it into the sandbox's writable
	// layer. An empty path picks the largest file of the lower layers that
	// no process runs. It returns the path written and the file's size
	// before.
	CopyUp(ref, path string) (written string, size int64, err error)
}

// Images is where the Image view reads what it explores. The real one is
// backed by the image store and the sandbox records; tests use fixtures.
type Images interface {
	// Stack describes the layers of an image, or of a sandbox (its
	// image's layers and its writable upper layer on top), by name or id.
	Stack(ref string) (*union.Stack, error)
}
