package ui

import (
	"fmt"
	"strings"
	"time"

	"glassbox/ui/words"
)

// The A vs B view (key b): two sandboxes side by side, each with its PID 1,
// its namespaces, its memory and CPU against its own limits, its processes
// and its events, so that what one goes through (an OOM kill, a stop) is
// seen beside the other carrying on. A is the focused sandbox (1-9 picks
// it, and the action keys act on it); B is the next one, running ones
// first (b steps through them).

// abPair is the pair on screen: A the focused sandbox, B the one chosen
// with b while it is still shown, else the first other one, running first.
func (m Model) abPair() (a, b *box) {
	a = m.focused()
	if a == nil {
		return nil, nil
	}
	others := m.bCandidates(a)
	for _, o := range others {
		if o.id == m.abB {
			return a, o
		}
	}
	if len(others) > 0 {
		return a, others[0]
	}
	return a, nil
}

// bCandidates are the sandboxes other than a, the running and paused ones
// first: a dead sandbox is the last choice for a comparison.
func (m Model) bCandidates(a *box) []*box {
	var live, ended []*box
	for _, o := range m.boxes {
		switch {
		case o == a:
		case o.record().Status.Live():
			live = append(live, o)
		default:
			ended = append(ended, o)
		}
	}
	return append(live, ended...)
}

// nextB makes the next candidate B.
func (m *Model) nextB() {
	a, b := m.abPair()
	others := m.bCandidates(a)
	if len(others) == 0 {
		return
	}
	next := others[0]
	for i, o := range others {
		if o == b {
			next = others[(i+1)%len(others)]
		}
	}
	m.abB = next.id
}

// renderAB draws the A vs B view.
func (m Model) renderAB(w, h int) string {
	st := m.c.st
	a, b := m.abPair()
	title := st.Title.Render("A vs B") + st.Dim.Render(": two sandboxes, one kernel · b next B · 1-9 pick A · keys act on A · esc back")
	footer := m.footer(w, h)
	bottom := abFacts(st, a, b, m.now, w)
	colH := h - 1 - len(bottom) - len(footer)
	left, right := w/2, w-w/2
	colA := frame(st, "A: "+abTitle(a), true, abColumn(st, a, m.events, m.now, left-4, colH-2), left, colH)
	var colB string
	if b == nil {
		colB = frame(st, "B: none", false, []string{st.Dim.Render("no other sandbox: n starts one")}, right, colH)
	} else {
		colB = frame(st, "B: "+abTitle(b), false, abColumn(st, b, m.events, m.now, right-4, colH-2), right, colH)
	}
	parts := append([]string{fit(title, w), sideBySide(colA, colB)}, bottom...)
	return strings.Join(append(parts, footer...), "\n")
}

// abTitle is a column's title: the sandbox and its state in a word.
func abTitle(b *box) string {
	if b == nil {
		return "none"
	}
	word := string(b.record().Status)
	if b.oomKilled() {
		word = "OOMKilled"
	}
	return b.name + " (" + word + ")"
}

// abColumn is one sandbox's column, h lines at most: what must be seen
// first, then its processes, then its latest events.
func abColumn(st *Styles, b *box, evs []Event, now time.Time, w, h int) []string {
	if b == nil {
		return nil
	}
	if b.snap == nil {
		return []string{st.Dim.Render("no snapshot yet")}
	}
	sb := b.record()
	var out []string
	switch {
	case b.oomKilled():
		out = append(out, st.Bad.Render(cut("OOM KILLED: "+words.State(sb), w)))
	case sb.Status.Live():
		line := string(sb.Status)
		if !sb.Started.IsZero() {
			line += ", up " + words.Span(now.Sub(sb.Started))
		}
		if sb.Health != "" {
			line += ", " + string(sb.Health)
		}
		out = append(out, st.stateStyle(sb)(cut(line, w)))
	default:
		out = append(out, st.stateStyle(sb)(cut("ended: "+words.State(sb), w)))
	}
	if sb.Status.Live() {
		out = append(out, fmt.Sprintf("PID 1 = host %d", b.snap.PID))
		ns := nsByKind(b.snap)
		if n, ok := ns["pid"]; ok {
			out = append(out, cut(fmt.Sprintf("pid ns %d · net ns %d", n.Inode, ns["net"].Inode), w))
		}
	} else {
		if e := sb.Exit; e != nil && !e.FinishedAt.IsZero() {
			out = append(out, cut(fmt.Sprintf("ended %s ago; its PID 1 was host %d", words.Span(now.Sub(e.FinishedAt)), b.snap.PID), w))
		} else {
			out = append(out, fmt.Sprintf("its PID 1 was host %d", b.snap.PID))
		}
		out = append(out, st.Dim.Render(cut("its namespaces went with its last process", w)))
	}
	out = append(out, memSection(st, b, w)...)
	out = append(out, cpuSection(st, b, w)...)
	out = append(out, sparkSection(st, b, w)...)
	var procs []string
	if len(b.snap.Processes) > 0 {
		procs = processRows(st, b, false)
	} else {
		procs = []string{st.Dim.Render("no processes")}
	}
	mine := eventsOf(evs, b.name)
	room := h - len(out)
	if len(mine) > 0 {
		room -= min(len(mine), 3) + 1 // keep a few events in view
	}
	out = append(out, clampLines(procs, max(room, 1))...)
	if left := h - len(out) - 1; left > 0 && len(mine) > 0 {
		out = append(out, st.Label.Render("events"))
		out = append(out, renderEvents(st, mine, w, left)...)
	}
	return out
}

// eventsOf are the events of one sandbox.
func eventsOf(evs []Event, name string) []Event {
	var out []Event
	for _, e := range evs {
		if e.Box == name {
			out = append(out, e)
		}
	}
	return out
}

// abFacts are the lines under the two columns: who PID 1 is on each side,
// what the two share (one kernel) and what they do not.
func abFacts(st *Styles, a, b *box, now time.Time, w int) []string {
	if a == nil || a.snap == nil {
		return nil
	}
	facts := pidOneWords([]*box{a, b}, []string{"A", "B"})
	var notes []string
	if b != nil && b.snap != nil {
		if k := a.snap.UTS.KernelRelease; k != "" {
			notes = append(notes, "one kernel "+k+" for both (uname -r inside = the host's)")
		}
		an, bn := nsByKind(a.snap)["pid"], nsByKind(b.snap)["pid"]
		if an.Inode != 0 && bn.Inode != 0 {
			notes = append(notes, fmt.Sprintf("own PID namespaces: %d ≠ %d", an.Inode, bn.Inode))
		}
		for _, p := range [][2]*box{{a, b}, {b, a}} {
			hit, other := p[0], p[1]
			if (hit.oomKilled() || hit.recentOOM(now)) && other.record().Status.Live() {
				notes = append(notes, fmt.Sprintf("%s carries on: the OOM kill stayed inside %s's cgroup", other.name, hit.name))
			}
		}
	}
	out := joinWrapped(facts, " · ", w)
	for _, l := range wrap(strings.Join(notes, " · "), w) {
		out = append(out, st.Dim.Render(l))
	}
	for i := range out {
		out[i] = fit(out[i], w)
	}
	return out
}
