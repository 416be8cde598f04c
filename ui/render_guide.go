package ui

import (
	"strings"
)

// How a guide's pane (a lesson step) shares the screen:
//
//   - beside a student's terminal: the pane on top, the usual panels below
//     with the step's panel focused;
//   - for a projector (GuidePane.Presenter), or a terminal too short for
//     both: one panel at a time, the step in large type above it, its
//     narration in full, and the lesson's keys at the bottom.
//
// Whatever covers the panels (help, the comparison, the Image view) keeps
// the whole screen but the pane's status and keys, so that a step done on
// such a screen still says so.

// guided draws the screen with the guide's pane.
func (m Model) guided(w, h int) string {
	p := *m.pane
	pane := renderGuidePane(m.c.st, p, w)
	if m.overlay != overlayNone || m.img != nil {
		tail := guideTail(m.c.st, p, w)
		return strings.Join(append([]string{m.body(w, h-len(tail))}, tail...), "\n")
	}
	if p.Presenter || h-len(pane) < minHeight {
		return m.presenter(p, w, h)
	}
	return strings.Join(append(pane, m.body(w, h-len(pane))), "\n")
}

// stateMark is a step's state in a glyph and a word, readable without colour.
func stateMark(st *Styles, s GuideState) string {
	switch s {
	case GuideDone, GuideFinished:
		return st.Good.Render("✓")
	case GuideFailed:
		return st.Bad.Render("✗")
	case GuideSkipped:
		return st.Warn.Render("⊘")
	}
	return st.Accent.Render("…")
}

// guideBody is the step's text for w cells: the narration, the question,
// what to do, and (unless short) the state and the hint.
func guideBody(st *Styles, p GuidePane, w int, short bool) []string {
	var out []string
	for _, n := range p.Narration {
		out = append(out, wrap(n, w)...)
	}
	if p.Predict != "" {
		q := wrap("Predict first: "+p.Predict, w)
		for _, l := range q {
			out = append(out, st.Warn.Render(l))
		}
	}
	if p.Hold {
		out = append(out, st.Dim.Render("(answer first, then space shows what to do)"))
	} else if p.Do != "" {
		label := "Do:   "
		if p.DoKey {
			label = "Key:  "
		}
		for i, l := range wrap(p.Do, w-len(label)) {
			if i > 0 {
				label = strings.Repeat(" ", len(label))
			}
			out = append(out, st.Label.Render(label)+st.Key.Render(l))
		}
	}
	if !short {
		tail := guideTail(st, p, w)
		out = append(out, tail[:len(tail)-1]...)
		if p.Hint != "" {
			for _, l := range wrap("Hint: "+p.Hint, w) {
				out = append(out, st.Dim.Render(l))
			}
		}
	}
	return out
}

// guideTail is the pane's last lines: the step's state (what the check
// saw: up to three lines) and the keys.
func guideTail(st *Styles, p GuidePane, w int) []string {
	var out []string
	for i, l := range clampLines(wrap(p.Status, w-2), 3) {
		mark := "  "
		if i == 0 {
			mark = stateMark(st, p.State) + " "
		}
		out = append(out, fit(mark+l, w))
	}
	return append(out, fit(st.Footer.Render(p.Keys), w))
}

// renderGuidePane is the student's pane: a framed step above the panels.
func renderGuidePane(st *Styles, p GuidePane, w int) []string {
	inner := w - 4
	body := append([]string{st.Title.Render(cut(p.Title, inner))}, guideBody(st, p, inner, false)...)
	body = append(body, st.Footer.Render(cut(p.Keys, inner)))
	return strings.Split(frame(st, "Lesson · "+p.Heading, true, body, w, len(body)+2), "\n")
}

// presenter lays out one step for a projector: large type, the narration
// in full, the step's panel alone below it.
func (m Model) presenter(p GuidePane, w, h int) string {
	st := m.c.st
	out := []string{fit(st.Dim.Render(cut("glassbox learn · "+p.Heading, w)), w)}
	if big, ok := bigText(p.Title, w-2); ok && h >= 30 {
		for _, l := range big {
			out = append(out, fit(" "+st.Title.Render(l), w))
		}
	} else {
		out = append(out, fit(" "+st.Title.Render(strings.ToUpper(cut(p.Title, w-2))), w))
	}
	out = append(out, "")
	for _, l := range guideBody(st, p, w-2, true) {
		out = append(out, fit(" "+l, w))
	}
	tail := guideTail(st, p, w)
	if p.Hint != "" {
		tail = append(wrapStyled(st, "Hint: "+p.Hint, w), tail...)
	}
	b := m.focused()
	banner := renderBanner(st, b, m.stops, m.confirm, m.now, w)
	panelH := h - len(out) - len(banner) - len(tail)
	if panelH >= 4 {
		out = append(out, banner...)
		out = append(out, m.onePanel(w, panelH))
	} else {
		out = append(out, banner...)
	}
	return strings.Join(append(out, tail...), "\n")
}

func wrapStyled(st *Styles, s string, w int) []string {
	var out []string
	for _, l := range wrap(s, w) {
		out = append(out, fit(st.Dim.Render(l), w))
	}
	return out
}

// panelTitles are the panels' titles, as the grid shows them.
var panelTitles = [numPanels]string{
	PanelNamespaces: "Namespaces (host vs sandbox)",
	PanelProcesses:  "Processes (host PID → sandbox PID)",
	PanelLayers:     "Layers (overlay stack)",
	PanelResources:  "Resources (cgroup)",
	PanelEvents:     "Events",
}

// onePanel draws the focused panel alone at w×h, titled with the sandbox
// it shows.
func (m Model) onePanel(w, h int) string {
	st, b := m.c.st, m.focused()
	var content []string
	switch m.focus {
	case PanelNamespaces:
		content = renderNamespaces(st, m.boxes, m.cur, w-4, 0)
	case PanelProcesses:
		content = renderProcesses(st, b, w-4, 0)
	case PanelLayers:
		content = renderLayers(st, b, w-4, 0)
	case PanelResources:
		content = renderResources(st, b, w-4, 0)
	default:
		content = renderEvents(st, m.events, w-4, h-2)
	}
	title := panelTitles[min(m.focus, numPanels-1)]
	if b != nil && m.focus != PanelEvents {
		title += " · " + b.name
	}
	return frame(st, title, true, content, w, h)
}
