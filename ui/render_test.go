package ui

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// asciiStyles are the styles under a fixed profile without colour, so that
// golden files are plain text and the same on every machine.
func asciiStyles() *Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return NewStyles(r)
}

// TestGoldenUpdateIsOff fails while golden files are being rewritten, so that
// a run with -update can never pass CI.
func TestGoldenUpdateIsOff(t *testing.T) {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		t.Fatal("golden update mode is on (-update): the goldens were rewritten, not checked; review the diff and run again without -update")
	}
}

func step(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	next, _ := m.Update(msg)
	return next.(Model)
}

// fixtureModel is the UI at w×h after the given rounds of snapshots.
func fixtureModel(t *testing.T, w, h int, rounds ...[]*inspect.Snapshot) Model {
	t.Helper()
	m := New(Options{Styles: asciiStyles(), Interval: time.Second, Clock: func() time.Time { return t0 }})
	m = step(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	for _, r := range rated(rounds) {
		m = step(t, m, snapshotsMsg{at: r[0].Taken, snaps: r})
	}
	return m
}

// rounds gives n rounds, one second apart, of the fixtures, each busy.
func rounds(n int, fs ...fixture) [][]*inspect.Snapshot {
	var out [][]*inspect.Snapshot
	for i := range n {
		var r []*inspect.Snapshot
		for j := range fs {
			r = append(r, fs[j].snap(t0.Add(time.Duration(i)*time.Second)))
			fs[j] = fs[j].busy()
		}
		out = append(out, r)
	}
	return out
}

func TestScreen(t *testing.T) {
	oomRounds := func(restart bool) [][]*inspect.Snapshot {
		f := calc()
		f.memUsage, f.anon = 200*mib, 170*mib
		rs := rounds(3, f)
		f = f.busy().busy().busy()
		f.memUsage, f.anon = 255*mib, 225*mib
		rs = append(rs, []*inspect.Snapshot{f.snap(t0.Add(3 * time.Second))})
		if restart {
			f.restart = "on-failure"
			rs = [][]*inspect.Snapshot{}
			g := calc()
			g.restart = "on-failure"
			g.memUsage, g.anon = 255*mib, 225*mib
			rs = append(rs, []*inspect.Snapshot{g.snap(t0)}, []*inspect.Snapshot{g.busy().snap(t0.Add(time.Second))})
			g = g.busy()
			g.initPID, g.appPID, g.restarts, g.oomKills = 4301, 4309, 1, 0 // a fresh cgroup: its oom_kill starts at 0
			g.restartedAfter = g.oomKilled(t0.Add(1500 * time.Millisecond)).exit
			g.memUsage, g.anon, g.file = 12*mib, 8*mib, 3*mib
			g.started = t0.Add(2 * time.Second)
			rs = append(rs, []*inspect.Snapshot{g.snap(t0.Add(2 * time.Second))})
			return rs
		}
		dead := f.oomKilled(t0.Add(3500 * time.Millisecond))
		return append(rs, []*inspect.Snapshot{dead.snap(t0.Add(4 * time.Second))})
	}
	paused := calc()
	paused.status = state.Paused
	// One sandbox OOM-killed beside another that carries on: calc2 is
	// stressed to its limit and killed, calc runs on.
	oomBeside := func() [][]*inspect.Snapshot {
		a, b := calc(), calc2()
		rs := rounds(2, a, b)
		a, b = a.busy().busy(), b.busy().busy()
		b.memUsage, b.anon = 250*mib, 236*mib
		rs = append(rs, []*inspect.Snapshot{a.snap(t0.Add(2 * time.Second)), b.snap(t0.Add(2 * time.Second))})
		a, b = a.busy(), b.oomKilled(t0.Add(2500*time.Millisecond))
		return append(rs, []*inspect.Snapshot{a.snap(t0.Add(3 * time.Second)), b.snap(t0.Add(3 * time.Second))})
	}
	ab := func(m Model) Model { m.overlay = overlayAB; return m }
	tests := []struct {
		name   string
		w, h   int
		rounds [][]*inspect.Snapshot
		setup  func(Model) Model
	}{
		{name: "single_120x40", w: 120, h: 40, rounds: rounds(3, calc())},
		{name: "single_80x24", w: 80, h: 24, rounds: rounds(3, calc())},
		{name: "single_first_snapshot_120x40", w: 120, h: 40, rounds: rounds(1, calc())},
		{name: "two_sandboxes_120x40", w: 120, h: 40, rounds: rounds(2, calc(), calc2())},
		{name: "two_sandboxes_second_focused_160x45", w: 160, h: 45, rounds: rounds(2, calc(), calc2()),
			setup: func(m Model) Model { m.cur = 1; m.focus = PanelResources; return m }},
		{name: "oom_killed_120x40", w: 120, h: 40, rounds: oomRounds(false)},
		{name: "oom_restarted_120x40", w: 120, h: 40, rounds: oomRounds(true)},
		{name: "oom_killed_resources_focused_120x40", w: 120, h: 40, rounds: oomRounds(false),
			setup: func(m Model) Model { m.focus = PanelResources; return m }},
		{name: "paused_100x30", w: 100, h: 30, rounds: rounds(2, paused)},
		{name: "focus_layers_100x30", w: 100, h: 30, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.focus = PanelLayers; return m }},
		{name: "stopping_100x30", w: 100, h: 30, rounds: rounds(2, calc()),
			setup: func(m Model) Model {
				m.stops["3f2a9c01b7de"] = stopping{since: t0.Add(-2 * time.Second), timeout: 10 * time.Second}
				return m
			}},
		{name: "confirm_remove_100x30", w: 100, h: 30, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.confirm = "3f2a9c01b7de"; return m }},
		{name: "help_100x30", w: 100, h: 30, rounds: rounds(1, calc()),
			setup: func(m Model) Model { m.overlay = overlayHelp; return m }},
		{name: "explain_resources_120x40", w: 120, h: 40, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.overlay, m.focus = overlayExplain, PanelResources; return m }},
		{name: "ab_one_oom_killed_80x24", w: 80, h: 24, rounds: oomBeside(), setup: ab},
		{name: "ab_one_oom_killed_100x30", w: 100, h: 30, rounds: oomBeside(), setup: ab},
		{name: "ab_one_oom_killed_120x35", w: 120, h: 35, rounds: oomBeside(), setup: ab},
		{name: "two_sandboxes_one_oom_killed_100x30", w: 100, h: 30, rounds: oomBeside()},
		{name: "env_80x24", w: 80, h: 24, rounds: rounds(2, calc()), setup: func(m Model) Model { m.overlay = overlayEnv; return m }},
		{name: "env_100x30", w: 100, h: 30, rounds: rounds(2, calc()), setup: func(m Model) Model { m.overlay = overlayEnv; return m }},
		{name: "env_120x35", w: 120, h: 35, rounds: rounds(2, calc()), setup: func(m Model) Model { m.overlay = overlayEnv; return m }},
		{name: "help_80x24", w: 80, h: 24, rounds: rounds(1, calc()), setup: func(m Model) Model { m.overlay = overlayHelp; return m }},
		{name: "help_scrolled_to_the_end_80x24", w: 80, h: 24, rounds: rounds(1, calc()),
			setup: func(m Model) Model { m.overlay, m.scroll = overlayHelp, 1000; return m }},
		{name: "help_120x35", w: 120, h: 35, rounds: rounds(1, calc()), setup: func(m Model) Model { m.overlay = overlayHelp; return m }},
		{name: "explain_resources_80x24", w: 80, h: 24, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.overlay, m.focus = overlayExplain, PanelResources; return m }},
		{name: "explain_resources_scrolled_100x30", w: 100, h: 30, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.overlay, m.focus, m.scroll = overlayExplain, PanelResources, 10; return m }},
		{name: "explain_processes_120x35", w: 120, h: 35, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.overlay, m.focus = overlayExplain, PanelProcesses; return m }},
		{name: "explain_layers_120x35", w: 120, h: 35, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.overlay, m.focus = overlayExplain, PanelLayers; return m }},
		{name: "explain_events_100x30", w: 100, h: 30, rounds: rounds(2, calc()),
			setup: func(m Model) Model { m.overlay, m.focus = overlayExplain, PanelEvents; return m }},
		{name: "too_small_79x24", w: 79, h: 24, rounds: rounds(1, calc())},
		{name: "empty_100x30", w: 100, h: 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fixtureModel(t, tc.w, tc.h, tc.rounds...)
			if tc.setup != nil {
				m = tc.setup(m)
			}
			out := m.View()
			if tc.w >= minWidth && tc.h >= minHeight {
				checkSize(t, out, tc.w, tc.h)
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// checkSize fails unless the screen is exactly w×h cells: a line too long
// wraps and scrolls the whole screen.
func checkSize(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipgloss.Width(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i+1, n, w, l)
		}
	}
}

func TestFrameOnce(t *testing.T) {
	st := asciiStyles()
	out := Frame(st, rated(rounds(2, calc())), 100)
	golden.RequireEqual(t, []byte(out))
	if strings.Contains(out, "\x1b") {
		t.Error("--once output holds escape codes")
	}
	for _, want := range []string{"calc", "Namespaces", "Processes", "Layers", "Resources", "Events", "0.42 of 0.50 cores"} {
		if !strings.Contains(out, want) {
			t.Errorf("--once output lacks %q", want)
		}
	}
	one := Frame(st, rated(rounds(1, calc())), 100)
	if !strings.Contains(one, "cpu  n/a") {
		t.Errorf("one snapshot should give no CPU rate:\n%s", one)
	}
}

// With no sandbox, --once says so and how to start one: no keys to press
// (nothing reads them), no empty panels, no zero time (issue 16, bug 8).
func TestFrameOnceWithoutSandboxes(t *testing.T) {
	out := Frame(asciiStyles(), nil, 100)
	for _, bad := range []string{"press n", "q to quit", "0001-01-01", "no snapshot yet"} {
		if strings.Contains(out, bad) {
			t.Errorf("--once without sandboxes says %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"no sandbox is running", "glassbox run -d", "glassbox ps -a"} {
		if !strings.Contains(out, want) {
			t.Errorf("--once without sandboxes lacks %q:\n%s", want, out)
		}
	}
	if out2 := Frame(asciiStyles(), [][]*inspect.Snapshot{{}, {}}, 100); out2 != out {
		t.Errorf("two empty rounds differ from none:\n%s", out2)
	}
}
