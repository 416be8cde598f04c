package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	units "github.com/docker/go-units"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/state"
)

// Container is a started sandbox, owned by the process that started it.
type Container struct {
	cfg   *Config
	store *state.Store
	sb    *state.Sandbox
	dir   string // roots.ContainersDir()/<id>: upper, work, rootfs

	cg        cgroup.Manager
	oomBefore uint64
	cmd       *exec.Cmd
	conn      *nsinit.Conn
	proc      *processRecord // how the workload was started, for exec

	waitOnce sync.Once
	exit     *state.Exit
	waitErr  error

	mu        sync.Mutex
	destroyed bool

	recordMu sync.Mutex // guards sb once Start has returned

	ownLock *state.Lock // the sandbox's lock if Start took it (Config.Lock was nil)
}

// State is a copy of the sandbox's record as last saved: Wait changes the
// record while others may read it.
func (c *Container) State() *state.Sandbox {
	c.recordMu.Lock()
	defer c.recordMu.Unlock()
	cp := *c.sb
	return &cp
}

// Signal sends sig to the sandbox's PID 1: glassbox's init forwards it to
// the workload; a workload that is PID 1 itself (--init=false) gets it
// directly (the kernel delivers only signals it handles, and SIGKILL).
func (c *Container) Signal(sig syscall.Signal) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return errors.New("sandbox has no process")
	}
	// os.Process signals through a pidfd: never a recycled PID.
	if err := c.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to sandbox %s: %w", sig, c.sb.ID, err)
	}
	return nil
}

// Wait waits for the workload to end and returns how it ended; the record
// moves to "exited". It may be called more than once and from several
// goroutines: all get the same answer.
func (c *Container) Wait() (*state.Exit, error) {
	c.waitOnce.Do(func() { c.exit, c.waitErr = c.wait() })
	return c.exit, c.waitErr
}

func (c *Container) wait() (*state.Exit, error) {
	if c.cmd == nil {
		return nil, errors.New("sandbox was never started")
	}
	c.cmd.Wait() // the exit status is read from ProcessState below
	exit := &state.Exit{FinishedAt: time.Now().UTC()}
	var report *nsinit.Message
	for {
		m, err := c.read()
		if err != nil {
			break
		}
		if m.Kind == nsinit.MsgExit {
			report = m
			break
		}
	}
	ws, _ := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	exitStatus(exit, report, ws)
	if exit.Signal == "SIGKILL" && c.cg != nil {
		if n, err := c.cg.OOMKills(); err == nil && n > c.oomBefore {
			exit.OOMKilled = true
		}
	}
	c.recordMu.Lock()
	defer c.recordMu.Unlock()
	c.sb.Exit = exit
	if c.sb.Status != state.Exited {
		if err := c.sb.Transition(state.Exited); err != nil {
			return exit, err
		}
	}
	// A supervisor (KeepState) records the exit itself, with what it adds
	// to the runtime's record (restarts, health, how ports go): a record
	// written here from the runtime's copy would show, until the
	// supervisor's, the exit beside those fields as they were at the start
	// (a restarted sandbox "exited, restarts 0"), and cost the stop a write.
	if c.cfg.KeepState {
		return exit, nil
	}
	// A record removed meanwhile (Cleanup by crash recovery, rm -f) stays removed.
	if _, err := os.Stat(c.store.Roots.StateFile(c.sb.ID)); err != nil {
		return exit, nil
	}
	if err := c.store.Save(c.sb); err != nil {
		return exit, err
	}
	return exit, nil
}

// Destroy kills whatever is left of the sandbox and removes what it
// created: its cgroup, its mounts' directories and — unless KeepState
// keeps the sandbox for its owner — its writable layer and its state.
// With KeepState the writable layer stays with the record, as a stopped
// docker container's does, for a restart, diff, export or commit, until
// the record is removed (RemoveWritableLayer). Calling it again does
// nothing.
func (c *Container) Destroy() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil
	}
	c.destroyed = true
	var errs []error
	if c.cmd != nil {
		// PID 1 gone takes the whole pid namespace with it.
		c.cmd.Process.Kill()
		c.Wait()
	}
	if c.conn != nil {
		c.conn.Close()
	}
	// The sandbox's directory (with KeepState all but the writable layer)
	// goes while the network and the cgroup do: they do not depend on each
	// other, and on a busy host each takes milliseconds (unlinking a tree;
	// a cgroup's rmdir waiting for the kernel).
	dirGone := make(chan error, 1)
	go func() { dirGone <- removeDir(c.dir, !c.cfg.KeepState) }()
	if c.cfg.Hooks.OnDestroy != nil {
		if err := c.cfg.Hooks.OnDestroy(c.sb); err != nil {
			errs = append(errs, err)
		}
	}
	if c.cg != nil {
		// Anything that escaped the pid namespace's end (it cannot, but a
		// cgroup must be empty to be removed).
		if err := c.cg.Kill(); err != nil {
			errs = append(errs, err)
		}
		if err := c.cg.Delete(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, removeShortLinks(c.cfg.Roots, c.sb.ID))
	errs = append(errs, <-dirGone)
	if !c.cfg.KeepState {
		errs = append(errs, c.store.Remove(c.sb.ID))
	}
	err := errors.Join(errs...)
	if c.cfg.KeepState || err != nil {
		c.ownLock.Release() // the record stays, or prune finds the rest by the lock file
		return err
	}
	return c.ownLock.Remove()
}

// removeDir removes a sandbox's directory dir below the containers root
// and, with all, the writable layer in it (dir/upper). Without all the
// writable layer stays with the record: only what a start makes anew goes
// (overlayfs's work directory, the mount point, the /etc files).
func removeDir(dir string, all bool) error {
	if all {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove the writable layer %s: %w", dir, err)
		}
		return nil
	}
	var errs []error
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clean %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.Name() == upperName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("clean %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// upperName is the writable layer's directory in a sandbox's directory.
const upperName = "upper"

// RemoveWritableLayer removes what is left of sandbox id's directory — its
// writable layer above all — once its record goes (rm, --rm, prune). The
// directory is derived from the roots and the id, never from a record.
func RemoveWritableLayer(roots state.Roots, id string) error {
	if !state.IsID(id) {
		return fmt.Errorf("remove the writable layer: bad sandbox id %q", id)
	}
	dir := filepath.Join(roots.ContainersDir(), id)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the writable layer %s: %w", dir, err)
	}
	return nil
}

// workloadPID finds the workload's host PID from its PID inside the
// sandbox (the init's "started" names it): the process in the sandbox's
// cgroup whose innermost NSpid is nsPID. None is no error: a workload
// such as `true` may have exited, and been reaped by the init, before the
// parent looks — the init's "exit" message follows, and 0 is returned.
func (c *Container) workloadPID(nsPID int) (int, error) {
	pids, err := c.cg.Procs()
	if err != nil {
		return 0, err
	}
	for _, pid := range pids {
		if pid != c.sb.InitPID && innermostPID(pid) == nsPID {
			return pid, nil
		}
	}
	return 0, nil
}

// innermostPID is the last field of NSpid in /proc/PID/status: the
// process's PID in its own pid namespace; 0 if it is gone.
func innermostPID(pid int) int {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0
	}
	st, err := p.NewStatus()
	if err != nil || len(st.NSpids) == 0 {
		return 0
	}
	return int(st.NSpids[len(st.NSpids)-1])
}

// diagnose turns a failed start into an explanation where the kernel left
// evidence of one.
func (c *Container) diagnose(err error) error {
	if c.cmd == nil || c.cg == nil {
		return err
	}
	c.cmd.Process.Kill()
	exit, _ := c.Wait()
	n, oerr := c.cg.OOMKills()
	if oerr == nil && n > c.oomBefore {
		return fmt.Errorf("%w: init was OOM-killed: memory limit %s too low?", err, units.BytesSize(float64(c.cfg.Resources.MemoryBytes)))
	}
	if errors.Is(err, errInitDied) && exit != nil {
		return fmt.Errorf("%w: %s", err, exit)
	}
	return err
}

// exitStatus fills in how a workload ended: from the init's (or the joining
// process's) "exit" report when there is one, else from the wait status of
// the process that was waited for (killed itself: 128+signal).
func exitStatus(exit *state.Exit, report *nsinit.Message, ws syscall.WaitStatus) {
	switch {
	case report != nil:
		exit.Code = report.Code
		if report.Signal != 0 {
			exit.Signal = unix.SignalName(syscall.Signal(report.Signal))
		}
	case ws.Signaled():
		exit.Code, exit.Signal = 128+int(ws.Signal()), unix.SignalName(ws.Signal())
	default:
		exit.Code = ws.ExitStatus()
	}
}
