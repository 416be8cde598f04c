package ui

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"glassbox/inspect"
)

// BenchmarkRound is the UI's own work per refresh with five sandboxes: fold
// one round of snapshots into the model and draw the 160×50 screen. The
// kernel reads are inspect's (see its benchmarks); bench/measure-top.sh
// measures the whole process.
func BenchmarkRound(b *testing.B) {
	b.Run("no-colour", func(b *testing.B) { benchRound(b, asciiStyles()) })
	// 256 colours is what a terminal multiplexer (tmux, screen) offers by
	// default: every colour is mapped onto its palette.
	for _, p := range []struct {
		name    string
		profile termenv.Profile
	}{{"256-colour", termenv.ANSI256}, {"truecolour", termenv.TrueColor}} {
		b.Run(p.name, func(b *testing.B) {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p.profile)
			benchRound(b, NewStyles(r))
		})
	}
}

func benchRound(b *testing.B, st *Styles) {
	var fs []fixture
	for i := range 5 {
		f := calc()
		f.id, f.name, f.initPID, f.appPID = fmt.Sprintf("%012x", i+1), fmt.Sprintf("calc%d", i+1), 4242+100*i, 4250+100*i
		fs = append(fs, f)
	}
	m := New(Options{Styles: st, Interval: time.Second})
	m.c.width, m.c.height = 160, 50
	at := t0
	prev := make([]*inspect.Snapshot, len(fs))
	b.ReportAllocs()
	for b.Loop() {
		var r []*inspect.Snapshot
		for i := range fs {
			fs[i] = fs[i].busy()
			s := fs[i].snap(at)
			inspect.Rate(prev[i], s)
			prev[i] = s
			r = append(r, s)
		}
		at = at.Add(time.Second)
		m.applySnapshots(snapshotsMsg{at: at, snaps: r})
		_ = m.View()
	}
}
