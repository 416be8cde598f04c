package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Panel is one of the focusable panels.
type Panel int

const (
	PanelNamespaces Panel = iota
	PanelProcesses
	PanelLayers
	PanelResources
	PanelEvents
	numPanels
)

func (p Panel) String() string {
	return [...]string{"Namespaces", "Processes", "Layers", "Resources", "Events"}[p]
}

// frame draws a panel: a border with the title in its top edge, the content
// inside cut or padded to exactly w×h cells. The focused panel has a heavy
// border and a ▶ before its title, so focus shows without colour too.
func frame(st *Styles, title string, focused bool, content []string, w, h int) string {
	if w < 4 || h < 2 {
		return ""
	}
	tl, tr, bl, br, hz, vt := "╭", "╮", "╰", "╯", "─", "│"
	bs := st.r.NewStyle().Foreground(st.Panel.GetBorderTopForeground())
	ts := st.PanelTitle
	if focused {
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
		bs = st.r.NewStyle().Foreground(st.PanelFocus.GetBorderTopForeground())
		ts = st.FocusTitle
		title = "▶ " + title
	}
	inner := w - 4
	title = cut(title, max(w-6, 0))
	top := bs.Render(tl+hz) + " " + ts.Render(title) + " " + bs.Render(strings.Repeat(hz, max(w-5-ansi.StringWidth(title), 0))+tr)
	var b strings.Builder
	b.WriteString(top)
	content = clampLines(content, h-2)
	// The side edges are the same on every line: styled once, not per line.
	left, right := bs.Render(vt)+" ", " "+bs.Render(vt)
	b.Grow(len(top) + h*(len(left)+len(right)+4*w))
	for i := 0; i < h-2; i++ {
		line := ""
		if i < len(content) {
			line = content[i]
		}
		b.WriteString("\n")
		b.WriteString(left)
		b.WriteString(fit(line, inner))
		b.WriteString(right)
	}
	b.WriteString("\n" + bs.Render(bl+strings.Repeat(hz, w-2)+br))
	return b.String()
}

// sideBySide joins two blocks of equal height line by line.
func sideBySide(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	n := max(len(la), len(lb))
	out := make([]string, n)
	for i := range n {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		out[i] = x + y
	}
	return strings.Join(out, "\n")
}
