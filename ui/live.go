package ui

import (
	"bytes"
	"os"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// The live view draws a frame as soon as it changes — after a key, a
// round of snapshots, a resize — instead of waiting for bubbletea's
// renderer, which draws on a fixed tick. That tick is most of what an idle
// `glassbox top` costs: each one wakes the process (and the Go runtime's
// monitor thread with it), and on a virtual machine a wake-up costs tens
// of microseconds whether or not anything changed. So the program runs
// with its renderer at one frame a second (bubbletea's slowest), kept for
// what it does besides drawing — the alternate screen, the cursor, the
// mouse modes, handing the terminal to a shell and taking it back — and
// Live draws every change at once, in the event loop, right after the
// Update that made it: a key shows without waiting for a tick.
//
// The renderer's own frames are dropped on their way out (Terminal.Write):
// drawn a tick late, one could land over a newer frame of Live's. In the
// alternate screen each of them is one write that starts by sending the
// cursor home; the renderer's other writes (modes, the cursor, erasing the
// screen) pass.

// LiveFPS is the renderer's rate to run Live with (tea.WithFPS).
const LiveFPS = 1

// Terminal is the program's output (tea.WithOutput): the terminal's file,
// written under a lock. It is a term.File, so bubbletea still reads the
// window's size from it.
type Terminal struct {
	*os.File
	mu sync.Mutex
	// cleared: a write since the last frame erased the screen (the
	// renderer entering the alternate screen again after a shell): the
	// next frame is drawn whole.
	cleared bool
}

// NewTerminal writes to f (os.Stdout).
func NewTerminal(f *os.File) *Terminal { return &Terminal{File: f} }

func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) > len(ansi.CursorHomePosition) && bytes.HasPrefix(p, []byte(ansi.CursorHomePosition)) {
		return len(p), nil // the renderer's frame: Live has drawn it
	}
	if bytes.Contains(p, []byte(ansi.EraseEntireScreen)) {
		t.cleared = true
	}
	return t.File.Write(p)
}

// frame writes a frame of Live's under the lock, and says whether the
// screen was erased since the last one (then nothing was written).
func (t *Terminal) frame(draw func() []byte) (cleared bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cleared {
		t.cleared = false
		return true
	}
	if b := draw(); len(b) > 0 {
		t.File.Write(b)
	}
	return false
}

// Live wraps a model for a program that runs with the alternate screen
// (tea.WithAltScreen), tea.WithFPS(LiveFPS) and tea.WithOutput(t); Model
// unwraps it.
type Live struct {
	Model tea.Model
	t     *Terminal
	s     *liveScreen
}

type liveScreen struct {
	width, height int
	lines         []string // on screen, as drawn last
	buf           bytes.Buffer
}

// NewLive wraps m, drawing on t.
func NewLive(m tea.Model, t *Terminal) Live {
	return Live{Model: m, t: t, s: &liveScreen{}}
}

func (l Live) Init() tea.Cmd { return l.Model.Init() }

func (l Live) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		l.s.width, l.s.height = ws.Width, ws.Height
		l.s.lines = nil // the terminal may have moved or wrapped what it showed
	}
	var cmd tea.Cmd
	l.Model, cmd = l.Model.Update(msg)
	return l, cmd
}

// View draws the wrapped model's view when it changed, and hands it to
// the renderer too.
func (l Live) View() string {
	v := l.Model.View()
	if l.s.width > 0 {
		if l.t.frame(func() []byte { return l.s.draw(v) }) {
			l.s.lines = nil
			l.t.frame(func() []byte { return l.s.draw(v) })
		}
	}
	return v
}

// draw returns what puts view on screen over what is there: each line
// that changed, at its place, cut to the width; the lines below the view
// erased when it is shorter than the last. As bubbletea's renderer does,
// a view taller than the window loses its top lines.
func (s *liveScreen) draw(view string) []byte {
	lines := strings.Split(view, "\n")
	if s.height > 0 && len(lines) > s.height {
		lines = lines[len(lines)-s.height:]
	}
	b := &s.buf
	b.Reset()
	for i, line := range lines {
		if i < len(s.lines) && s.lines[i] == line {
			continue
		}
		b.WriteString(ansi.CursorPosition(1, i+1))
		w := ansi.StringWidth(line)
		if w > s.width {
			line = ansi.Truncate(line, s.width, "")
			w = ansi.StringWidth(line) // a wide character at the edge may leave one column
		}
		b.WriteString(line)
		if w < s.width {
			b.WriteString(ansi.EraseLineRight)
		}
	}
	if len(lines) < len(s.lines) {
		b.WriteString(ansi.CursorPosition(1, len(lines)+1))
		b.WriteString(ansi.EraseScreenBelow)
	}
	if b.Len() > 0 {
		// Where the renderer leaves the cursor: the start of the last line.
		b.WriteString(ansi.CursorPosition(1, len(lines)))
	}
	s.lines = lines
	return b.Bytes()
}
