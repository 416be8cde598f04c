package sandbox

import (
	"fmt"

	"glassbox/sandbox/state"
)

// legal are the status changes the runtime itself makes:
//
//	created ──workload started──▶ running ──workload ended──▶ exited
//	   └──────────start failed──────────────────────────────────▲
//
// The lifecycle engine (sandbox/lifecycle) extends this machine with
// paused and removed; this table only grows (add moves, never remove them).
var legal = map[state.Status][]state.Status{
	state.Created: {state.Running, state.Exited},
	state.Running: {state.Exited},
	state.Exited:  nil,
}

// transition moves the record to a new status, or refuses an illegal move
// and leaves the record unchanged.
func transition(sb *state.Sandbox, to state.Status) error {
	for _, s := range legal[sb.Status] {
		if s == to {
			sb.Status = to
			return nil
		}
	}
	return fmt.Errorf("sandbox %s: cannot move from %q to %q", sb.ID, sb.Status, to)
}
