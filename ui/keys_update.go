package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// handleKey maps a key to a state change or an action (a tea.Cmd), by the
// mode the screen is in: a comparison running, a question asked, an
// overlay open, or the panels — where a key moves around (screenKey) or
// acts on the focused sandbox (sandboxKey).
func (m Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case m.overlay == overlayCompare:
		return m.compareKey(msg) // it stops a running comparison first
	case msg.Type == tea.KeyCtrlC:
		m.quitting = true
		return m, tea.Quit
	case m.confirm != "":
		return m.confirmKey(msg)
	case m.overlay != overlayNone:
		next, cmd, done := m.overlayKey(msg)
		if done || !next.overlay.actsOnSandbox() {
			return next, cmd
		}
		return next.sandboxKey(msg) // the A vs B and log views leave the action keys to act
	}
	if next, cmd, ok := m.screenKey(msg); ok {
		return next, cmd
	}
	return m.sandboxKey(msg)
}

// confirmKey answers the removal question: y removes, n keeps.
func (m Model) confirmKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k, id := m.c.keys, m.confirm
	switch {
	case key.Matches(msg, k.Yes):
		m.confirm = ""
		if b := m.boxByID(id); b != nil {
			m.status = "removing " + b.name + "…"
			return m, m.act(b, EvState, "remove", func() (string, int, string, error) {
				return "removed", -1, "", m.opt.Actions.Remove(id)
			})
		}
	case key.Matches(msg, k.No):
		m.confirm = ""
		m.status = "not removed"
	}
	return m, nil
}

// overlayKey handles a key in a full-screen view: close it, scroll it,
// and the view's own keys. done is false for a key the A vs B, log and
// environment views leave to the action keys.
func (m Model) overlayKey(msg tea.KeyMsg) (Model, tea.Cmd, bool) {
	k := m.c.keys
	o := m.overlay
	switch {
	case msg.Type == tea.KeyEsc,
		key.Matches(msg, k.Help) && o == overlayHelp,
		key.Matches(msg, k.Explain) && o == overlayExplain,
		key.Matches(msg, k.Logs) && o == overlayLog,
		key.Matches(msg, k.Env) && o == overlayEnv:
		m.closeOverlay()
		return m, nil, true
	case key.Matches(msg, k.Quit):
		m.quitting = true
		return m, tea.Quit, true
	case key.Matches(msg, k.Help):
		m.closeOverlay()
		m.overlay = overlayHelp
		return m, nil, true
	}
	switch o {
	case overlayAB:
		switch {
		case key.Matches(msg, k.NextB):
			m.nextB()
			return m, nil, true
		case key.Matches(msg, k.NextBox), key.Matches(msg, k.PrevBox), key.Matches(msg, k.PickBox):
			m.pickBox(msg)
			return m, nil, true
		}
		return m, nil, false
	case overlayLog:
		if key.Matches(msg, k.HealthPolls) {
			m.log.showPolls = !m.log.showPolls
			return m, nil, true
		}
	}
	if n, page := m.overlayLen(); n >= 0 {
		if off, ok := scrollKey(k, msg, m.scroll, page, n); ok {
			m.scroll = off
			if o == overlayLog {
				// At the end the log follows what is written; scrolled
				// up, it stays where the reader is.
				m.log.follow = off >= clampOffset(n, n, page)
			}
			return m, nil, true
		}
	}
	return m, nil, !o.actsOnSandbox()
}

// closeOverlay goes back to the main screen.
func (m *Model) closeOverlay() {
	if m.overlay == overlayLog {
		m.closeLog()
	}
	m.overlay, m.scroll = overlayNone, 0
}

// screenKey handles the keys that need no sandbox: quit, overlays, focus,
// switching sandboxes, starting a new one. ok is false for the others.
func (m Model) screenKey(msg tea.KeyMsg) (_ Model, _ tea.Cmd, ok bool) {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		return m, tea.Quit, true
	case key.Matches(msg, k.Help):
		m.overlay, m.scroll = overlayHelp, 0
	case key.Matches(msg, k.Explain):
		m.overlay, m.scroll = overlayExplain, 0
	case key.Matches(msg, k.Compare):
		next, cmd := m.startCompare()
		return next, cmd, true
	case key.Matches(msg, k.SideBySide):
		m.overlay, m.scroll = overlayAB, 0
	case key.Matches(msg, k.Env):
		m.overlay, m.scroll = overlayEnv, 0
	case key.Matches(msg, k.Logs):
		next, cmd := m.openLog()
		return next, cmd, true
	case key.Matches(msg, k.NextPanel):
		m.focus = (m.focus + 1) % numPanels
	case key.Matches(msg, k.PrevPanel):
		m.focus = (m.focus + numPanels - 1) % numPanels
	case key.Matches(msg, k.NextBox), key.Matches(msg, k.PrevBox), key.Matches(msg, k.PickBox):
		m.pickBox(msg)
	case key.Matches(msg, k.New):
		m.status = "starting a new calculator sandbox…"
		acts, clock := m.opt.Actions, m.opt.Clock
		return m, func() tea.Msg {
			name, err := acts.Start()
			label, text := name, "started"
			if err != nil {
				label, text = "new sandbox", "start"
			}
			return actionMsg{at: clock(), id: name, name: label, kind: EvState, text: text, err: err, added: name, held: -1}
		}, true
	default:
		return m, nil, false
	}
	return m, nil, true
}

// pickBox moves the focus to another sandbox: ] and [ step, 1-9 pick.
func (m *Model) pickBox(msg tea.KeyMsg) {
	k := m.c.keys
	if len(m.boxes) == 0 {
		return
	}
	switch {
	case key.Matches(msg, k.NextBox):
		m.cur = (m.cur + 1) % len(m.boxes)
	case key.Matches(msg, k.PrevBox):
		m.cur = (m.cur + len(m.boxes) - 1) % len(m.boxes)
	case key.Matches(msg, k.PickBox):
		if i := int(msg.Runes[0] - '1'); i < len(m.boxes) {
			m.cur = i
		}
	}
}

// act runs f off the UI's goroutine and reports its result as an actionMsg.
// f returns the text to log, the stressed memory now held (-1: unchanged),
// a sandbox it created, and its error.
func (m Model) act(b *box, kind EventKind, verb string, f func() (string, int, string, error)) tea.Cmd {
	id, name, clock := b.id, b.name, m.opt.Clock
	asked := clock()
	return func() tea.Msg {
		text, held, added, err := f()
		if err != nil {
			text = verb
		}
		return actionMsg{at: clock(), asked: asked, verb: verb, id: id, name: name, kind: kind, text: text, err: err, added: added, held: held}
	}
}
