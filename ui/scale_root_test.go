package ui

import (
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"glassbox/inspect"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// BenchmarkRefreshRealSandboxes is one refresh of the live view with many
// real sandboxes running (100; GLASSBOX_BENCH_SANDBOXES sets another
// count), as `glassbox top` with no names does it each interval: the
// records listed and reconciled by the lifecycle engine, one snapshot of
// every sandbox through an Inspector held open between refreshes, the round
// folded into the model and the 160×50 screen drawn at 256 colours.
// read-ms is the listing and the snapshots, draw-ms the UI's own work.
// Needs root; starting the sandboxes takes about a tenth of a second each.
func BenchmarkRefreshRealSandboxes(b *testing.B) {
	n := 100
	if v := os.Getenv("GLASSBOX_BENCH_SANDBOXES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("GLASSBOX_BENCH_SANDBOXES=%q: want a count", v)
		}
	}
	c := sandboxtest.NewCLI(b)
	for range n {
		c.StartCalculator("--memory", "64m", "--cpus", "0.5")
	}
	src := newHeldSource(b, lifecycle.New(c.Roots))
	defer src.close()

	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	m := New(Options{Source: src, Styles: NewStyles(r), Interval: time.Second})
	m.c.width, m.c.height = 160, 50
	take := func() snapshotsMsg { return m.snapshotCmd()().(snapshotsMsg) }
	// The first round opens the Inspectors; the live view pays that once.
	m.applySnapshots(take())
	if len(m.boxes) != n {
		b.Fatalf("the model shows %d sandboxes, want %d", len(m.boxes), n)
	}
	var read, draw time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		msg := take()
		t1 := time.Now()
		if len(msg.errs) > 0 || len(msg.snaps) != n {
			b.Fatalf("%d snapshots, errors %v", len(msg.snaps), msg.errs)
		}
		m.applySnapshots(msg)
		_ = m.View()
		read, draw = read+t1.Sub(t0), draw+time.Since(t1)
	}
	b.ReportMetric(float64(read.Microseconds())/1000/float64(b.N), "read-ms/op")
	b.ReportMetric(float64(draw.Microseconds())/1000/float64(b.N), "draw-ms/op")
}

// heldSource is the live view's Source as `glassbox top` wires it
// (cmd/glassbox's topSource, without other engines): the engine's
// reconciled listing, and one Inspector per running sandbox kept open.
type heldSource struct {
	eng  *lifecycle.Engine
	recs *lifecycle.Lister
	fs   inspect.FS
	mu   sync.Mutex
	open map[string]*inspect.Inspector
}

func newHeldSource(b *testing.B, eng *lifecycle.Engine) *heldSource {
	fs, err := inspect.Host()
	if err != nil {
		b.Fatal(err)
	}
	return &heldSource{eng: eng, recs: eng.NewLister(), fs: fs, open: map[string]*inspect.Inspector{}}
}

func (s *heldSource) List() ([]*state.Sandbox, error) { return s.recs.List() }

func (s *heldSource) Snapshot(sb *state.Sandbox) (*inspect.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.open[sb.ID]
	if in == nil {
		var err error
		if in, err = inspect.New(s.fs, sb, s.eng.Store()); err != nil {
			return nil, err
		}
		s.open[sb.ID] = in
	}
	snap, err := in.Snapshot()
	if snap != nil {
		snap.Sandbox = sb
	}
	return snap, err
}

func (s *heldSource) close() {
	for _, in := range s.open {
		in.Close()
	}
}
