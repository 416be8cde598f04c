package ui

import (
	"fmt"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// EventKind sorts events for their marker on screen.
type EventKind string

const (
	EvState   EventKind = "state"
	EvHealth  EventKind = "health"
	EvOOM     EventKind = "oom"
	EvRestart EventKind = "restart"
	EvSignal  EventKind = "signal"
	EvAction  EventKind = "action"
	EvError   EventKind = "error"
)

// Event is one line of the events panel.
type Event struct {
	At   time.Time
	Box  string
	Kind EventKind
	Text string
}

// maxEvents bounds the log kept in memory.
const maxEvents = 200

// diffEvents says what changed between two snapshots of one sandbox: the
// runtime's record (status, health, exit, restarts) and the kernel's OOM
// counter (memory.oom_control oom_kill on v1, memory.events oom_kill on v2).
//
// seenOOM is the oom_kill count the UI already knows of (from the kernel's
// event, see OOMWatcher): a counter that only catches up with it is no news.
func diffEvents(name string, prev, cur *inspect.Snapshot, seenOOM int64) []Event {
	at := cur.Taken
	var evs []Event
	add := func(k EventKind, f string, a ...any) {
		evs = append(evs, Event{At: at, Box: name, Kind: k, Text: fmt.Sprintf(f, a...)})
	}
	pk, ck := prev.Cgroup.Memory.OOMKills, cur.Cgroup.Memory.OOMKills
	ps, cs := prev.Sandbox, cur.Sandbox
	if from := max(pk.Value, seenOOM); pk.Valid && ck.Valid && ck.Value > from {
		run := ""
		if ps != nil && cs != nil && !ps.Started.Equal(cs.Started) {
			run = " in " + words.RunStarted(ps.Started)
		}
		add(EvOOM, "OOM killer killed %d process(es) at the memory limit (oom_kill %d→%d%s)", ck.Value-from, from, ck.Value, run)
	}
	if ps == nil || cs == nil {
		return evs
	}
	exited, restarted := false, false
	if e := lastExit(cs); newExit(lastExit(ps), e) {
		kind := EvState
		if e.OOMKilled {
			kind = EvOOM
		}
		add(kind, "%s", e)
		exited = true
	}
	if cs.RestartCount > ps.RestartCount {
		add(EvRestart, "restarted by policy %q (restart count %d), in a fresh cgroup", words.Policy(cs), cs.RestartCount)
		restarted = true
	}
	// A change of state the exit or the restart just told is not news.
	told := (exited && cs.Status == state.Exited) || (restarted && cs.Status.Live())
	if cs.Status != ps.Status && !told {
		add(EvState, "state %s → %s", ps.Status, cs.Status)
	}
	if cs.Health != ps.Health && cs.Health != state.HealthNone {
		if n := len(cs.HealthLog); n > 0 {
			// The probe that decided it, as in docker inspect's health log.
			add(EvHealth, "health %s → %s, last %s", orNone(string(ps.Health)), cs.Health, words.HealthProbe(cs.HealthLog[n-1]))
		} else {
			add(EvHealth, "health %s → %s", orNone(string(ps.Health)), cs.Health)
		}
	}
	return evs
}

// lastExit is the workload's last exit: the one it is in, or, when the
// restart policy has brought it back (perhaps between two refreshes, so
// that no snapshot saw it exited), the one it was restarted after.
func lastExit(sb *state.Sandbox) *state.Exit {
	if sb == nil {
		return nil
	}
	if sb.Exit != nil {
		return sb.Exit
	}
	return sb.RestartedAfter
}

// newExit says whether cur is an exit that prev (seen before) was not.
func newExit(prev, cur *state.Exit) bool {
	return cur != nil && (prev == nil || !prev.FinishedAt.Equal(cur.FinishedAt))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// eventMarker is the event's kind in a word, so that it reads without colour.
func eventMarker(k EventKind) string {
	switch k {
	case EvOOM:
		return "OOM!"
	case EvRestart:
		return "restart"
	case EvSignal:
		return "signal"
	case EvHealth:
		return "health"
	case EvError:
		return "error"
	case EvAction:
		return "action"
	default:
		return "state"
	}
}
