package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/sys/unix"

	"glassbox/inspect"
	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

// BenchmarkOOMKillToBanner measures, for real, the time from the OOM kill of
// a sandbox's workload to the live view's OOM banner, refreshing every
// second: with the kernel's event (the view as it runs: an eventfd on v1's
// memory.oom_control, inotify on v2's memory.events) and, interleaved, with
// the refresh alone (what the view did before). The kill's moment is the
// earliest sign of it the harness sees on its own: its own OOM watch of the
// cgroup, or the workload's pidfd saying it has exited. Ten kills of each
// kind per op; the medians are reported (ms).
//
//	go test -run '^$' -bench OOMKillToBanner -benchtime 1x ./cmd/glassbox
func BenchmarkOOMKillToBanner(b *testing.B) {
	sandboxtest.RequireRoot(b)
	roots := sandboxtest.TempRoots(b)
	eng := lifecycle.New(roots)
	eng.Binary = sandboxtest.Binary(b)
	const kills = 10
	for b.Loop() {
		var event, poll []float64
		for i := range kills {
			for _, watch := range []bool{true, false} {
				d, err := oomKillToBanner(eng, fmt.Sprintf("oom-banner-%d-%d-%v", os.Getpid(), i, watch), watch)
				if err != nil {
					b.Fatal(err)
				}
				if watch {
					event = append(event, d.Seconds()*1000)
				} else {
					poll = append(poll, d.Seconds()*1000)
				}
			}
		}
		b.Logf("kernel event, ms: %.1f", event)
		b.Logf("refresh alone, ms: %.1f", poll)
		b.ReportMetric(median(event), "ms-event-median")
		b.ReportMetric(median(poll), "ms-refresh-median")
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// refreshOnly hides the source's OOM watch: the view learns of a kill at
// its next refresh.
type refreshOnly struct{ ui.Source }

// bannerWatch runs the view and says when its screen first shows the OOM
// banner.
type bannerWatch struct {
	ui.Model
	running chan struct{} // closed when the sandbox shows running
	banner  chan time.Time
	seen    bool
	up      bool
}

func (w *bannerWatch) Init() tea.Cmd {
	size := func() tea.Msg { return tea.WindowSizeMsg{Width: 120, Height: 40} }
	return tea.Batch(size, w.Model.Init())
}

func (w *bannerWatch) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := w.Model.Update(msg)
	w.Model = next.(ui.Model)
	view := w.Model.View()
	if !w.up && strings.Contains(view, "  running  ") {
		w.up = true
		close(w.running)
	}
	if !w.seen && strings.Contains(view, "OOM KILLED") {
		w.seen = true
		w.banner <- time.Now()
	}
	return w, cmd
}

func oomKillToBanner(eng *lifecycle.Engine, name string, watch bool) (time.Duration, error) {
	sb, err := eng.Run(&lifecycle.Request{
		Config: sandbox.Config{Name: name, Resources: cgroup.Resources{MemoryBytes: 48 << 20}},
		Ports:  []state.Port{{}}, // the image's port on a free one of 127.0.0.1
	})
	if err != nil {
		return 0, err
	}
	defer eng.Remove(sb.ID, true)
	src, err := newTopSource(eng)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	var source ui.Source = src
	if !watch {
		source = refreshOnly{src}
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	w := &bannerWatch{running: make(chan struct{}), banner: make(chan time.Time, 1)}
	w.Model = ui.New(ui.Options{Source: source, Refs: []string{sb.ID}, Interval: time.Second, Styles: ui.NewStyles(r)})
	p := tea.NewProgram(w, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutRenderer(), tea.WithoutSignalHandler())
	done := make(chan struct{})
	go func() { p.Run(); close(done) }()
	defer func() { p.Quit(); <-done }()
	select {
	case <-w.running:
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("%s never showed running", name)
	}
	// Settle (the view opens its watch after the first snapshot), then kill
	// at a random point of the refresh cycle.
	time.Sleep(1500*time.Millisecond + time.Duration(rand.Int64N(int64(time.Second))))

	killed := make(chan time.Time, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := inspect.New(src.fs, sb, nil)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	events, err := in.WatchOOM(ctx)
	if err != nil {
		return 0, err
	}
	go func() {
		for ev := range events {
			if ev.Killed {
				killed <- time.Now()
				return
			}
		}
	}()
	pidfd, err := unix.PidfdOpen(sb.WorkloadPID, 0)
	if err != nil {
		return 0, fmt.Errorf("pidfd of %d: %w", sb.WorkloadPID, err)
	}
	defer unix.Close(pidfd)
	go func() {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			if n, err := unix.Poll(fds, 10000); n > 0 || (err != nil && err != unix.EINTR) {
				killed <- time.Now()
				return
			}
		}
	}()

	base, err := calculatorURL(sb)
	if err != nil {
		return 0, err
	}
	go newCalculatorClient(10*time.Second).stressMemory(base, 200)
	var kill time.Time
	select {
	case kill = <-killed:
	case <-time.After(15 * time.Second):
		return 0, fmt.Errorf("%s was not OOM-killed", name)
	}
	select {
	case banner := <-w.banner:
		return banner.Sub(kill), nil
	case <-time.After(15 * time.Second):
		return 0, fmt.Errorf("%s: no banner", name)
	}
}
