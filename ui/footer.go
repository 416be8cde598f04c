package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"glassbox/sandbox/state"
)

// footer is the status of the last action and the short key help. However
// narrow the terminal, the help key and the quit key stay in view: the
// other keys give way first, then the status.
func (m Model) footer(w, h int) []string {
	st := m.c.st
	if m.once {
		return []string{st.Dim.Render(cut("glassbox top --once · "+m.now.UTC().Format(time.RFC3339)+" · live: glassbox top", w))}
	}
	status := m.status
	if status == "" {
		status = fmt.Sprintf("refreshing every %s", m.opt.Interval)
	}
	b := m.focused()
	binds := m.c.keys.footer(b != nil && b.record().Status == state.Exited)
	if h < 30 {
		// Short terminals: one line, the status first, cut to leave room
		// for at least the keys that must stay.
		must := keyLine(st, binds, 0)
		room := max(w-ansi.StringWidth(must)-2, 0)
		s := cut(status, min(room, max(w/2, room-40)))
		left := st.Accent.Render(s) + "  "
		return []string{fit(left+keyLine(st, binds, w-ansi.StringWidth(left)), w)}
	}
	return []string{fit(st.Accent.Render(cut(status, w)), w), fit(keyLine(st, binds, w), w)}
}

// keyLine renders key bindings as "m +64MiB • c cpu burn • … • ? help • q
// quit" in at most w cells: the last two (help and quit) always, the others
// from the first while they fit. w ≤ 0 gives the two alone.
func keyLine(st *Styles, binds []key.Binding, w int) string {
	if len(binds) < 2 {
		return ""
	}
	render := func(b key.Binding) string {
		h := b.Help()
		return st.Key.Render(h.Key) + " " + st.Footer.Render(h.Desc)
	}
	sep := st.Footer.Render(" • ")
	must := binds[len(binds)-2:]
	tail := render(must[0]) + sep + render(must[1])
	var parts []string
	used := ansi.StringWidth(tail)
	for _, b := range binds[:len(binds)-2] {
		r := render(b)
		n := ansi.StringWidth(r) + 3
		if used+n > w {
			break
		}
		parts = append(parts, r)
		used += n
	}
	return strings.Join(append(parts, tail), sep)
}
