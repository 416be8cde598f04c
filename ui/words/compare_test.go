package words

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"glassbox/sandbox/state"
)

// TestGoldenUpdateIsOff fails while golden files are being rewritten, so
// that a run with -update can never pass CI.
func TestGoldenUpdateIsOff(t *testing.T) {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		t.Fatal("golden update mode is on (-update): the goldens were rewritten, not checked; review the diff and run again without -update")
	}
}

// fixtureComparison is a real run's figures (testdata/compare).
func fixtureComparison(t *testing.T) *state.Comparison {
	t.Helper()
	data, err := os.ReadFile("../../testdata/compare/comparison.json")
	if err != nil {
		t.Fatal(err)
	}
	var c state.Comparison
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestCompareTable is vm-vs-container's output for a real run's figures.
func TestCompareTable(t *testing.T) {
	c := fixtureComparison(t)
	if m := c.Missing(); len(m) > 0 {
		t.Fatalf("the fixture misses %v", m)
	}
	out := CompareTable(c, 100)
	for i, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  ") || strings.Contains(l, ": ") {
			continue // set-up and explanation lines wrap in the terminal
		}
		if n := len([]rune(l)); n > 100 {
			t.Errorf("table line %d is %d wide: %q", i+1, n, l)
		}
	}
	golden.RequireEqual(t, []byte(out))
}

// TestCompareCellsFillIn: a row shows "…" for a figure not measured yet
// and "–" where a side has none.
func TestCompareCellsFillIn(t *testing.T) {
	c := &state.Comparison{}
	if got := strings.Join(CompareCells(c, state.RowStartToHealth), "|"); got != "…|…|–" {
		t.Errorf("start row before any figure: %q", got)
	}
	c.Set(state.Figure{Row: state.RowStartToHealth, Side: state.SideSandbox, Value: 0.0421, Unit: "s"})
	if got := strings.Join(CompareCells(c, state.RowStartToHealth), "|"); got != "…|42.1 ms|–" {
		t.Errorf("start row with the sandbox's figure: %q", got)
	}
	if got := strings.Join(CompareCells(c, state.RowStarted), "|"); got != "–|–|–" {
		t.Errorf("started row when nothing was asked to start: %q", got)
	}
}

func TestCompareCell(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		f    state.Figure
		want string
	}{
		{state.Figure{Row: state.RowBootID, Side: state.SideVM, Text: "bbb98e37-2890-40ba-9ec8-d43981e339eb", Same: &no}, "bbb98e37… (own)"},
		{state.Figure{Row: state.RowBootID, Side: state.SideSandbox, Text: "70eebf22-f59a-4938-8dde-6cce0ff65441", Same: &yes}, "70eebf22… (host's)"},
		{state.Figure{Row: state.RowKernelUptime, Value: 11.43}, "11.4 s"},
		{state.Figure{Row: state.RowKernelUptime, Value: 3208.6}, "53m28s"},
		{state.Figure{Row: state.RowKernelUptime, Value: 3 * 86400}, "3d00h"},
		{state.Figure{Row: state.RowStartToHealth, Value: 16.287}, "16.29 s"},
		{state.Figure{Row: state.RowMemory, Value: 359518208}, "342.9 MiB"},
		{state.Figure{Row: state.RowThroughput, Side: state.SideVM, Value: 202.6, Relative: 0.0106}, "203/s (1.1%)"},
		{state.Figure{Row: state.RowThroughput, Side: state.SideHost, Value: 19119}, "19.1k/s"},
		{state.Figure{Row: state.RowDensity, Side: state.SideSandbox, Value: 6772}, "6,772"},
		{state.Figure{Row: state.RowStarted, Value: 100, Parts: []state.FigurePart{{Name: "memory together", Value: 319864832}}}, "100, 305 MiB"},
	} {
		if got := CompareCell(tc.f); got != tc.want {
			t.Errorf("%s/%s %v: %q, want %q", tc.f.Side, tc.f.Row, tc.f.Value, got, tc.want)
		}
	}
}

// A step's sizes come as bytes and are worded here, after its note.
func TestCompareStep(t *testing.T) {
	for _, c := range []struct {
		e    state.CompareEvent
		want string
	}{
		{state.CompareEvent{Step: "boot the VM (1 of 3)"}, "boot the VM (1 of 3)"},
		{state.CompareEvent{Step: "boot the VM (1 of 3)", Done: true, Elapsed: 1200 * time.Millisecond, Note: "port 4321, on CPU 0"},
			"boot the VM (1 of 3) — port 4321, on CPU 0 (1.20 s)"},
		{state.CompareEvent{Step: "read each one's memory on the host", Done: true, Elapsed: 512300 * time.Microsecond,
			Sizes: []state.FigurePart{{Name: "VM", Value: 45 << 20}, {Name: "sandbox", Value: 12.5 * (1 << 20)}}},
			"read each one's memory on the host — VM 45 MiB, sandbox 12.5 MiB (512.3 ms)"},
		{state.CompareEvent{Step: "boot 3 VMs at once", Done: true, Elapsed: 2 * time.Second, Note: "3 healthy",
			Sizes: []state.FigurePart{{Name: "together", Value: 3 << 30}}},
			"boot 3 VMs at once — 3 healthy, together 3 GiB (2.00 s)"},
	} {
		got := CompareStep(c.e)
		if c.e.Done {
			got = CompareStepDone(c.e)
		}
		if got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.e, got, c.want)
		}
	}
}
