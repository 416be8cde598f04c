package ui

import (
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
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

// sandboxKey acts on the focused sandbox: poke its calculator, drive its
// lifecycle, open a shell in it.
func (m Model) sandboxKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.c.keys
	if len(m.boxes) == 0 {
		m.status = "no sandbox: press n to start one"
		return m, nil
	}
	b := m.boxes[m.cur]
	id, a := b.id, m.opt.Actions
	sb := b.record()
	if sb.Engine != "" && actionKey(k, msg) {
		m.status = fmt.Sprintf("%s is %s's container: glassbox only reads it (change it with %s's own tools)", b.name, sb.Engine, engineTool(sb.Engine))
		return m, nil
	}
	switch {
	case key.Matches(msg, k.StressMem):
		mb := m.opt.StressMB
		m.status = fmt.Sprintf("asking %s to hold %d MiB more…", b.name, mb)
		return m, m.act(b, EvAction, "stress memory", func() (string, int, string, error) {
			held, err := a.StressMemory(id, mb)
			if err != nil {
				return "", -1, "", err
			}
			return fmt.Sprintf("stress memory +%d MiB: the calculator holds %d MiB", mb, held), held, "", err
		})
	case key.Matches(msg, k.ReleaseMem):
		return m, m.act(b, EvAction, "release memory", func() (string, int, string, error) {
			held, err := a.ReleaseMemory(id)
			if err != nil {
				return "", -1, "", err
			}
			return fmt.Sprintf("released the stressed memory: the calculator holds %d MiB", held), held, "", err
		})
	case key.Matches(msg, k.BurnCPU):
		return m, m.act(b, EvAction, "CPU burn", func() (string, int, string, error) {
			return "CPU burn: 2 workers for 10 s", -1, "", a.BurnCPU(id, 10, 2)
		})
	case key.Matches(msg, k.Image):
		if m.opt.Images == nil {
			m.status = "the Image view is not available here"
			return m, nil
		}
		return m.openImage(id)
	case key.Matches(msg, k.CopyUp):
		m.status = "appending 1 byte to the biggest file of " + b.name + "'s lower layers…"
		return m, m.act(b, EvAction, "copy-up", func() (string, int, string, error) {
			path, size, err := a.CopyUp(id, "")
			return fmt.Sprintf("copy-up: 1 byte appended to %s made overlayfs copy all %s of it into the upper layer first (i shows it)", path, words.Bytes(size)), -1, "", err
		})
	case key.Matches(msg, k.Calculate):
		return m, m.act(b, EvAction, "/calculate", func() (string, int, string, error) {
			res, by, err := a.Calculate(id)
			return fmt.Sprintf("/calculate add 1+2 = %s, processed_by %s", res, by), -1, "", err
		})
	case key.Matches(msg, k.Pause):
		if sb.Status == state.Paused {
			return m, m.act(b, EvSignal, "unpause", func() (string, int, string, error) {
				return "thawed (cgroup freezer)", -1, "", a.Unpause(id)
			})
		}
		return m, m.act(b, EvSignal, "pause", func() (string, int, string, error) {
			return "frozen (cgroup freezer)", -1, "", a.Pause(id)
		})
	case key.Matches(msg, k.Stop):
		if _, busy := m.stops[id]; busy {
			return m, nil
		}
		grace := sb.StopTimeout
		if grace <= 0 {
			grace = 10 * time.Second
		}
		since := m.opt.Clock()
		m.stops[id] = stopping{since: since, timeout: grace}
		m.logEvent(Event{At: since, Box: b.name, Kind: EvSignal, Text: fmt.Sprintf("SIGTERM sent (grace %s, then SIGKILL)", grace)})
		clock := m.opt.Clock
		return m, tea.Batch(countdown(), m.act(b, EvSignal, "stop", func() (string, int, string, error) {
			sig, err := a.Stop(id, grace)
			return words.StopEnded(sig, grace, clock().Sub(since)), -1, "", err
		}))
	case key.Matches(msg, k.IgnoreTERM):
		return m, m.act(b, EvAction, "ignore SIGTERM", func() (string, int, string, error) {
			grace := sb.StopTimeout
			if grace <= 0 {
				grace = 10 * time.Second
			}
			return words.IgnoresTERM(grace), -1, "", a.IgnoreSIGTERM(id)
		})
	case key.Matches(msg, k.Restart):
		grace := sb.StopTimeout
		if grace <= 0 {
			grace = 10 * time.Second
		}
		stopped := sb.Status == state.Exited
		doing, _ := words.StartAgain(stopped, grace)
		verb := "restart"
		if stopped {
			verb = "start"
		}
		m.status = b.name + ": " + doing
		src := m.opt.Source
		return m, m.act(b, EvState, verb, func() (string, int, string, error) {
			// The screen may be a refresh behind (a stop that just
			// ended): what is said done follows the record as the
			// action finds it, as the engine's choice does.
			if cur := lookup(src, id); cur != nil {
				stopped = cur.Status == state.Exited
			}
			_, done := words.StartAgain(stopped, grace)
			return done, -1, "", a.Restart(id)
		})
	case key.Matches(msg, k.Kill):
		m.logEvent(Event{At: m.opt.Clock(), Box: b.name, Kind: EvSignal, Text: "SIGKILL sent"})
		return m, m.act(b, EvSignal, "kill", func() (string, int, string, error) {
			return "killed (SIGKILL)", -1, "", a.Kill(id)
		})
	case key.Matches(msg, k.Remove):
		m.confirm = id
		return m, nil
	case key.Matches(msg, k.Shell):
		return m, m.shell(b)
	}
	return m, nil
}

// shell suspends the UI and runs a shell inside the sandbox in this
// terminal; the UI comes back when it exits, with the exit in the events.
func (m Model) shell(b *box) tea.Cmd {
	id, name, clock := b.id, b.name, m.opt.Clock
	cmd, err := m.opt.Actions.Shell(id)
	if err != nil {
		return func() tea.Msg {
			return actionMsg{at: clock(), id: id, name: name, kind: EvAction, text: "shell", err: err, held: -1}
		}
	}
	return tea.ExecProcess(cmd, func(err error) tea.Msg {
		text := "shell (glassbox exec -it " + name + " sh) ended"
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			text, err = fmt.Sprintf("%s: exit %d", text, ee.ExitCode()), nil
			if ee.ExitCode() == 127 {
				text += " (no sh in this image?)"
			}
		}
		return actionMsg{at: clock(), id: id, name: name, kind: EvAction, text: text, err: err, held: -1}
	})
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

// actionKey says whether a key would change a sandbox (or ask its
// calculator to): the keys not offered for another engine's container.
func actionKey(k KeyMap, msg tea.KeyMsg) bool {
	for _, b := range []key.Binding{k.StressMem, k.ReleaseMem, k.BurnCPU, k.Calculate, k.Pause, k.Stop, k.IgnoreTERM, k.Kill, k.Restart, k.Remove, k.Shell} {
		if key.Matches(msg, b) {
			return true
		}
	}
	return false
}

// engineTool is the command that drives an engine's containers.
func engineTool(engine string) string {
	switch engine {
	case "k8s":
		return "kubectl"
	case "containerd":
		return "ctr"
	}
	return engine
}

// lookup is the record of sandbox id as src has it now; nil when it
// cannot say.
func lookup(src Source, id string) *state.Sandbox {
	if src == nil {
		return nil
	}
	all, err := src.List()
	if err != nil {
		return nil
	}
	for _, sb := range all {
		if sb.ID == id {
			return sb
		}
	}
	return nil
}
