package words

import (
	"fmt"
	"strings"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// lifecycle reports what the sandbox's owner records about it: since when
// it runs, its health as the image's HEALTHCHECK last found it, who
// supervises it, how it is stopped, and the restart policy with the exit the
// last restart answered. A bare process (inspect --pid) has no such record.
func (r *reporter) lifecycle(s *inspect.Snapshot) {
	sb := s.Sandbox
	if sb == nil {
		return
	}
	r.section("Lifecycle")
	status := string(sb.Status)
	if !sb.Started.IsZero() && (sb.Status.Live()) {
		status += fmt.Sprintf(" since %s (%s)", sb.Started.Local().Format("15:04:05"), s.Taken.Sub(sb.Started).Round(time.Second))
	}
	r.line("  status: %s", status)
	switch sb.Health {
	case state.HealthNone:
		r.line("  health: no health check (the image has no HEALTHCHECK, or the sandbox runs in the foreground)")
	default:
		r.line("  health: %s (the image's HEALTHCHECK, run by the supervisor), failing streak %d", sb.Health, sb.FailingStreak)
	}
	for _, p := range sb.HealthLog {
		r.line("  %s", HealthProbe(p))
	}
	if sb.Detached {
		r.line("  supervisor: PID %d on the host (detached); log %s", sb.SupervisorPID, sb.LogPath)
	} else if sb.SupervisorPID > 0 {
		r.line("  owner: glassbox run, PID %d on the host (foreground)", sb.SupervisorPID)
	}
	if sb.StopTimeout > 0 {
		r.line("  stop: SIGTERM, then SIGKILL after %s", sb.StopTimeout)
	}
	r.line("  limits: %s", Limits(sb.Limits))
	r.line("  ports: %s", Ports(sb.Network.Ports))
	line := fmt.Sprintf("  restart policy: %s, restarted %d time(s)", Policy(sb), sb.RestartCount)
	if a := sb.RestartedAfter; a != nil && sb.RestartCount > 0 {
		line += ", last after " + exitText(a, sb.Limits)
	}
	r.line("%s", line)
	if e := sb.Exit; e != nil && sb.Status == state.Exited {
		r.exited(s, e)
	} else if e != nil {
		r.line("  last exit: %s", exitText(e, sb.Limits))
	}
	if sb.LastEventNote != "" {
		r.line("  note: %s", sb.LastEventNote)
	}
}

// exitText is "Exited (137, SIGKILL, OOMKilled) at 15:04:05: killed by the
// OOM killer: memory limit 32 MiB reached".
func exitText(e *state.Exit, l state.Limits) string {
	s := e.String()
	if !e.FinishedAt.IsZero() {
		s += " at " + e.FinishedAt.Local().Format("15:04:05")
	}
	if why := ExitReason(e, l); why != "" {
		s += ": " + why
	}
	return s
}

// exited is how an exited sandbox ended, field by field, as docker
// inspect's State has them (times in UTC, RFC 3339).
func (r *reporter) exited(s *inspect.Snapshot, e *state.Exit) {
	sb := s.Sandbox
	r.line("  exit: %s", Exit(e))
	if !e.NeverStarted {
		r.line("  exit code: %d", e.Code)
		sig := e.Signal
		if sig == "" {
			sig = "none"
		}
		r.line("  signal: %s", sig)
		r.line("  OOMKilled: %t", e.OOMKilled)
	}
	if !sb.Started.IsZero() {
		r.line("  started at: %s", sb.Started.UTC().Format(time.RFC3339))
	}
	if !e.FinishedAt.IsZero() {
		r.line("  finished at: %s (%s ago)", e.FinishedAt.UTC().Format(time.RFC3339), Ago(s.Taken.Sub(e.FinishedAt)))
	}
	if why := ExitReason(e, sb.Limits); why != "" {
		r.line("  reason: %s", why)
	}
}

// HealthProbe is one line of the health log, as docker inspect's
// State.Health.Log keeps it: when, how long, the exit code and the end of
// the output on one line.
func HealthProbe(p state.HealthProbe) string {
	out := strings.Join(strings.Fields(p.Output), " ")
	if len(out) > 100 {
		out = "…" + out[len(out)-99:]
	}
	if out == "" {
		out = "(no output)"
	}
	return fmt.Sprintf("probe %s (%s): exit %d: %s", p.Start.Local().Format("15:04:05"), p.End.Sub(p.Start).Round(time.Millisecond), p.ExitCode, out)
}
