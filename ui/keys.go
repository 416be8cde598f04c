package ui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is the one keymap: Update matches against it and the ? screen is
// generated from it, so the two cannot drift apart. Plain keys only — no
// ctrl chords — so that a class can follow along on a projector.
type KeyMap struct {
	StressMem  key.Binding
	ReleaseMem key.Binding
	BurnCPU    key.Binding
	Calculate  key.Binding
	CopyUp     key.Binding
	Pause      key.Binding
	Stop       key.Binding
	Kill       key.Binding
	New        key.Binding
	Remove     key.Binding
	Restart    key.Binding
	IgnoreTERM key.Binding
	Compare    key.Binding
	Shell      key.Binding
	SideBySide key.Binding
	Logs       key.Binding
	Env        key.Binding
	NextPanel  key.Binding
	PrevPanel  key.Binding
	NextBox    key.Binding
	PrevBox    key.Binding
	PickBox    key.Binding
	Explain    key.Binding
	Image      key.Binding
	Help       key.Binding
	Quit       key.Binding
	Yes        key.Binding
	No         key.Binding

	// In a full-screen view (help, explain, A/B, logs, environment).
	ScrollDown  key.Binding
	ScrollUp    key.Binding
	PageDown    key.Binding
	PageUp      key.Binding
	Top         key.Binding
	Bottom      key.Binding
	NextB       key.Binding
	HealthPolls key.Binding

	// footerWords are ShortHelp's descriptions cut to a word for the footer.
	footerWords map[string]string
}

// DefaultKeyMap is glassbox's keymap; one press of the stress key asks for
// stressMB more MiB.
func DefaultKeyMap(stressMB int) KeyMap {
	return KeyMap{
		StressMem:  key.NewBinding(key.WithKeys("m"), key.WithHelp("m", fmt.Sprintf("stress memory (+%d MiB per press)", stressMB))),
		ReleaseMem: key.NewBinding(key.WithKeys("M", "r"), key.WithHelp("M/r", "release the stressed memory")),
		BurnCPU:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "burn CPU (2 workers, 10 s)")),
		Calculate:  key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "send /calculate (shows processed_by)")),
		CopyUp:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "copy-up: append a byte to the biggest lower file")),
		Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause / unpause (cgroup freezer)")),
		Stop:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stop: SIGTERM, grace period, SIGKILL")),
		Kill:       key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill now (SIGKILL)")),
		New:        key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "start a new calculator sandbox")),
		Remove:     key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "remove the sandbox (asks first)")),
		Restart:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "start a stopped sandbox again; restart a running one")),
		IgnoreTERM: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "make the calculator ignore SIGTERM: then s shows the grace run out and SIGKILL")),
		Compare:    key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "VM vs sandbox: boot the calculator in a micro-VM, measure both live")),
		Shell:      key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "open a shell inside (glassbox exec -it; exit comes back here)")),
		SideBySide: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "A vs B: two sandboxes side by side (b again: the next B)")),
		Logs:       key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "the workload's log, followed live")),
		Env:        key.NewBinding(key.WithKeys("$"), key.WithHelp("$", "the workload's environment: image ENV, -e overrides")),
		NextPanel:  key.NewBinding(key.WithKeys("tab", "right", "down", "l", "j"), key.WithHelp("tab/→", "focus next panel")),
		PrevPanel:  key.NewBinding(key.WithKeys("shift+tab", "left", "up", "h", "k"), key.WithHelp("shift+tab/←", "focus previous panel")),
		NextBox:    key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next sandbox")),
		PrevBox:    key.NewBinding(key.WithKeys("["), key.WithHelp("[", "previous sandbox")),
		PickBox:    key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "pick sandbox by number")),
		Explain:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "explain the focused panel in full")),
		Image:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "Image view: layers, files, waste, copy-up")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "this help")),
		Quit:       key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q", "quit (sandboxes keep running)")),
		Yes:        key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:         key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),

		ScrollDown:  key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down a line")),
		ScrollUp:    key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up a line")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", " "), key.WithHelp("pgdn/space", "scroll down a page")),
		PageUp:      key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll up a page")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "to the top")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "to the end (the log follows it)")),
		NextB:       key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "A vs B: the next sandbox as B (1-9 picks A)")),
		HealthPolls: key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "log: show or hide the supervisor's /health polls")),
		footerWords: map[string]string{
			"m": fmt.Sprintf("+%dMiB", stressMB), "M/r": "release", "c": "cpu burn", "x": "calculate",
			"p": "pause", "s": "stop", "b": "A/B", "L": "log", "$": "env", "tab/→": "focus", "?": "help", "q": "quit",
			"R": "start again", "d": "remove",
		},
	}
}

// ShortHelp is the footer line.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.StressMem, k.ReleaseMem, k.BurnCPU, k.Calculate, k.Pause, k.Stop, k.NextPanel, k.SideBySide, k.Logs, k.Env, k.Help, k.Quit}
}

// stoppedHelp is the footer line under a stopped sandbox: the keys that
// poke a workload have none to poke; starting it again and removing it
// are what is left to do.
func (k KeyMap) stoppedHelp() []key.Binding {
	return []key.Binding{k.Restart, k.Remove, k.NextPanel, k.SideBySide, k.Logs, k.Env, k.Help, k.Quit}
}

// footer is ShortHelp (stoppedHelp under a stopped sandbox) with
// one-word descriptions.
func (k KeyMap) footer(stopped bool) []key.Binding {
	binds := k.ShortHelp()
	if stopped {
		binds = k.stoppedHelp()
	}
	var out []key.Binding
	for _, b := range binds {
		h := b.Help()
		out = append(out, key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(h.Key, k.footerWords[h.Key])))
	}
	return out
}

// FullHelp is the ? screen, grouped: poke the workload, drive the lifecycle, move around.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.StressMem, k.ReleaseMem, k.BurnCPU, k.Calculate, k.CopyUp},
		{k.Pause, k.Stop, k.IgnoreTERM, k.Kill, k.Restart, k.New, k.Remove, k.Shell, k.Compare},
		{k.NextPanel, k.PrevPanel, k.NextBox, k.PrevBox, k.PickBox, k.SideBySide, k.Logs, k.Env, k.Explain, k.Image, k.Help, k.Quit},
		{k.ScrollDown, k.ScrollUp, k.PageDown, k.PageUp, k.Top, k.Bottom, k.NextB, k.HealthPolls},
	}
}

// helpGroups names FullHelp's groups on the ? screen.
var helpGroups = []string{"poke the workload", "lifecycle", "move around", "in a full-screen view (help, explain, A vs B, log, environment)"}
