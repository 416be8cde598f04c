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

// ownerAlive says whether the process that owns the sandbox still runs:
// its supervisor (identified by PID and start time, so a reused PID does
// not count) or, for a sandbox of a foreground `glassbox run` or one still
// being created, the process recorded as SupervisorPID, which must have
// started before the record was created.
func (e *Engine) ownerAlive(sb *state.Sandbox) bool {
	if p, err := readProcess(e.store.Path(sb.ID, supervisorFile)); err == nil {
		return p.Alive()
	}
	if sb.Detached && sb.Status != state.Created {
		// A supervisor removes its file as it exits: without one, nobody
		// owns the sandbox. (A created one is still owned by the Engine
		// that is starting its supervisor.)
		return false
	}
	if sb.SupervisorPID <= 0 {
		return false
	}
	return (Process{PID: sb.SupervisorPID}).Alive() && startedBefore(sb.SupervisorPID, sb.Created)
}

// reconcile makes a record tell the truth. A sandbox recorded as created,
// running or paused whose owner has died is not running any more, or runs
// unobserved: it is killed, its resources are removed, and it is recorded
// as exited because its supervisor died.
func (e *Engine) reconcile(sb *state.Sandbox) *state.Sandbox {
	if sb.Status == state.Exited || sb.Status == state.Removed || e.ownerAlive(sb) {
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
// one wrote its file, else the process that reserved the record (glassbox
// run, or the UI) — not a supervisor.
func (e *Engine) neverStarted(sb *state.Sandbox) *state.Exit {
	who := fmt.Sprintf("the glassbox command starting it (pid %d) ended before it started the sandbox's supervisor", sb.SupervisorPID)
	if p, err := readProcess(e.store.Path(sb.ID, supervisorFile)); err == nil {
		who = fmt.Sprintf("its supervisor (pid %d) ended before the workload ran", p.PID)
	} else if !sb.Detached {
		who = fmt.Sprintf("its glassbox run (pid %d) ended before the workload ran", sb.SupervisorPID)
	}
	return &state.Exit{NeverStarted: true, FinishedAt: time.Now(), Reason: "never started: " + who}
}

// release removes what a sandbox that no longer runs may have left: the
// processes of its cgroup (the workload of a dead supervisor), the cgroup,
// mounts and writable layer (sandbox.Cleanup), and its veth and address
// lease. Every step is idempotent.
func (e *Engine) release(sb *state.Sandbox) error {
	var errs []error
	if m, err := loadCgroup(sb.ID); err == nil {
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
	case state.Created:
		if e.ownerAlive(sb) && !force {
			return fmt.Errorf("cannot remove %s: it is being started", sb.Name)
		}
	}
	if !e.waitOwner(sb, 15*time.Second) {
		return fmt.Errorf("remove %s: its supervisor did not exit", sb.Name)
	}
	if sb, err = e.Get(sb.ID); err != nil {
		return err
	}
	if err := sb.Transition(state.Removed); err != nil && !force {
		return err
	}
	if err := e.release(sb); err != nil {
		return fmt.Errorf("remove %s: %w", sb.Name, err)
	}
	return e.store.Remove(sb.ID)
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

// Prune removes every exited sandbox and whatever a crash left behind below
// these roots: records whose supervisor died (reconciled, then removed),
// state directories without a record, writable layers without a record,
// address leases and gb-* links of sandboxes that no longer exist, and
// empty glassbox cgroups that no sandbox owns. It returns what it removed.
func (e *Engine) Prune() ([]string, error) {
	var removed []string
	var errs []error
	sbs, err := e.List(true)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, sb := range sbs {
		if sb.Status != state.Exited {
			live[sb.ID] = true
			continue
		}
		if err := e.Remove(sb.ID, false); err != nil {
			errs = append(errs, err)
			live[sb.ID] = true
			continue
		}
		removed = append(removed, "sandbox "+sb.Name+" ("+sb.ID+")")
	}
	orphans, err := e.pruneOrphans(live)
	removed = append(removed, orphans...)
	if err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
