package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// startWait bounds how long Run waits for the supervisor to say the
// sandbox runs (the first run may build the calculator image).
const startWait = 2 * time.Minute

// SupervisorVerb is the hidden CLI verb that runs a supervisor.
const SupervisorVerb = "supervise"

// create reserves the sandbox's name and id: under a lock on the sandboxes
// directory it checks the name (or generates one) and writes the record
// as created, owned by this process until the supervisor takes over.
func (e *Engine) create(sp *Spec) (*state.Sandbox, error) {
	if err := os.MkdirAll(e.Roots.SandboxesDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", e.Roots.SandboxesDir(), err)
	}
	unlock, err := lockFile(e.store.Path("", ".names.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := e.List(true)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, sb := range all {
		taken[sb.Name] = true
	}
	if sp.Name == "" {
		sp.Name = generateName(taken)
	} else if taken[sp.Name] {
		return nil, fmt.Errorf("the name %q is already in use by another sandbox; remove it (glassbox rm %s) or choose another name", sp.Name, sp.Name)
	}
	if sp.ID == "" {
		if sp.ID, err = state.NewID(); err != nil {
			return nil, err
		}
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
		Network:       state.Network{Ports: sp.Ports},
	}
	if err := e.store.Save(sb); err != nil {
		return nil, err
	}
	if err := e.writeSpec(sp); err != nil {
		e.store.Remove(sp.ID)
		return nil, err
	}
	return sb, nil
}

// launch creates the sandbox's record and starts its supervisor; it
// returns once the sandbox runs, or with the start error and nothing left.
func (e *Engine) launch(sp *Spec) (*state.Sandbox, error) {
	sb, err := e.create(sp)
	if err != nil {
		return nil, err
	}
	if err := e.spawn(sp.ID); err != nil {
		e.release(sb)
		e.store.Remove(sp.ID)
		return nil, err
	}
	return e.Get(sp.ID)
}

// Restart stops a running sandbox (with its stop timeout) and starts it
// again with the same id, name and configuration; an exited one just starts.
func (e *Engine) Restart(ref string) (*state.Sandbox, error) {
	sb, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	if !sb.Detached {
		return nil, fmt.Errorf("cannot restart %s: it runs in the foreground of `glassbox run`", sb.Name)
	}
	if _, err := readSpec(e.store, sb.ID); err != nil {
		return nil, fmt.Errorf("cannot restart %s: %w", sb.Name, err)
	}
	if sb.Status.Live() {
		if _, err := e.Stop(sb.ID, -1); err != nil {
			return nil, err
		}
	}
	if !e.waitSupervisor(sb.ID, 15*time.Second) {
		return nil, fmt.Errorf("restart %s: its supervisor did not exit", sb.Name)
	}
	if err := e.spawn(sb.ID); err != nil {
		return nil, fmt.Errorf("restart %s: %w", sb.Name, err)
	}
	return e.Get(sb.ID)
}

// spawn starts the supervisor of sandbox id in a session of its own (so no
// terminal signal reaches it and it outlives the CLI) and waits for its
// word that the sandbox runs.
func (e *Engine) spawn(id string) error {
	bin := e.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("find the glassbox binary: %w", err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start the supervisor: %w", err)
	}
	defer r.Close()
	logPath := e.store.Path(id, "supervisor.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		w.Close()
		return fmt.Errorf("start the supervisor: %w", err)
	}
	cmd := exec.Command(bin, SupervisorVerb, "--lib", e.Roots.Lib, "--run", e.Roots.Run, id)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"                  // hold no directory of the caller's busy for the sandbox's lifetime
	cmd.ExtraFiles = []*os.File{w} // fd 3: the ready pipe
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	logf.Close()
	if err != nil {
		return fmt.Errorf("start the supervisor %s: %w", bin, err)
	}
	go cmd.Wait() // reap it if this process (the UI) lives longer

	r.SetReadDeadline(time.Now().Add(startWait))
	var m readyMsg
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("the sandbox did not start within %s (see %s)", startWait, logPath)
		}
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("the supervisor exited before the sandbox started: %s", lastLines(out, 5))
	}
	if m.Error != "" {
		return errors.New(m.Error)
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "; ")
	if s == "" {
		return "no output"
	}
	return s
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
