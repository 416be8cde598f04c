package ui

import (
	"fmt"

	"glassbox/ui/words"
)

// The environment view (key $): the focused sandbox's workload's
// environment as its /proc/PID/environ holds it, each variable with where
// it came from — the image's ENV, or -e (marked where it overrides the
// image's value), or glassbox itself (the hostname, a default PATH).

// envLines are the view's lines, w cells wide.
func (m Model) envLines(w int) []string {
	st := m.c.st
	b := m.focused()
	if b == nil || b.snap == nil {
		return []string{st.Dim.Render("no sandbox to show: press n to start one")}
	}
	s := b.snap
	src := s.Environ.Source
	if src == "" {
		src = "its record (the process could not be read)"
	}
	lines := []string{st.Title.Render(cut("Environment of "+b.name+"'s workload", w)), st.Dim.Render(cut("read from "+src, w)), ""}
	vars := words.Env(s.Environ.Vars, s.Sandbox)
	if len(vars) == 0 {
		return append(lines, st.Dim.Render("no environment to show"))
	}
	keyW, valW, fromW := 4, 5, 4
	for _, v := range vars {
		keyW = max(keyW, min(len(v.Key), 20))
		valW = max(valW, len([]rune(v.Value)))
		fromW = max(fromW, len([]rune(v.From))+2)
	}
	// The value gives way first: the origin is what this view is for.
	valW = max(min(valW, w-keyW-fromW-4), 8)
	fromW = max(w-keyW-valW-4, 4)
	widths := []int{keyW + 2, valW + 2}
	lines = append(lines, st.Label.Render(columns(widths, "KEY", "VALUE", "FROM")))
	overrides := 0
	for _, v := range vars {
		from := v.From
		if v.Overrides {
			from = "◆ " + from
			overrides++
		}
		row := columns(widths, cut(v.Key, keyW), cut(v.Value, valW), cut(from, fromW))
		if v.Overrides {
			row = st.Accent.Render(row)
		}
		lines = append(lines, row)
	}
	note := "The image's ENV gives the defaults; glassbox run -e KEY=VALUE adds a variable or overrides one"
	if overrides > 0 {
		note += fmt.Sprintf(" (◆: %d here)", overrides)
	}
	note += ". A service configured by its environment (SERVER_PORT, WORKER_COUNT) needs no rebuild to change."
	lines = append(append(lines, ""), wrap(note, w)...)
	return append(lines, "", st.Dim.Render("press $ or esc to close"))
}

// renderEnv is the environment view, scrolled to m.scroll.
func (m Model) renderEnv(w, h int) string {
	return frame(m.c.st, "Environment", true, window(m.c.st, m.envLines(w-4), m.scroll, h-2), w, h)
}
