package lesson

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"glassbox/ui"
)

// TestGoldenUpdateIsOff fails while golden files are being rewritten, so
// that a run with -update cannot pass CI.
func TestGoldenUpdateIsOff(t *testing.T) {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		t.Fatal("golden update mode is on (-update): the goldens were rewritten, not checked; review the diff and run again without -update")
	}
}

func asciiStyles() *ui.Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return ui.NewStyles(r)
}

// bench runs a lesson by hand, one message at a time, against a fake
// machine: each step is entered, the student's part done in the fake
// world, and the check looked at.
type bench struct {
	t   *testing.T
	w   *fakeWorld
	r   *Runner
	cur string // the sandbox the screen shows
}

func newBench(t *testing.T, mode Mode, chapter int) *bench {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	w := newFakeWorld()
	r, err := New(Options{Course: c, World: w, Mode: mode, Chapter: chapter, Clock: w.now})
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{t: t, w: w, r: r}
	b.prepare(r.Init())
	return b
}

// seen is what a screen on the fake world would show.
func (b *bench) seen() ui.Seen {
	s := ui.Seen{Now: b.w.now(), Current: b.cur}
	list, _ := b.w.Sandboxes()
	for _, sb := range list {
		s.Boxes = append(s.Boxes, ui.SeenBox{ID: sb.ID, Name: sb.Name, Snap: snapshotOf(sb, b.w.now(), list), Record: sb})
	}
	return s
}

// prepare runs a step's preparation and hands its result to the runner.
func (b *bench) prepare(cmd tea.Cmd) {
	b.t.Helper()
	msg, ok := cmd().(preparedMsg)
	if !ok {
		b.t.Fatalf("entering a step gave %T, not its preparation", msg)
	}
	b.r.Update(msg, b.seen())
	if b.r.fill.box != "" {
		b.cur = b.r.fill.box
	}
}

// look runs the step's check once.
func (b *bench) look() {
	b.t.Helper()
	b.r.seen = b.seen()
	msg := b.r.look()()
	b.r.Update(msg, b.seen())
}

// key presses a key of the lesson's.
func (b *bench) key(k string) {
	b.t.Helper()
	_, cmd, taken := b.r.Update(keyMsg(k), b.seen())
	if !taken {
		b.t.Fatalf("the lesson did not take %q", k)
	}
	if cmd != nil {
		if msg, ok := cmd().(preparedMsg); ok {
			b.r.Update(msg, b.seen())
			if b.r.fill.box != "" {
				b.cur = b.r.fill.box
			}
		}
	}
}

// screen is the live view with the lesson's pane, w×h, as plain text.
func (b *bench) screen(w, h int) string {
	m := ui.New(ui.Options{Styles: asciiStyles(), Interval: time.Second, Clock: b.w.now})
	next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m = next.(ui.Model)
	m = m.Apply(b.w.round())
	s := b.r.step()
	m = m.Apply(ui.Entry{Show: &ui.ShowMsg{Box: b.cur, Panel: panelOf(s)}})
	p := b.r.Pane()
	m = m.Apply(ui.Entry{Guide: &p})
	return m.View()
}

// studentDoes does a step of chapter 1 in the fake world, as the student
// would in a second terminal (or with a key).
func (b *bench) studentDoes() {
	s := b.r.step()
	switch {
	case s.Key == "]":
		b.cur = b.r.sess.Var("b")
	case strings.HasPrefix(b.r.fill.do, "glassbox run"):
		b.w.Run(nil, b.r.fill.do)
	}
}

// Each step of chapter 1 as the student sees it: the pane above the
// panels, first waiting, then done with what the check saw.
func TestChapterOneScreens(t *testing.T) {
	b := newBench(t, Student, 1)
	for i := range b.r.chapter().Steps {
		id := fmt.Sprintf("step_%d", i+1)
		b.look()
		if b.r.phase != ui.GuideWaiting {
			t.Fatalf("step %d: %s before the student did anything (%s)", i+1, b.r.phase, b.r.say)
		}
		if p := b.r.Pane(); !strings.Contains(p.Do, "lesson-") && !p.DoKey {
			t.Errorf("step %d: the thing to do names none of the lesson's sandboxes: %q", i+1, p.Do)
		}
		t.Run(id+"_waiting", func(t *testing.T) { golden.RequireEqual(t, []byte(b.screen(120, 40))) })
		b.studentDoes()
		b.look()
		if b.r.phase != ui.GuideDone {
			t.Fatalf("step %d: %s after the student did it: %s", i+1, b.r.phase, b.r.say)
		}
		t.Run(id+"_done", func(t *testing.T) { golden.RequireEqual(t, []byte(b.screen(120, 40))) })
		if i+1 < len(b.r.chapter().Steps) {
			b.key(" ")
		}
	}
}

// Presenter mode at a projector's 100×30: the question alone first, then
// what to do, then the step done; the large type, one panel.
func TestPresenterScreens(t *testing.T) {
	b := newBench(t, Presenter, 3)
	t.Run("question_first", func(t *testing.T) { golden.RequireEqual(t, []byte(b.screen(100, 30))) })
	b.key(" ")
	t.Run("what_to_do", func(t *testing.T) { golden.RequireEqual(t, []byte(b.screen(100, 30))) })
	b.w.Run(nil, b.r.fill.do)
	b.look()
	if b.r.phase != ui.GuideDone {
		t.Fatalf("%s: %s", b.r.phase, b.r.say)
	}
	t.Run("done", func(t *testing.T) { golden.RequireEqual(t, []byte(b.screen(100, 30))) })
}

// A student's terminal too short for the pane above the panels gets the
// one-panel layout, in normal type.
func TestShortTerminalScreen(t *testing.T) {
	b := newBench(t, Student, 1)
	b.look()
	golden.RequireEqual(t, []byte(b.screen(100, 30)))
}
