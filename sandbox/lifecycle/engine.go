// Package lifecycle keeps sandboxes alive after the command that started
// them has returned: each detached sandbox has a supervisor process of its
// own, like containerd's shim — the `glassbox run -d` process itself, which
// the binary's constructor split from the front the caller waits for
// (hosted.go), or glassbox re-executed as the hidden verb `supervise` (for
// start, restart, and a run the constructor did not split) — and the
// Engine finds, stops, pauses, restarts, removes and reads the logs of
// sandboxes through their state directories.
//
// # Who writes what
//
//	file (in the sandbox's state dir)   written by             read by
//	state.json                          Engine (created),      everyone
//	                                    then the supervisor
//	spec.json                           Engine.Run             the supervisor (each start)
//	supervisor.json  {pid, start time}  the supervisor         the Engine: is it alive?
//	control.sock                        the supervisor         the Engine: stop/kill/pause
//	log.json  (JSON lines), log.json.1  the supervisor         Engine.Logs
//	… (rotated, logrotate.go)
//	supervisor.log                      the supervisor's own   people, after a crash
//	                                    stderr
//	released (empty)                    the supervisor, after  rm, prune: nothing of
//	                                    a clean release        the run is left
//
// While its supervisor lives, only the supervisor writes state.json, and
// it holds the sandbox's lock (state/lock.go), which its creator took
// before the record existed and handed to it. When the supervisor is gone
// (SIGKILL, a crash, a reboot) the kernel has let go of the lock: every
// command that reads the record notices it, takes the lock, marks the
// sandbox exited and removes what is left of it (reconcile.go). Nothing of
// a sandbox is touched without its lock.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// DefaultStopTimeout is the grace period between SIGTERM and SIGKILL when
// neither stop -t nor run --stop-timeout says otherwise.
const DefaultStopTimeout = 10 * time.Second

// Engine manages detached sandboxes below one pair of state roots. The CLI
// verbs and the UI's actions are thin layers over it.
type Engine struct {
	Roots state.Roots
	// Binary is the glassbox executable that supervisors run as, and that
	// the built-in image carries; the running executable by default.
	Binary string
	store  *state.Store
}

// New returns an engine on roots.
func New(roots state.Roots) *Engine {
	return &Engine{Roots: roots, store: state.NewStore(roots)}
}

// Store is the state store the engine reads and writes.
func (e *Engine) Store() *state.Store { return e.store }

// List returns the sandboxes, oldest first: only running and paused ones
// unless all is set. Records whose owner died are reconciled first.
func (e *Engine) List(all bool) ([]*state.Sandbox, error) {
	sbs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	return e.reconciled(sbs, all), nil
}

func (e *Engine) reconciled(sbs []*state.Sandbox, all bool) []*state.Sandbox {
	var out []*state.Sandbox
	for _, sb := range sbs {
		sb = e.reconcile(sb)
		if all || sb.Status.Live() {
			out = append(out, sb)
		}
	}
	return out
}

// Lister lists every sandbox as List(true) does, again and again, decoding
// a record only when its file changed (state.Records): for a caller that
// lists every second and treats the records as read-only (the live view).
type Lister struct {
	e    *Engine
	recs *state.Records
}

// NewLister returns a Lister on the engine's store.
func (e *Engine) NewLister() *Lister { return &Lister{e: e, recs: state.NewRecords(e.store)} }

// List returns every sandbox, oldest first, reconciled.
func (l *Lister) List() ([]*state.Sandbox, error) {
	sbs, err := l.recs.List()
	if err != nil {
		return nil, err
	}
	return l.e.reconciled(sbs, true), nil
}

// Get finds a sandbox by name, id or unique id prefix.
func (e *Engine) Get(ref string) (*state.Sandbox, error) {
	sb, err := e.store.Resolve(ref)
	if err != nil {
		return nil, err
	}
	return e.reconcile(sb), nil
}

// Stop ends a sandbox's workload: SIGTERM, up to timeout for it to exit,
// then SIGKILL. A negative timeout means the run's --stop-timeout (10 s by
// default). The restart policy does not apply to a stop.
func (e *Engine) Stop(ref string, timeout time.Duration) (StopResult, error) {
	sb, err := e.Get(ref)
	if err != nil {
		return StopResult{}, err
	}
	if timeout < 0 {
		timeout = stopTimeout(sb)
	}
	res := StopResult{Name: sb.Name, Timeout: timeout}
	if !sb.Status.Live() {
		res.Exit = sb.Exit
		return res, nil // stopping a stopped sandbox changes nothing, as in docker
	}
	if !sb.Detached {
		return e.stopForeground(sb, timeout)
	}
	// Who to wait for, read before it can remove its file (--rm removes
	// the whole state directory on its way out).
	sup, _ := readProcess(e.store.Path(sb.ID, supervisorFile))
	resp, err := e.call(sb, request{Op: opStop, Timeout: timeout}, timeout+30*time.Second)
	if err != nil {
		return res, err
	}
	if resp.Stop != nil {
		res = *resp.Stop
	}
	waitProcess(sup, 10*time.Second)
	return res, nil
}

func stopTimeout(sb *state.Sandbox) time.Duration {
	if sb.StopTimeout > 0 {
		return sb.StopTimeout
	}
	return DefaultStopTimeout
}

// Kill sends a signal to a running sandbox's workload (its PID 1). A
// terminating signal (KILL, TERM, INT, QUIT) counts as a stop: the restart
// policy does not bring the sandbox back.
func (e *Engine) Kill(ref string, sig syscall.Signal) error {
	sb, err := e.Get(ref)
	if err != nil {
		return err
	}
	if !sb.Status.Live() {
		return fmt.Errorf("cannot kill %s: it is %s, not running", sb.Name, sb.Status)
	}
	if !sb.Detached {
		return e.killForeground(sb, sig)
	}
	_, err = e.call(sb, request{Op: opKill, Signal: int(sig)}, 10*time.Second)
	return err
}

// Pause freezes every process of a running sandbox (its cgroup's freezer).
func (e *Engine) Pause(ref string) error {
	return e.freeze(ref, opPause, state.Paused)
}

// Unpause thaws a paused sandbox.
func (e *Engine) Unpause(ref string) error {
	return e.freeze(ref, opUnpause, state.Running)
}

func (e *Engine) freeze(ref, op string, to state.Status) error {
	sb, err := e.Get(ref)
	if err != nil {
		return err
	}
	if to == state.Running && sb.Status != state.Paused {
		return fmt.Errorf("cannot unpause %s: it is %s, not paused", sb.Name, sb.Status)
	}
	if !state.CanTransition(sb.Status, to) {
		return &state.TransitionError{Name: sb.Name, From: sb.Status, To: to}
	}
	_, err = e.call(sb, request{Op: op}, freezeTimeout+10*time.Second)
	return err
}

// call sends a request to the sandbox's supervisor and turns its error
// answer into an error.
func (e *Engine) call(sb *state.Sandbox, req request, wait time.Duration) (*response, error) {
	if !sb.Detached {
		return nil, fmt.Errorf("%s runs in the foreground of `glassbox run` (pid %d): use Ctrl-C there, or kill that process", sb.Name, sb.SupervisorPID)
	}
	resp, err := call(e.store.Path(sb.ID, controlSocket), req, wait)
	if err != nil {
		return nil, fmt.Errorf("%s %s: cannot reach its supervisor: %w", req.Op, sb.Name, err)
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return resp, nil
}

// waitSupervisor waits until the supervisor of id has exited, at most d.
func (e *Engine) waitSupervisor(id string, d time.Duration) bool {
	p, err := readProcess(e.store.Path(id, supervisorFile))
	return err != nil || waitProcess(p, d)
}

// waitProcess waits until p has exited, at most d. It sleeps on a pidfd
// of p, which the kernel makes readable as p exits: rm and stop return as
// soon as the supervisor is gone, not at the next tick of a poll.
func waitProcess(p Process, d time.Duration) bool {
	if !p.Alive() {
		return true
	}
	deadline := time.Now().Add(d)
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err == nil {
		defer unix.Close(fd)
		// The PID may have been reused since Alive: the pidfd is only
		// p's if p still runs now that it is open.
		if !p.Alive() {
			return true
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return !p.Alive()
			}
			n, err := unix.Poll(fds, int(left.Milliseconds())+1)
			if err == unix.EINTR {
				continue
			}
			if err == nil && n > 0 {
				return true
			}
			if err != nil {
				break // poll cannot wait here: fall back to polling
			}
		}
	}
	for p.Alive() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Logs copies a sandbox's log to w. With opts.Follow it keeps copying new
// lines until the sandbox has exited for good (its supervisor is gone) or
// ctx ends.
func (e *Engine) Logs(ctx context.Context, ref string, opts LogOptions, w io.Writer) error {
	sb, err := e.Get(ref)
	if err != nil {
		return err
	}
	if !sb.Detached && sb.LogPath == "" {
		return fmt.Errorf("%s runs in the foreground: its output goes to the terminal of `glassbox run`, not to a log", sb.Name)
	}
	done := func() bool {
		p, err := readProcess(e.store.Path(sb.ID, supervisorFile))
		return err != nil || !p.Alive()
	}
	return readLog(ctx, e.store.Path(sb.ID, logFile), opts, w, done)
}
