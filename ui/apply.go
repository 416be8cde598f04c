package ui

import (
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect"
	"glassbox/ui/words"
)

// How messages change the model: snapshots in, action results in.

func (m *Model) boxByID(id string) *box {
	for _, b := range m.boxes {
		if b.id == id {
			return b
		}
	}
	return nil
}

func (m *Model) logEvent(e Event) {
	m.events = append(m.events, e)
	if len(m.events) > maxEvents {
		m.events = m.events[len(m.events)-maxEvents:]
	}
}

// applySnapshots folds one round of snapshots into the boxes, logging what changed.
func (m *Model) applySnapshots(msg snapshotsMsg) {
	if msg.at.After(m.now) {
		m.now = msg.at
	}
	for _, s := range msg.snaps {
		if s.Sandbox == nil {
			continue
		}
		b := m.boxByID(s.Sandbox.ID)
		if b == nil {
			b = newBox(s.Sandbox.ID, s.Sandbox.Name, m.samples)
			m.boxes = append(m.boxes, b)
		}
		for _, e := range b.update(s, msg.at) {
			m.logEvent(e)
		}
		m.explainNoAnswer(b, msg.at)
		if sb := s.Sandbox; !sb.Status.Live() {
			delete(m.stops, b.id)
		}
	}
	for ref, err := range msg.errs {
		if ref == "" {
			m.status = "list sandboxes: " + err
			continue
		}
		b := m.boxByID(ref)
		if b == nil {
			for _, x := range m.boxes {
				if x.name == ref {
					b = x
				}
			}
		}
		if b != nil {
			b.err = err
		} else if !m.reported(ref) {
			m.logEvent(Event{At: msg.at, Box: ref, Kind: EvError, Text: err})
		}
	}
	// A watched sandbox the listing lacks was removed: no error, and no
	// asking for it again.
	for _, ref := range msg.missing {
		m.refs = remove(m.refs, ref)
	}
	// A sandbox that disappeared from the list was removed.
	if msg.list != nil {
		for _, b := range m.boxes {
			found := false
			for _, sb := range msg.list {
				found = found || sb.ID == b.id
			}
			if !found && !b.gone {
				b.gone = true
				m.refs = remove(m.refs, b.id, b.name)
				m.logEvent(Event{At: msg.at, Box: b.name, Kind: EvState, Text: "removed"})
			}
		}
		m.dropGone()
	}
}

// noAnswerWait is how long a request that got no answer waits for the OOM
// kill that would explain it before it is told as a plain failure: the
// supervisor records the exit within a refresh or two.
const noAnswerWait = 3 * time.Second

// explainNoAnswer tells the requests that got no answer: after an OOM kill
// the UI saw since they were asked, as the kill's consequence; after
// noAnswerWait without one, as failures.
func (m *Model) explainNoAnswer(b *box, now time.Time) {
	var waiting []actionMsg
	for _, a := range b.noAnswer {
		switch {
		case !b.oomAt.IsZero() && !b.oomAt.Before(a.asked.Add(-time.Second)):
			text := words.NoAnswerAfterOOM(a.text, b.name)
			m.logEvent(Event{At: maxTime(a.at, b.oomAt), Box: a.name, Kind: EvAction, Text: text})
			m.status = a.name + ": " + text
		case now.Sub(a.at) >= noAnswerWait:
			m.status = fmt.Sprintf("%s: %s failed: %s", a.name, a.text, a.err)
			m.logEvent(Event{At: now, Box: a.name, Kind: EvError, Text: a.text + " failed: " + a.err.Error()})
		default:
			waiting = append(waiting, a)
		}
	}
	b.noAnswer = waiting
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// reported says whether the last event already says the same about ref.
func (m *Model) reported(ref string) bool {
	for i := len(m.events) - 1; i >= 0 && i >= len(m.events)-5; i-- {
		if m.events[i].Box == ref && m.events[i].Kind == EvError {
			return true
		}
	}
	return false
}

func (m *Model) dropGone() {
	kept := m.boxes[:0]
	for _, b := range m.boxes {
		if !b.gone {
			kept = append(kept, b)
		}
	}
	m.boxes = kept
	if m.cur >= len(m.boxes) {
		m.cur = max(len(m.boxes)-1, 0)
	}
}

func (m *Model) applyAction(a actionMsg) {
	if a.at.After(m.now) {
		m.now = a.at
	}
	if b := m.boxByID(a.id); b != nil && a.err != nil && errors.Is(a.err, ErrNoAnswer) {
		// The workload died with the request in flight: if the OOM
		// killer did it, the failure is the kill's consequence and is
		// told after it, once the UI has seen the kill.
		b.noAnswer = append(b.noAnswer, a)
		m.status = fmt.Sprintf("%s: %s got no answer: the workload died mid-request…", a.name, a.text)
		m.explainNoAnswer(b, a.at)
		delete(m.stops, a.id)
		return
	}
	if a.err != nil {
		m.status = fmt.Sprintf("%s: %s failed: %s", a.name, a.text, a.err)
		m.logEvent(Event{At: a.at, Box: a.name, Kind: EvError, Text: a.text + " failed: " + a.err.Error()})
		delete(m.stops, a.id)
		return
	}
	m.status = a.name + ": " + a.text
	if b := m.boxByID(a.id); b != nil && a.held >= 0 {
		b.heldMB = a.held
	}
	if b := m.boxByID(a.id); b != nil && a.verb == "ignore SIGTERM" {
		b.ignoresTERM = b.record().WorkloadPID
	}
	m.logEvent(Event{At: a.at, Box: a.name, Kind: a.kind, Text: a.text})
	if a.added != "" && !contains(m.refs, a.added) {
		m.refs = append(m.refs, a.added)
	}
	if a.kind == EvState && a.text == "removed" {
		if b := m.boxByID(a.id); b != nil {
			b.gone = true
			m.refs = remove(m.refs, a.id, b.name)
			m.dropGone()
		}
	}
	if _, ok := m.stops[a.id]; ok && a.kind == EvSignal && a.text != "SIGTERM sent" {
		delete(m.stops, a.id)
	}
}

func remove(xs []string, drop ...string) []string {
	var out []string
	for _, x := range xs {
		if !contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// watchOOM opens the kernel's OOM watch (OOMWatcher) on every running box
// that has none, each in a command of its own.
func (m *Model) watchOOM() tea.Cmd {
	w, ok := m.opt.Source.(OOMWatcher)
	if !ok {
		return nil
	}
	var cmds []tea.Cmd
	for _, b := range m.boxes {
		sb := b.record()
		if b.watching || b.gone || !sb.Status.Live() {
			continue
		}
		b.watching = true
		id := b.id
		cmds = append(cmds, func() tea.Msg {
			ch, err := w.WatchOOM(sb)
			if err != nil {
				return oomMsg{id: id, err: err}
			}
			return nextOOM(id, ch)()
		})
	}
	return tea.Batch(cmds...)
}

// nextOOM waits for the next word from an OOM watch.
func nextOOM(id string, ch <-chan inspect.OOMEvent) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		return oomMsg{id: id, ev: ev, ch: ch, open: ok}
	}
}

// applyOOM raises the banner on the kernel's word of an OOM kill, and takes
// a round of snapshots at once so that the record's side (the exit, a
// restart) follows.
func (m Model) applyOOM(msg oomMsg) (tea.Model, tea.Cmd) {
	b := m.boxByID(msg.id)
	if msg.err != nil || !msg.open {
		if b != nil {
			b.watching = false // the next snapshot of a running sandbox watches again
		}
		return m, nil
	}
	if b != nil {
		if e, ok := b.kernelOOM(msg.ev); ok {
			if msg.ev.Time.After(m.now) {
				m.now = msg.ev.Time
			}
			m.logEvent(e)
			m.explainNoAnswer(b, m.now)
		}
	}
	take := m.snapshotCmd()
	refresh := func() tea.Msg {
		s := take().(snapshotsMsg)
		s.extra = true
		return s
	}
	return m, tea.Batch(nextOOM(msg.id, msg.ch), refresh)
}

// recentOOM says whether the UI saw an OOM kill in the sandbox in the last minute.
func (b *box) recentOOM(now time.Time) bool {
	return !b.oomAt.IsZero() && now.Sub(b.oomAt) < time.Minute
}
