package lifecycle

import (
	"fmt"

	"glassbox/sandbox/state"
)

// The lifecycle of a sandbox, as a state machine:
//
//	created ──start──▶ running ──pause──▶ paused
//	   │                 │ ▲ ◀──unpause──   │
//	   │ start failed    │ └──restart─┐     │ killed while paused
//	   ▼                 ▼            │     ▼
//	 exited ◀────────── exit ─────── exited ◀┘
//	   │
//	   └──rm──▶ removed
//
// A sandbox that exited can run again (restart policy, `glassbox restart`):
// it starts afresh with the same id, name and configuration.
var legal = map[state.Status][]state.Status{
	state.Created: {state.Running, state.Exited, state.Removed},
	state.Running: {state.Paused, state.Exited},
	state.Paused:  {state.Running, state.Exited},
	state.Exited:  {state.Running, state.Removed},
	state.Removed: nil,
}

// TransitionError is an illegal move in the lifecycle, e.g. pausing a
// sandbox that has exited.
type TransitionError struct {
	Name     string
	From, To state.Status
}

func (e *TransitionError) Error() string {
	who := e.Name
	if who == "" {
		who = "sandbox"
	}
	switch {
	case e.From == e.To:
		return fmt.Sprintf("%s is already %s", who, e.From)
	case e.To == state.Paused && e.From != state.Running:
		return fmt.Sprintf("cannot pause %s: it is %s, not running", who, e.From)
	case e.To == state.Running && e.From == state.Running:
		return fmt.Sprintf("%s is already running", who)
	case e.To == state.Removed:
		return fmt.Sprintf("cannot remove %s: it is %s; stop it first or force the removal (rm -f)", who, e.From)
	case e.From == state.Removed:
		return fmt.Sprintf("%s has been removed", who)
	}
	return fmt.Sprintf("cannot move %s from %s to %s", who, e.From, e.To)
}

// canTransition says whether the lifecycle allows moving from one status to another.
func canTransition(from, to state.Status) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

// transition moves the record to a new status, or refuses an illegal move
// and leaves the record as it was.
func transition(sb *state.Sandbox, to state.Status) error {
	if !canTransition(sb.Status, to) {
		return &TransitionError{Name: sb.Name, From: sb.Status, To: to}
	}
	sb.Status = to
	return nil
}
