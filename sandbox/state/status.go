package state

import "fmt"

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
// it starts afresh with the same id, name and configuration. The runtime
// makes the moves created → running → exited; the lifecycle engine the rest.
var legal = map[Status][]Status{
	Created: {Running, Exited, Removed},
	Running: {Paused, Exited},
	Paused:  {Running, Exited},
	Exited:  {Running, Removed},
	Removed: nil,
}

// Live says whether a sandbox in this status has processes: it is running
// or paused (frozen, but there).
func (s Status) Live() bool { return s == Running || s == Paused }

// CanTransition says whether the lifecycle allows moving from one status to
// another.
func CanTransition(from, to Status) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition moves the record to a new status, or refuses an illegal move
// with a TransitionError and leaves the record as it was.
func (sb *Sandbox) Transition(to Status) error {
	if !CanTransition(sb.Status, to) {
		return &TransitionError{Name: sb.Name, From: sb.Status, To: to}
	}
	sb.Status = to
	return nil
}

// TransitionError is an illegal move in the lifecycle, e.g. pausing a
// sandbox that has exited.
type TransitionError struct {
	Name     string
	From, To Status
}

func (e *TransitionError) Error() string {
	who := e.Name
	if who == "" {
		who = "sandbox"
	}
	switch {
	case e.From == e.To:
		return fmt.Sprintf("%s is already %s", who, e.From)
	case e.To == Paused && e.From != Running:
		return fmt.Sprintf("cannot pause %s: it is %s, not running", who, e.From)
	case e.To == Removed:
		return fmt.Sprintf("cannot remove %s: it is %s; stop it first or force the removal (rm -f)", who, e.From)
	case e.From == Removed:
		return fmt.Sprintf("%s has been removed", who)
	}
	return fmt.Sprintf("cannot move %s from %s to %s", who, e.From, e.To)
}
