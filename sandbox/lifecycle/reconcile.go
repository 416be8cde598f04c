package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"time"

	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

// cleanupSandbox removes every resource of a sandbox that is no longer
// running, from its record: the runtime's sandbox.Cleanup (wired in
// runtime.go). It must be idempotent.
var cleanupSandbox func(roots state.Roots, sb *state.Sandbox) error

// removeWritableLayer removes a sandbox's writable layer, which a sandbox
// with a record keeps after its workload has exited (for start, restart,
// diff, export, commit) until the record goes: the runtime's
// sandbox.RemoveWritableLayer (wired in runtime.go).
var removeWritableLayer func(roots state.Roots, id string) error

// ownerAlive says whether someone is at work on the sandbox: another
// process holds its lock (its supervisor, its foreground `glassbox run`, or
// the command creating, restarting or removing it; see state/lock.go) or,
// for a sandbox whose supervisor predates the locks, its recorded
// supervisor still runs (PID and start time, so a reused PID does not count).
func (e *Engine) ownerAlive(sb *state.Sandbox) bool {
	if e.store.Busy(sb.ID) {
		return true
	}
	p, err := readProcess(e.store.Path(sb.ID, supervisorFile))
	return err == nil && p.Alive()
}

// reconcile makes a record tell the truth. A sandbox recorded as created,
// running or paused whose owner has died is not running any more, or runs
// unobserved: under its lock, it is killed, its resources are removed, and
// it is recorded as exited because its supervisor died.
func (e *Engine) reconcile(sb *state.Sandbox) *state.Sandbox {
	if !claimsOwner(sb) || e.ownerAlive(sb) {
		return sb
	}
	l, err := e.store.TryLock(sb.ID)
	if err != nil {
		return sb // taken a moment ago: its new holder tells the truth
	}
	defer l.Release()
	cur, err := e.store.Load(sb.ID)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) {
			l.Remove() // removed meanwhile; the lock file was ours
		}
		return sb
	}
	return e.reconcileLocked(cur)
}

// claimsOwner: the record says a process is at work on the sandbox.
func claimsOwner(sb *state.Sandbox) bool {
	return sb.Status == state.Created || sb.Status.Live()
}

// reconcileLocked is reconcile for a caller that holds the sandbox's lock:
// no other process owns the sandbox then, unless it is a supervisor from
// before the locks.
func (e *Engine) reconcileLocked(sb *state.Sandbox) *state.Sandbox {
	if !claimsOwner(sb) {
		return sb
	}
	if p, err := readProcess(e.store.Path(sb.ID, supervisorFile)); err == nil && p.Alive() {
		return sb
	}
	err := e.release(sb)
	note := "supervisor died"
	switch {
	case sb.Exit != nil:
	case sb.Status == state.Created:
		sb.Exit, note = e.neverStarted(sb), "never started"
	default:
		sb.Exit = &state.Exit{
			Code:       128 + 9,
			Signal:     "SIGKILL",
			FinishedAt: time.Now(),
			Reason:     fmt.Sprintf("its supervisor (pid %d) died; the workload was killed and its resources removed", sb.SupervisorPID),
		}
	}
	sb.Transition(state.Exited) // legal from created, running and paused
	sb.Health = state.HealthNone
	sb.LastEventNote = note
	if err != nil {
		sb.LastEventNote += "; cleanup incomplete: " + err.Error()
	}
	e.store.Save(sb)
	return sb
}

// neverStarted is the exit of a sandbox whose start never finished: its
// record still says created. Who was starting it is the supervisor when
// one wrote its file, or was handed the sandbox (its log is named then;
// it writes its file while the first start is under way), else the
// process that reserved the record (glassbox run, or the UI) — not a
// supervisor.
func (e *Engine) neverStarted(sb *state.Sandbox) *state.Exit {
	who := fmt.Sprintf("the glassbox command starting it (pid %d) ended before it started the sandbox's supervisor", sb.SupervisorPID)
	if p, err := readProcess(e.store.Path(sb.ID, supervisorFile)); err == nil {
		who = fmt.Sprintf("its supervisor (pid %d) ended before the workload ran", p.PID)
	} else if _, err := os.Stat(e.store.Path(sb.ID, supervisorLog)); err == nil && sb.Detached {
		who = "its supervisor ended before the workload ran"
	} else if !sb.Detached {
		who = fmt.Sprintf("its glassbox run (pid %d) ended before the workload ran", sb.SupervisorPID)
	}
	return &state.Exit{NeverStarted: true, FinishedAt: time.Now(), Reason: "never started: " + who}
}

// release removes what a sandbox that no longer runs may have left: the
// processes of its cgroup (the workload of a dead supervisor), the cgroup,
// its mounts' directories (sandbox.CleanupResources), and its veth and
// address lease. The writable layer stays with the record (forget removes
// it). Every step is idempotent; none is needed when the supervisor has
// said it left nothing (releasedFile).
func (e *Engine) release(sb *state.Sandbox) error {
	if released(e.store, sb.ID) {
		return nil
	}
	var errs []error
	if m, err := loadCgroup(e.Roots, sb.ID); err == nil {
		if err := m.Kill(); err != nil {
			errs = append(errs, fmt.Errorf("kill the processes of %s: %w", sb.Name, err))
		}
	}
	if cleanupSandbox != nil {
		if err := cleanupSandbox(e.Roots, sb); err != nil {
			errs = append(errs, err)
		}
	}
	if err := network.Detach(e.Roots, sb.ID, sb.Network); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Remove deletes a sandbox: its record, log and every resource. A running
// or paused sandbox is refused unless force is set, which kills it first.
func (e *Engine) Remove(ref string, force bool) error {
	sb, err := e.Get(ref)
	if err != nil {
		return err
	}
	if sb.Status == state.Created && e.ownerAlive(sb) {
		if !force {
			return fmt.Errorf("cannot remove %s: it is being started", sb.Name)
		}
		// rm -f stops it as soon as it runs (or its start fails).
		if sb, err = e.waitStarted(sb); err != nil {
			return err
		}
	}
	switch sb.Status {
	case state.Running, state.Paused:
		if !force {
			return fmt.Errorf("cannot remove %s: it is %s; stop it first or use rm -f", sb.Name, sb.Status)
		}
		if sb.Detached {
			if _, err := e.Stop(sb.ID, 0); err != nil && e.ownerAlive(sb) {
				return fmt.Errorf("remove %s: %w", sb.Name, err)
			}
		} else {
			e.killCgroup(sb) // the foreground glassbox run sees the exit and cleans up
		}
	}
	// Its owner lets go of the lock as it exits.
	l, err := e.store.Lock(sb.ID, 15*time.Second)
	if errors.Is(err, state.ErrBusy) {
		return fmt.Errorf("remove %s: its supervisor did not exit", sb.Name)
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", sb.Name, err)
	}
	defer l.Release()
	cur, err := e.store.Load(sb.ID)
	if errors.Is(err, state.ErrNotFound) {
		// Between its exit and this lock, a prune (or another rm, or the
		// end of its foreground run) removed it: it is gone, as asked.
		return l.Remove()
	}
	if err != nil {
		return err
	}
	cur = e.reconcileLocked(cur)
	if err := cur.Transition(state.Removed); err != nil && !force {
		return err
	}
	return e.removeLocked(cur, l)
}

// removeLocked releases everything of a sandbox whose lock the caller
// holds, then its writable layer, record and state directory, and last
// its lock. The layer and the state directory are two trees to unlink
// that do not depend on each other: they go at once. Should the command
// die in between, the lock file, removed last, keeps the id for prune.
func (e *Engine) removeLocked(sb *state.Sandbox, l *state.Lock) error {
	if err := e.release(sb); err != nil {
		return fmt.Errorf("remove %s: %w", sb.Name, err)
	}
	layerGone := make(chan error, 1)
	go func() { layerGone <- e.forget(sb.ID) }()
	err := e.store.Remove(sb.ID)
	if lerr := <-layerGone; lerr != nil {
		return fmt.Errorf("remove %s: %w", sb.Name, lerr)
	}
	if err != nil {
		return err
	}
	return l.Remove()
}

// forget removes the writable layer of a sandbox whose record goes.
func (e *Engine) forget(id string) error {
	if removeWritableLayer == nil {
		return nil
	}
	return removeWritableLayer(e.Roots, id)
}

// waitStarted waits until a sandbox being created has started, or failed
// to (its creator let go of it), and returns its record then.
func (e *Engine) waitStarted(sb *state.Sandbox) (*state.Sandbox, error) {
	deadline := time.Now().Add(startWait)
	for sb.Status == state.Created && e.ownerAlive(sb) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s did not start within %s", sb.Name, startWait)
		}
		time.Sleep(10 * time.Millisecond)
		cur, err := e.store.Load(sb.ID)
		if err != nil {
			return nil, err
		}
		sb = cur
	}
	return e.Get(sb.ID)
}

// waitOwner waits until the sandbox's owner has exited, at most d.
func (e *Engine) waitOwner(sb *state.Sandbox, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for e.ownerAlive(sb) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
