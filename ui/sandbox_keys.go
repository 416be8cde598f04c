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

// sandboxAction is a key that acts on the focused sandbox. A new UI action
// is a method of Actions (api.go, implemented in cmd/glassbox), its
// binding in the KeyMap (keys.go, which also puts it on the ? screen), and
// a row of sandboxActions.
type sandboxAction struct {
	binding func(KeyMap) key.Binding
	// changes: the key changes the sandbox, or asks its workload to. It is
	// refused for another engine's container, which glassbox only reads.
	changes bool
	do      func(m Model, b *box, sb *state.Sandbox) (tea.Model, tea.Cmd)
}

var sandboxActions = []sandboxAction{
	{func(k KeyMap) key.Binding { return k.StressMem }, true, Model.stressMemory},
	{func(k KeyMap) key.Binding { return k.ReleaseMem }, true, Model.releaseMemory},
	{func(k KeyMap) key.Binding { return k.BurnCPU }, true, Model.burnCPU},
	{func(k KeyMap) key.Binding { return k.Calculate }, true, Model.calculate},
	{func(k KeyMap) key.Binding { return k.CopyUp }, true, Model.copyUp},
	{func(k KeyMap) key.Binding { return k.Image }, false, Model.image},
	{func(k KeyMap) key.Binding { return k.Pause }, true, Model.pause},
	{func(k KeyMap) key.Binding { return k.Stop }, true, Model.stop},
	{func(k KeyMap) key.Binding { return k.IgnoreTERM }, true, Model.ignoreTERM},
	{func(k KeyMap) key.Binding { return k.Restart }, true, Model.restart},
	{func(k KeyMap) key.Binding { return k.Kill }, true, Model.kill},
	{func(k KeyMap) key.Binding { return k.Remove }, true, Model.remove},
	{func(k KeyMap) key.Binding { return k.Shell }, true, Model.openShell},
}

// sandboxKey acts on the focused sandbox: poke its calculator, drive its
// lifecycle, look at its image, open a shell in it.
func (m Model) sandboxKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if len(m.boxes) == 0 {
		m.status = "no sandbox: press n to start one"
		return m, nil
	}
	b := m.boxes[m.cur]
	sb := b.record()
	for _, a := range sandboxActions {
		if !key.Matches(msg, a.binding(m.c.keys)) {
			continue
		}
		if a.changes && sb.Engine != "" {
			m.status = fmt.Sprintf("%s is %s's container: glassbox only reads it (change it with %s's own tools)", b.name, sb.Engine, engineTool(sb.Engine))
			return m, nil
		}
		return a.do(m, b, sb)
	}
	return m, nil
}

// stopGrace is the sandbox's grace period between SIGTERM and SIGKILL.
func stopGrace(sb *state.Sandbox) time.Duration {
	if sb.StopTimeout <= 0 {
		return 10 * time.Second // the engine's default
	}
	return sb.StopTimeout
}

func (m Model) stressMemory(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	mb, a, id := m.opt.StressMB, m.opt.Actions, b.id
	m.status = fmt.Sprintf("asking %s to hold %d MiB more…", b.name, mb)
	return m, m.act(b, EvAction, "stress memory", func() (string, int, string, error) {
		held, err := a.StressMemory(id, mb)
		if err != nil {
			return "", -1, "", err
		}
		return fmt.Sprintf("stress memory +%d MiB: the calculator holds %d MiB", mb, held), held, "", err
	})
}

func (m Model) releaseMemory(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	return m, m.act(b, EvAction, "release memory", func() (string, int, string, error) {
		held, err := a.ReleaseMemory(id)
		if err != nil {
			return "", -1, "", err
		}
		return fmt.Sprintf("released the stressed memory: the calculator holds %d MiB", held), held, "", err
	})
}

func (m Model) burnCPU(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	return m, m.act(b, EvAction, "CPU burn", func() (string, int, string, error) {
		return "CPU burn: 2 workers for 10 s", -1, "", a.BurnCPU(id, 10, 2)
	})
}

func (m Model) calculate(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	return m, m.act(b, EvAction, "/calculate", func() (string, int, string, error) {
		res, by, err := a.Calculate(id)
		return fmt.Sprintf("/calculate add 1+2 = %s, processed_by %s", res, by), -1, "", err
	})
}

func (m Model) copyUp(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	m.status = "appending 1 byte to the biggest file of " + b.name + "'s lower layers…"
	return m, m.act(b, EvAction, "copy-up", func() (string, int, string, error) {
		path, size, err := a.CopyUp(id, "")
		return fmt.Sprintf("copy-up: 1 byte appended to %s made overlayfs copy all %s of it into the upper layer first (i shows it)", path, words.Bytes(size)), -1, "", err
	})
}

func (m Model) image(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	if m.opt.Images == nil {
		m.status = "the Image view is not available here"
		return m, nil
	}
	return m.openImage(b.id)
}

func (m Model) pause(b *box, sb *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	if sb.Status == state.Paused {
		return m, m.act(b, EvSignal, "unpause", func() (string, int, string, error) {
			return "thawed (cgroup freezer)", -1, "", a.Unpause(id)
		})
	}
	return m, m.act(b, EvSignal, "pause", func() (string, int, string, error) {
		return "frozen (cgroup freezer)", -1, "", a.Pause(id)
	})
}

func (m Model) stop(b *box, sb *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	if _, busy := m.stops[id]; busy {
		return m, nil
	}
	grace := stopGrace(sb)
	since := m.opt.Clock()
	m.stops[id] = stopping{since: since, timeout: grace}
	m.logEvent(Event{At: since, Box: b.name, Kind: EvSignal, Text: fmt.Sprintf("SIGTERM sent (grace %s, then SIGKILL)", grace)})
	clock := m.opt.Clock
	return m, tea.Batch(countdown(), m.act(b, EvSignal, "stop", func() (string, int, string, error) {
		sig, err := a.Stop(id, grace)
		return words.StopEnded(sig, grace, clock().Sub(since)), -1, "", err
	}))
}

func (m Model) ignoreTERM(b *box, sb *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id, grace := m.opt.Actions, b.id, stopGrace(sb)
	return m, m.act(b, EvAction, "ignore SIGTERM", func() (string, int, string, error) {
		return words.IgnoresTERM(grace), -1, "", a.IgnoreSIGTERM(id)
	})
}

func (m Model) restart(b *box, sb *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id, grace := m.opt.Actions, b.id, stopGrace(sb)
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
}

func (m Model) kill(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	a, id := m.opt.Actions, b.id
	m.logEvent(Event{At: m.opt.Clock(), Box: b.name, Kind: EvSignal, Text: "SIGKILL sent"})
	return m, m.act(b, EvSignal, "kill", func() (string, int, string, error) {
		return "killed (SIGKILL)", -1, "", a.Kill(id)
	})
}

// remove asks first (confirmKey answers).
func (m Model) remove(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	m.confirm = b.id
	return m, nil
}

func (m Model) openShell(b *box, _ *state.Sandbox) (tea.Model, tea.Cmd) {
	return m, m.shell(b)
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
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code, err = ee.ExitCode(), nil
		}
		text := words.ShellEnded(name, code)
		return actionMsg{at: clock(), id: id, name: name, kind: EvAction, text: text, err: err, held: -1}
	})
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
