package ui

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"glassbox/sandbox/state"
)

// fixtureComparison is a real run's figures (testdata/compare).
func fixtureComparison(t testing.TB) *state.Comparison {
	t.Helper()
	data, err := os.ReadFile("../testdata/compare/comparison.json")
	if err != nil {
		t.Fatal(err)
	}
	var c state.Comparison
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// fixtureFigures are the fixture's figures in the order a run measures
// them: row by row, each row's sides in column order.
func fixtureFigures(c *state.Comparison) []state.Figure {
	var out []state.Figure
	for _, r := range state.CompareRows {
		for _, s := range state.CompareSides {
			if f, ok := c.Get(s, r); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// CompareVM replays the fixture: its set-up, then each figure after a step
// that waits for the test's word on compareGate. Cancelled, it stops as
// the real one does once it has removed what it started.
func (a *fakeActions) CompareVM(ctx context.Context, report func(state.CompareEvent)) (*state.Comparison, error) {
	a.record("compare")
	c := a.comparison
	setup := *c
	setup.Figures = nil
	report(state.CompareEvent{Setup: &setup})
	for _, f := range fixtureFigures(c) {
		step := "measure " + string(f.Side) + " " + string(f.Row)
		report(state.CompareEvent{Step: step})
		select {
		case <-ctx.Done():
			a.record("compare stopped")
			return nil, ctx.Err()
		case <-a.compareGate:
		}
		report(state.CompareEvent{Figure: &f})
		report(state.CompareEvent{Step: step, Done: true, Elapsed: 40 * time.Millisecond})
	}
	return c, nil
}

// TestFlowCompareFillsInAndStops: v opens the screen and starts the
// comparison; figures fill the columns as they come; esc stops it (the
// action sees its context cancelled) and returns to the sandboxes; a
// second run completes; q quits.
func TestFlowCompareFillsInAndStops(t *testing.T) {
	tm, _, acts := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "glassbox ▸ calc")

	tm.Send(press("v"))
	waitCalls(t, acts, "compare")
	waitScreen(t, tm, "VM vs sandbox: the calculator in each", "qemu 7.2.22", "measure vm kernel_release")
	acts.compareGate <- struct{}{}
	waitScreen(t, tm, "6.1.0-57-amd64", "measure sandbox kernel_release")
	acts.compareGate <- struct{}{}
	waitScreen(t, tm, "6.18.44-fc-v595", "measure host kernel_release")
	tm.Send(press("esc"))
	waitCalls(t, acts, "compare stopped")
	waitScreen(t, tm, "comparison stopped; everything it started is removed")

	tm.Send(press("v"))
	for range fixtureFigures(acts.comparison) {
		acts.compareGate <- struct{}{}
	}
	waitScreen(t, tm, "✓ measured in", "100, 305 MiB", "20.15 GiB free")
	tm.Send(press("j"))
	waitScreen(t, tm, "About: boot id", "bbb98e37-2890-40ba-9ec8-d43981e339eb")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestFlowQuitStopsTheComparisonFirst: q while measuring cancels the
// comparison and quits only once it has ended (removed what it started).
func TestFlowQuitStopsTheComparisonFirst(t *testing.T) {
	tm, _, acts := startFlow(t, 100, 30, calc())
	waitScreen(t, tm, "glassbox ▸ calc")
	tm.Send(press("v"))
	waitScreen(t, tm, "measure vm kernel_release")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if !strings.Contains(acts.Calls(), "compare stopped") {
		t.Errorf("quit did not stop the comparison; calls:\n%s", acts.Calls())
	}
}

// TestCompareScreen: the comparison screen, golden, done and mid-run.
func TestCompareScreen(t *testing.T) {
	full := fixtureComparison(t)
	partial := func() state.Comparison {
		c := *full
		c.Figures = nil
		for _, f := range fixtureFigures(full)[:12] { // up to start → /health's VM
			c.Set(f)
		}
		return c
	}
	t1 := t0.Add(2 * time.Minute)
	for _, tc := range []struct {
		name string
		w, h int
		run  compareRun
	}{
		{"compare_done_120x40", 120, 40, compareRun{c: *full, setup: true, done: true, started: t0, ended: t0.Add(126 * time.Second)}},
		{"compare_done_boot_id_80x24", 80, 24, compareRun{c: *full, setup: true, done: true, started: t0, ended: t0.Add(126 * time.Second), sel: 1}},
		{"compare_running_100x30", 100, 30, compareRun{c: partial(), setup: true, started: t0, since: t1.Add(-3100 * time.Millisecond),
			current: "start the sandbox and wait for /health (1 of 3)", sel: 3}},
		{"compare_starting_100x30", 100, 30, compareRun{started: t1, since: t1, current: "starting"}},
		{"compare_failed_100x30", 100, 30, compareRun{done: true, started: t0, ended: t0.Add(time.Second),
			err: "qemu-system-x86_64 is not installed: apt-get install --no-install-recommends qemu-system-x86"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fixtureModel(t, tc.w, tc.h, rounds(1, calc())...)
			run := tc.run
			m.cmp, m.overlay, m.now = &run, overlayCompare, t1
			out := m.View()
			checkSize(t, out, tc.w, tc.h)
			golden.RequireEqual(t, []byte(out))
		})
	}
}
