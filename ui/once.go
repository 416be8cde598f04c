package ui

import (
	"strings"
	"time"

	"glassbox/inspect"
)

// Frame renders one frame for `glassbox top --once`: every panel at the
// height it needs, no focus, no key help. Each entry of rounds is one round
// of snapshots (one per sandbox); with two rounds the CPU rates come from
// the difference between them, with one they read n/a.
func Frame(st *Styles, rounds [][]*inspect.Snapshot, width int) string {
	m := New(Options{Styles: st, Interval: time.Second})
	m.once = true
	m.focus = PanelResources
	m.c.width = width
	for _, r := range rounds {
		var at time.Time
		for _, s := range r {
			if s.Taken.After(at) {
				at = s.Taken
			}
		}
		m.applySnapshots(snapshotsMsg{at: at, snaps: r})
		m.now = at
	}
	if len(m.boxes) == 0 {
		return noSandboxFrame(width)
	}
	out := m.screen(width, 0)
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// noSandboxFrame is --once with nothing to show: no keys to press (nothing
// reads them), no empty panels, and how to get a sandbox to look at.
func noSandboxFrame(width int) string {
	lines := []string{
		"glassbox top --once: no sandbox is running.",
		"",
		"Start one, then look again:",
		"  glassbox run -d --name calc -p 8000:8000 --memory 256m --cpus 0.5 calculator",
		"  glassbox top --once calc",
		"",
		"glassbox ps -a lists the sandboxes that have stopped; glassbox inspect NAME shows how each ended.",
	}
	for i, l := range lines {
		lines[i] = cut(l, width)
	}
	return strings.Join(lines, "\n") + "\n"
}
