package lifecycle

import (
	"fmt"
	"syscall"
	"time"

	"glassbox/sandbox/state"
)

// A sandbox of a foreground `glassbox run` has no supervisor: that process
// owns it, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to
// the workload, and removes everything when the workload ends. Stop and
// Kill act through it; the cgroup is the fallback that always works.

// stopForeground sends SIGTERM to the owning `glassbox run` (which passes
// it on), waits up to timeout for the run to end, then kills every process
// of the sandbox's cgroup.
func (e *Engine) stopForeground(sb *state.Sandbox, timeout time.Duration) (StopResult, error) {
	res := StopResult{Name: sb.Name, Timeout: timeout, Signal: "SIGTERM"}
	owner := Process{PID: sb.SupervisorPID}
	t0 := time.Now()
	if timeout > 0 {
		if err := syscall.Kill(owner.PID, syscall.SIGTERM); err != nil {
			return res, fmt.Errorf("stop %s: signal its glassbox run (pid %d): %w", sb.Name, owner.PID, err)
		}
		if e.waitOwner(sb, timeout) {
			res.After = time.Since(t0)
			return res, nil
		}
	}
	res.Signal = "SIGKILL"
	if err := e.killCgroup(sb); err != nil {
		return res, err
	}
	if !e.waitOwner(sb, 15*time.Second) {
		return res, fmt.Errorf("stop %s: its glassbox run (pid %d) did not exit", sb.Name, owner.PID)
	}
	res.After = time.Since(t0)
	return res, nil
}

// killForeground: SIGKILL goes to every process of the cgroup; other
// signals to the owning `glassbox run`, which forwards them.
func (e *Engine) killForeground(sb *state.Sandbox, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		return e.killCgroup(sb)
	}
	if err := syscall.Kill(sb.SupervisorPID, sig); err != nil {
		return fmt.Errorf("send %s to %s through its glassbox run (pid %d): %w", SignalName(sig), sb.Name, sb.SupervisorPID, err)
	}
	return nil
}

func (e *Engine) killCgroup(sb *state.Sandbox) error {
	m, err := loadCgroup(e.Roots, sb.ID)
	if err != nil {
		return fmt.Errorf("kill %s: %w", sb.Name, err)
	}
	if err := m.Kill(); err != nil {
		return fmt.Errorf("kill %s: %w", sb.Name, err)
	}
	return nil
}
