package ui

import (
	"fmt"
	"path/filepath"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// quotaCores is the CPU quota in cores (quota/period), 0 when unlimited.
func quotaCores(s *inspect.Snapshot) float64 {
	c := s.Cgroup.CPU
	if c.QuotaUS.Valid && c.QuotaUS.Value > 0 && c.PeriodUS.Valid && c.PeriodUS.Value > 0 {
		return float64(c.QuotaUS.Value) / float64(c.PeriodUS.Value)
	}
	if s.Sandbox != nil && s.Sandbox.Limits.CPUs > 0 {
		return s.Sandbox.Limits.CPUs
	}
	return 0
}

// memLimit is the memory limit in bytes, 0 when unlimited.
func memLimit(s *inspect.Snapshot) int64 {
	if l := s.Cgroup.Memory.Limit; l.Valid && l.Value > 0 {
		return l.Value
	}
	if s.Sandbox != nil {
		return s.Sandbox.Limits.MemoryBytes
	}
	return 0
}

// ring keeps the last n samples of one figure (a minute at the default
// interval) for the sparklines.
type ring struct {
	buf  []float64
	next int
	full bool
}

func newRing(n int) *ring { return &ring{buf: make([]float64, max(n, 1))} }

func (r *ring) add(v float64) {
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// values returns the samples oldest first.
func (r *ring) values() []float64 {
	if !r.full {
		return append([]float64(nil), r.buf[:r.next]...)
	}
	return append(append([]float64(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

func (r *ring) max() float64 {
	m := 0.0
	for _, v := range r.values() {
		m = max(m, v)
	}
	return m
}

// box is the UI's view of one sandbox: its latest two snapshots, the rates
// between them, its history, and what the UI remembers about it.
type box struct {
	id, name string
	snap     *inspect.Snapshot
	prev     *inspect.Snapshot
	mem, cpu *ring
	err      string
	heldMB   int       // memory the calculator said it holds, answering the stress key
	oomAt    time.Time // when the UI saw the last OOM kill
	oomFrom  int64     // the oom_kill counter before it
	oomTo    int64
	oomStart time.Time // when the run the OOM kill ended had started
	// ignoresTERM is the workload (host PID) told to ignore SIGTERM (key t).
	ignoresTERM int
	// noAnswer are the stress requests that got no answer (ErrNoAnswer)
	// while the UI has not yet seen the OOM kill that explains them.
	noAnswer []actionMsg
	oomSeen  int64 // the highest oom_kill count reported, by snapshot or by the kernel's event
	watching bool  // an OOM watch (OOMWatcher) is open on its cgroup
	gone     bool  // removed
}

func newBox(id, name string, samples int) *box {
	return &box{id: id, name: name, mem: newRing(samples), cpu: newRing(samples)}
}

// record is the sandbox record of the latest snapshot (never nil).
func (b *box) record() *state.Sandbox {
	if b.snap != nil && b.snap.Sandbox != nil {
		return b.snap.Sandbox
	}
	return &state.Sandbox{ID: b.id, Name: b.name}
}

// oomKilled says whether the sandbox's current state is "killed by the OOM killer".
func (b *box) oomKilled() bool {
	sb := b.record()
	return sb.Status == state.Exited && sb.Exit != nil && sb.Exit.OOMKilled
}

// update takes a new snapshot in, returning the events the change implies.
func (b *box) update(s *inspect.Snapshot, at time.Time) []Event {
	if s.Taken.IsZero() {
		s.Taken = at
	}
	var evs []Event
	if b.snap != nil {
		evs = diffEvents(b.name, b.snap, s, b.oomSeen)
	}
	if s.Sandbox != nil && s.Sandbox.Name != "" {
		b.name = s.Sandbox.Name
	}
	if b.snap != nil {
		pk, ck := b.snap.Cgroup.Memory.OOMKills, s.Cgroup.Memory.OOMKills
		e := lastExit(s.Sandbox)
		oomExit := newExit(lastExit(b.snap.Sandbox), e) && e.OOMKilled
		counted := pk.Valid && ck.Valid && ck.Value > max(pk.Value, b.oomSeen)
		if counted || (oomExit && b.oomAt.IsZero()) {
			b.oomAt = s.Taken
			b.oomFrom, b.oomTo = pk.Value, max(ck.Value, pk.Value+1)
			b.oomStart = b.snap.Sandbox.Started // the run the previous snapshot saw: its counter, or its exit

			b.heldMB = 0
		}
		b.oomSeen = max(b.oomSeen, ck.Value)
	}
	b.prev, b.snap = b.snap, s
	if u := s.Cgroup.Memory.Usage; u.Valid {
		b.mem.add(float64(u.Value))
	}
	if c := s.Cgroup.CPU; c.IntervalSeconds > 0 {
		b.cpu.add(c.CoresUsed)
	}
	b.err = ""
	return evs
}

// kernelOOM takes in the kernel's word of an OOM kill in the box's cgroup
// (OOMWatcher), at once rather than at the next snapshot; it returns the
// event to log, or false when a snapshot told it already.
func (b *box) kernelOOM(ev inspect.OOMEvent) (Event, bool) {
	if !ev.Killed || ev.OOMKills <= b.oomSeen {
		return Event{}, false
	}
	from := b.oomSeen
	if b.snap != nil && b.snap.Cgroup.Memory.OOMKills.Valid {
		from = max(from, b.snap.Cgroup.Memory.OOMKills.Value)
	}
	b.oomAt, b.oomFrom, b.oomTo, b.oomSeen = ev.Time, from, ev.OOMKills, ev.OOMKills
	b.oomStart = b.record().Started
	b.heldMB = 0
	return Event{At: ev.Time, Box: b.name, Kind: EvOOM,
		Text: fmt.Sprintf("OOM kill, oom_kill %d→%d (%s)", from, ev.OOMKills, filepath.Base(ev.Source))}, true
}

// earlierRun says whether the OOM kill the UI shows ended an earlier run
// than the sandbox's current one (a restart came since): its oom_kill
// figures are of another cgroup than the one the panels read now.
func (b *box) earlierRun() bool {
	sb := b.record()
	return !b.oomAt.IsZero() && !b.oomStart.Equal(sb.Started)
}
