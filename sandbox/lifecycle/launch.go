package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// startWait bounds how long Run waits for the supervisor to say the
// sandbox runs: a start takes milliseconds, but seconds under emulation
// (the cgroup v2 VM) or on a loaded machine. Tests shorten it.
var startWait = 2 * time.Minute

// SupervisorVerb is the hidden CLI verb that runs a supervisor.
const SupervisorVerb = "supervise"

// create reserves the sandbox's name and id: under a lock on the sandboxes
// directory it checks the name (or generates one), takes the sandbox's own
// lock (state/lock.go) and writes the record as created. It returns the
// lock, which the caller hands to the supervisor: from before the record
// exists until the sandbox is gone, some live process holds it.
func (e *Engine) create(sp *Spec) (*state.Sandbox, *state.Lock, error) {
	if err := os.MkdirAll(e.Roots.SandboxesDir(), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", e.Roots.SandboxesDir(), err)
	}
	unlock, err := lockFile(e.store.Path("", ".names.lock"))
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	// A name stays taken until rm, whether its sandbox runs or not: no
	// need to reconcile the records (List) to know the names.
	names, err := e.store.Names()
	if err != nil {
		return nil, nil, err
	}
	taken := map[string]bool{}
	for name := range names {
		taken[name] = true
	}
	if sp.Name == "" {
		sp.Name = generateName(taken)
	} else if taken[sp.Name] {
		return nil, nil, fmt.Errorf("the name %q is already in use by another sandbox; remove it (glassbox rm %s) or choose another name", sp.Name, sp.Name)
	}
	l, err := e.lockNewID(sp)
	if err != nil {
		return nil, nil, err
	}
	sp.Config.ID, sp.Config.Name = sp.ID, sp.Name
	sb := &state.Sandbox{
		ID:            sp.ID,
		Name:          sp.Name,
		Image:         sp.Config.Image,
		Status:        state.Created,
		SupervisorPID: os.Getpid(),
		Restart:       sp.Restart.String(),
		StopTimeout:   sp.StopTimeout,
		Detached:      true,
		Created:       time.Now(),
		// The mode too: if its supervisor dies before it records the
		// running sandbox, this is what release detaches by.
		Network: state.Network{Mode: sp.Config.Network, Ports: sp.Ports},
	}
	if err := e.store.Save(sb); err != nil {
		l.Remove()
		return nil, nil, err
	}
	if err := e.writeSpec(sp); err != nil {
		e.store.Remove(sp.ID)
		l.Remove()
		return nil, nil, err
	}
	return sb, l, nil
}

// lockNewID takes the lock of the spec's id (a fresh one when it has none)
// and makes sure nothing of that id exists yet.
func (e *Engine) lockNewID(sp *Spec) (*state.Lock, error) {
	fresh := sp.ID == ""
	for try := 0; ; try++ {
		if fresh {
			id, err := state.NewID()
			if err != nil {
				return nil, err
			}
			sp.ID = id
		}
		// A prune may hold a new lock file for a moment (it looks at every
		// id it finds, and finds nothing of this one): wait it out.
		l, err := e.store.Lock(sp.ID, time.Second)
		if err == nil {
			if _, serr := os.Stat(e.Roots.SandboxDir(sp.ID)); serr == nil {
				l.Release()
				err = fmt.Errorf("sandbox id %s is in use", sp.ID)
			} else {
				return l, nil
			}
		}
		if !fresh || try == 10 {
			return nil, err
		}
	}
}

// launch creates the sandbox's record and hands it to its supervisor (sup,
// started already, or one started now when sup is nil); it returns once
// the sandbox runs, or with the start error and nothing left.
func (e *Engine) launch(sp *Spec, sup *supervisorProc) (*state.Sandbox, error) {
	sb, l, err := e.create(sp)
	if err != nil {
		sup.abandon()
		return nil, err
	}
	defer l.Release() // the supervisor holds the lock on
	if sup == nil {
		err = e.spawn(sp.ID, l)
	} else {
		err = sup.handoff(e, sp.ID, l)
	}
	if err != nil {
		e.release(sb)
		e.forget(sp.ID)
		e.store.Remove(sp.ID)
		l.Remove()
		return nil, err
	}
	return e.Get(sp.ID)
}

// Restart stops a running sandbox (with its stop timeout) and starts it
// again with the same id, name and configuration; an exited one just starts.
func (e *Engine) Restart(ref string) (*state.Sandbox, error) {
	return e.start(ref, "restart")
}

// Start starts an exited sandbox again, as docker start does: the same id,
// name and configuration, a new supervisor, a fresh cgroup, the published
// ports again — and the writable layer it had, so what the workload wrote
// before is still there. A running or paused sandbox is left as it is.
func (e *Engine) Start(ref string) (*state.Sandbox, error) {
	return e.start(ref, "start")
}

func (e *Engine) start(ref, verb string) (*state.Sandbox, error) {
	sb, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	if !sb.Detached {
		return nil, fmt.Errorf("cannot %s %s: it runs in the foreground of `glassbox run`", verb, sb.Name)
	}
	if _, err := readSpec(e.store, sb.ID); err != nil {
		return nil, fmt.Errorf("cannot %s %s: %w", verb, sb.Name, err)
	}
	if sb.Status.Live() || sb.Status == state.Created {
		if verb == "start" {
			return sb, nil // docker start of a running container changes nothing
		}
		if _, err := e.Stop(sb.ID, -1); err != nil {
			return nil, err
		}
	}
	// The old supervisor lets go of the lock as it exits.
	l, err := e.store.Lock(sb.ID, 15*time.Second)
	if errors.Is(err, state.ErrBusy) || err == nil && !e.waitSupervisor(sb.ID, 15*time.Second) {
		l.Release()
		return nil, fmt.Errorf("%s %s: its supervisor did not exit", verb, sb.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", verb, sb.Name, err)
	}
	defer l.Release()
	cur, err := e.store.Load(sb.ID)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) {
			l.Remove() // removed meanwhile
		}
		return nil, err
	}
	if verb == "start" && cur.Status != state.Exited {
		return cur, nil // another start won the lock first
	}
	if err := e.spawn(sb.ID, l); err != nil {
		return nil, fmt.Errorf("%s %s: %w", verb, sb.Name, err)
	}
	return e.Get(sb.ID)
}

// lockFile takes an exclusive flock on path (created if needed) and
// returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
