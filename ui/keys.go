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
	Compare    key.Binding
	Shell      key.Binding
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
		Compare:    key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "VM vs sandbox: boot the calculator in a micro-VM, measure both live")),
		Shell:      key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "open a shell inside (glassbox exec -it; exit comes back here)")),
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
		footerWords: map[string]string{
			"m": fmt.Sprintf("+%dMiB", stressMB), "M/r": "release", "c": "cpu burn", "x": "calculate",
			"p": "pause", "s": "stop", "tab/→": "focus", "?": "help", "q": "quit",
		},
	}
}

// ShortHelp is the footer line.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.StressMem, k.ReleaseMem, k.BurnCPU, k.Calculate, k.Pause, k.Stop, k.NextPanel, k.Help, k.Quit}
}

// footer is ShortHelp with one-word descriptions.
func (k KeyMap) footer() []key.Binding {
	var out []key.Binding
	for _, b := range k.ShortHelp() {
		h := b.Help()
		out = append(out, key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(h.Key, k.footerWords[h.Key])))
	}
	return out
}

// FullHelp is the ? screen, grouped: poke the workload, drive the lifecycle, move around.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.StressMem, k.ReleaseMem, k.BurnCPU, k.Calculate, k.CopyUp},
		{k.Pause, k.Stop, k.Kill, k.New, k.Remove, k.Compare, k.Shell},
		{k.NextPanel, k.PrevPanel, k.NextBox, k.PrevBox, k.PickBox, k.Explain, k.Image, k.Help, k.Quit},
	}
}

// helpGroups names FullHelp's groups on the ? screen.
var helpGroups = []string{"poke the workload", "lifecycle", "move around"}
