package lifecycle

// The supervisor's record of its sandbox: what the runtime knows of the
// running sandbox with what only the supervisor knows (restarts, health,
// published ports, pause), written to the store whenever one of them
// changes.

import (
	"fmt"

	"glassbox/sandbox/state"
)

// save writes the record.
func (s *supervisor) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb, err := s.record()
	if err != nil {
		return err
	}
	return s.store.Save(sb)
}

// record is the sandbox's record as of now: what the runtime knows
// (c.State(), or the last record between runs) with what the supervisor
// adds. The caller holds s.mu.
func (s *supervisor) record() (*state.Sandbox, error) {
	var sb *state.Sandbox
	if s.c != nil {
		cp := *s.c.State()
		sb = &cp
	} else if rec, err := s.store.Load(s.spec.ID); err == nil {
		sb = rec
	} else {
		return nil, err
	}
	sb.ID, sb.Name = s.spec.ID, s.spec.Name
	if sb.Image == "" {
		sb.Image = s.cfg.Image
	}
	sb.Detached = true
	sb.SupervisorPID = s.self.PID
	sb.LogPath = s.store.Path(s.spec.ID, logFile)
	sb.Restart = s.policy.String()
	sb.RestartCount = s.restarts
	sb.StopTimeout = s.spec.StopTimeout
	sb.Network.Ports = s.spec.Ports
	if s.c != nil && len(s.ports) == len(s.spec.Ports) {
		sb.Network.Ports = s.ports
	}
	if !s.started.IsZero() {
		sb.Started = s.started
	}
	sb.Health = s.health
	sb.HealthLog = append([]state.HealthProbe(nil), s.healthLog...)
	sb.FailingStreak = s.failingStreak
	sb.RestartedAfter = s.restartedAfter
	to := state.Running
	switch {
	case s.lastExit != nil:
		to = state.Exited
		sb.Exit = s.lastExit
		sb.Health = state.HealthNone
	case s.paused:
		to = state.Paused
	}
	if sb.Status != to {
		if err := sb.Transition(to); err != nil {
			return nil, fmt.Errorf("record %s: %w", s.spec.Name, err)
		}
	}
	if to != state.Exited {
		sb.Exit = nil
	}
	return sb, nil
}
