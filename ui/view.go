package ui

import (
	"fmt"
	"strings"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// View draws the whole screen from the model's state; it does no I/O.
func (m Model) View() string {
	if m.quitting {
		return ""
	}
	w, h := m.c.width, m.c.height
	if w == 0 || h == 0 {
		return "glassbox: reading the kernel's view…"
	}
	if w < minWidth || h < minHeight {
		return renderTooSmall(w, h)
	}
	if m.pane != nil {
		return m.guided(w, h) // a lesson's pane beside the panels (render_guide.go)
	}
	return m.body(w, h)
}

// body is the screen at w×h: the panels, or what covers them.
func (m Model) body(w, h int) string {
	if m.img != nil {
		return m.img.view(w, h)
	}
	switch m.overlay {
	case overlayHelp:
		return renderHelp(m.c.st, m.c.keys, m.scroll, w, h)
	case overlayExplain:
		return renderExplainFull(m.c.st, m.focus, m.focusedSnap(), m.scroll, w, h)
	case overlayCompare:
		return renderCompare(m.c.st, m.cmp, m.now, w, h)
	case overlayAB:
		return m.renderAB(w, h)
	case overlayLog:
		return m.renderLog(w, h)
	case overlayEnv:
		return m.renderEnv(w, h)
	}
	return m.screen(w, h)
}

// overlayLen is the number of lines of the full-screen view that scrolls,
// and how many of them fit on screen at once; n is -1 for a view that does
// not scroll.
func (m Model) overlayLen() (n, page int) {
	w, h := m.c.width, m.c.height
	page = h - 2 // inside the frame
	switch m.overlay {
	case overlayHelp:
		return len(helpLines(m.c.st, m.c.keys, w-4)), page
	case overlayExplain:
		return len(explainLines(m.c.st, m.focus, m.focusedSnap(), w-4)), page
	case overlayLog:
		return len(m.logLines(w - 4)), m.logPage(h)
	case overlayEnv:
		return len(m.envLines(w - 4)), page
	}
	return -1, 0
}

func (m Model) focused() *box {
	if len(m.boxes) == 0 {
		return nil
	}
	return m.boxes[m.cur]
}

func (m Model) focusedSnap() *inspect.Snapshot {
	return m.focused().snapOrNil()
}

// screen lays the panels out in a 2×3 grid under the header: h = 0 lets
// every panel take the height it needs (for --once).
func (m Model) screen(w, h int) string {
	st := m.c.st
	b := m.focused()
	header := renderHeader(st, m.boxes, m.cur, m.now, w)
	banner := renderBanner(st, b, m.stops, m.confirm, m.now, w)
	footer := m.footer(w, h)
	if h > 0 && h <= 30 && len(m.boxes) <= 1 {
		header = header[:2] // the row of sandboxes says nothing with one
	}

	left, right := w/2, w-w/2
	ns := renderNamespaces(st, m.boxes, m.cur, left-4, 0)
	pr := renderProcesses(st, b, right-4, 0)
	la := renderLayers(st, b, left-4, 0)
	re := renderResources(st, b, right-4, 0)
	ex := renderExplain(st, m.focus, b.snapOrNil(), right-4, 0)
	need1 := max(len(ns), len(pr)) + 2
	need2 := max(len(la), len(re)) + 2
	var h1, h2, h3 int
	if h == 0 {
		h1, h2 = need1, need2
		h3 = max(min(len(m.events), 12), len(ex), 1) + 2
	} else {
		avail := h - len(header) - len(banner) - len(footer)
		h2 = min(need2, avail-8)
		h1 = min(need1, avail-h2-4)
		h3 = avail - h1 - h2
		if h3 > 12 && need1 > h1 {
			h1 = min(need1, h1+h3-12)
			h3 = avail - h1 - h2
		}
	}
	if h > 0 {
		ns = renderNamespaces(st, m.boxes, m.cur, left-4, h1-2)
	}
	ev := renderEvents(st, m.events, left-4, h3-2)
	if h > 0 && len(ex) > h3-2 {
		ex = clampHint(st, ex, h3-2, "e shows it all")
	}
	focus := m.focus
	if m.once {
		focus = numPanels // nothing focused
	}
	rows := []string{
		sideBySide(frame(st, "Namespaces (host vs sandbox)", focus == PanelNamespaces, ns, left, h1),
			frame(st, "Processes (host PID → sandbox PID)", focus == PanelProcesses, pr, right, h1)),
		sideBySide(frame(st, "Layers (overlay stack)", focus == PanelLayers, la, left, h2),
			frame(st, "Resources (cgroup)", focus == PanelResources, re, right, h2)),
		sideBySide(frame(st, "Events", focus == PanelEvents, ev, left, h3),
			frame(st, "Explain: "+m.focus.String(), false, ex, right, h3)),
	}
	parts := append(append(header, banner...), rows...)
	parts = append(parts, footer...)
	return strings.Join(parts, "\n")
}

func (b *box) snapOrNil() *inspect.Snapshot {
	if b == nil {
		return nil
	}
	return b.snap
}

// renderBanner is the line (or two) above the panels for what must not be
// missed: an OOM kill, a stop in progress, a paused sandbox, a question.
func renderBanner(st *Styles, b *box, stops map[string]stopping, confirm string, now time.Time, w int) []string {
	if b == nil {
		return nil
	}
	sb := b.record()
	bar := func(s string) string { return st.Banner.Render(fit(s, w)) }
	if confirm == b.id {
		what := "it has stopped"
		if sb.Status.Live() {
			what = "it is " + string(sb.Status) + " and will be killed first"
		}
		return []string{bar(fmt.Sprintf(" REMOVE %s (%s)? %s. Press y to remove, n to keep it.", b.name, sb.ID, what))}
	}
	if b.oomKilled() || b.recentOOM(now) {
		limit := "its memory limit"
		if b.snap != nil {
			if l := memLimit(b.snap); l > 0 {
				limit = "its " + words.Bytes(l) + " memory limit"
			}
		}
		exit := &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true} // what the kernel's event means
		if e := lastExit(sb); e != nil && e.OOMKilled {
			exit = e
		}
		l1 := fmt.Sprintf(" ⚠ OOM KILLED: %s hit %s and the kernel's OOM killer sent SIGKILL", b.name, limit)
		parts := []string{exit.String()}
		if b.oomTo > b.oomFrom {
			run := ""
			if b.earlierRun() {
				run = " in " + words.RunStarted(b.oomStart)
			}
			parts = append(parts, fmt.Sprintf("oom_kill %d→%d%s", b.oomFrom, b.oomTo, run))
		}
		switch {
		case sb.Status == "running" && sb.RestartCount > 0:
			parts = append(parts, fmt.Sprintf("restart policy %s started it again at %s (restart count %d)", words.Policy(sb), sb.Started.Format("15:04:05"), sb.RestartCount))
		case sb.Status == "exited":
			parts = append(parts, fmt.Sprintf("not restarted (policy %s): R starts it again, d removes it", words.Policy(sb)))
		default:
			parts = append(parts, "the event is in the log below; r releases the memory still held")
		}
		out := []string{bar(l1)}
		for _, l := range joinWrapped(parts, " · ", w-1) {
			out = append(out, bar(" "+l))
		}
		return out
	}
	if s, ok := stops[b.id]; ok {
		left := s.timeout - now.Sub(s.since)
		if left < 0 {
			left = 0
		}
		deaf := ""
		if b.ignoresTERM != 0 && b.ignoresTERM == sb.WorkloadPID {
			deaf = " (it ignores it: t)"
		}
		var out []string
		for _, l := range joinWrapped([]string{fmt.Sprintf("STOPPING %s: SIGTERM sent %s ago%s", b.name, words.Span(now.Sub(s.since)), deaf),
			fmt.Sprintf("SIGKILL in %s if it has not exited", words.Span(left.Round(time.Second)))}, "; ", w-1) {
			out = append(out, bar(" "+l))
		}
		return out
	}
	if sb.Status == "paused" {
		return []string{bar(fmt.Sprintf(" PAUSED: %s's processes are frozen by the cgroup freezer; p thaws them", b.name))}
	}
	return nil
}
