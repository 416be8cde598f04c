package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// Live draws the lines that changed, each at its place, and nothing when
// nothing did.
func TestLiveDrawsWhatChanged(t *testing.T) {
	s := &liveScreen{width: 10, height: 5}
	if got := string(s.draw("one\ntwo\nthree")); got != "\x1b[Hone\x1b[K\x1b[2;1Htwo\x1b[K\x1b[3;1Hthree\x1b[K\x1b[3;1H" {
		t.Errorf("first frame %q", got)
	}
	if got := s.draw("one\ntwo\nthree"); len(got) != 0 {
		t.Errorf("the same frame again wrote %q", got)
	}
	if got := string(s.draw("one\n2\nthree")); got != "\x1b[2;1H2\x1b[K\x1b[3;1H" {
		t.Errorf("one line changed: %q", got)
	}
	// Shorter: what was below is erased. Wider than the window: cut.
	if got := string(s.draw("one\n0123456789abc")); got != "\x1b[2;1H0123456789\x1b[3;1H\x1b[J\x1b[2;1H" {
		t.Errorf("shorter and wider: %q", got)
	}
	// Taller than the window: the top lines go, as with bubbletea's renderer.
	s.lines = nil
	if got := string(s.draw("a\nb\nc\nd\ne\nf")); !strings.HasPrefix(got, "\x1b[Hb\x1b[K") || !strings.HasSuffix(got, "\x1b[5;1Hf\x1b[K\x1b[5;1H") {
		t.Errorf("taller: %q", got)
	}
}

// The renderer's frames are dropped, its other writes pass, and its
// erasing the screen makes Live's next frame whole.
func TestLiveTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	term := NewTerminal(f)
	l := NewLive(viewModel("a\nb"), term)
	next, _ := l.Update(tea.WindowSizeMsg{Width: 10, Height: 5})
	l = next.(Live)
	term.Write([]byte("\x1b[?1049h\x1b[2J"))
	l.View()
	term.Write([]byte("\x1b[Ha\r\nb")) // the renderer's frame
	l.View()                           // unchanged: nothing
	term.Write([]byte("\x1b[2J"))      // a shell gave the terminal back
	l.View()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	frame := "\x1b[Ha\x1b[K\x1b[2;1Hb\x1b[K\x1b[2;1H"
	if want := "\x1b[?1049h\x1b[2J" + frame + "\x1b[2J" + frame; string(b) != want {
		t.Errorf("wrote %q\nwant  %q", b, want)
	}
}

type viewModel string

func (v viewModel) Init() tea.Cmd                       { return nil }
func (v viewModel) Update(tea.Msg) (tea.Model, tea.Cmd) { return v, nil }
func (v viewModel) View() string                        { return string(v) }
