package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// A screen with Options.ReadOnly (a replay) offers the keys that would
// change a sandbox — or start one, or measure one — as unavailable: still
// on screen, in the footer and on the ? screen, with the reason.

// changing are the bindings of k that change the machine.
func (k *KeyMap) changing() []*key.Binding {
	return []*key.Binding{&k.StressMem, &k.ReleaseMem, &k.BurnCPU, &k.Calculate, &k.CopyUp, &k.Pause,
		&k.Stop, &k.IgnoreTERM, &k.Kill, &k.Restart, &k.New, &k.Remove, &k.Compare, &k.Shell, &k.Image}
}

// unavailable marks the changing keys as unavailable, saying why.
func (k KeyMap) unavailable(why string) KeyMap {
	words := make(map[string]string, len(k.footerWords))
	for h, w := range k.footerWords {
		words[h] = w
	}
	for _, b := range k.changing() {
		h := b.Help()
		b.SetHelp(h.Key, h.Desc+" — unavailable: "+why)
		if w, ok := words[h.Key]; ok {
			words[h.Key] = "✗" + w
		}
	}
	k.footerWords = words
	return k
}

// Changes says whether a key would change a sandbox (or start or measure
// one): what a read-only screen refuses.
func (m Model) Changes(msg tea.KeyMsg) bool {
	k := m.c.keys
	for _, b := range k.changing() {
		if key.Matches(msg, *b) {
			return true
		}
	}
	return false
}

// WithStatus sets the status line (a replay's word on a refused key).
func (m Model) WithStatus(s string) Model {
	m.status = s
	return m
}

// Navigates says whether a key only moves around the screen (focus, the
// sandbox shown, help and explain): what a replay's viewer may do for
// themselves.
func (m Model) Navigates(msg tea.KeyMsg) bool {
	k := m.c.keys
	for _, b := range []key.Binding{k.NextPanel, k.PrevPanel, k.NextBox, k.PrevBox, k.PickBox, k.Explain, k.Help,
		k.SideBySide, k.Logs, k.Env} {
		if key.Matches(msg, b) {
			return true
		}
	}
	return msg.Type == tea.KeyEsc && m.overlay != overlayCompare
}
