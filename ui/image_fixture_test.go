package ui

import (
	"fmt"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect/union"
	"glassbox/inspect/union/uniontest"
)

// courseStack is uniontest.Course as the store would describe it: built
// FROM busybox (the base layer), one step from the cache, one rebuilt.
func courseStack(t testing.TB) *union.Stack {
	t.Helper()
	st := &union.Stack{Image: "course", ImageID: "sha256:7d41c0a9e3b25f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718", BaseImage: "busybox"}
	meta := []union.Layer{
		{Digest: "sha256:51d7a3c9e0f2a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829", CreatedBy: "ADD base /: busybox and /etc", Base: true,
			Images: []string{"busybox", "course"}},
		{Digest: "sha256:8c1e0f5ab2d4e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3", CreatedBy: "RUN apt-get update && make /big",
			Cache: "hit", Images: []string{"course"}, Sandboxes: []string{"calc"}},
		{Digest: "sha256:c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", CreatedBy: "RUN rm /big && pip install wheel",
			Cache: "miss", CacheWhy: "requirements.txt changed (sha256:ab12… → sha256:cd34…)", Images: []string{"course"}, Sandboxes: []string{"calc"}},
	}
	for i, spec := range uniontest.Course {
		l := meta[i]
		l.Dir = uniontest.Layer(t, spec)
		st.Layers = append(st.Layers, l)
	}
	return st
}

// sandboxStack is the course image under the sandbox "calc", whose upper
// layer is the directory upper (written by the test).
func sandboxStack(t testing.TB, upper string) *union.Stack {
	st := courseStack(t)
	st.Sandbox, st.SandboxID, st.Status = "calc", "3f2a9c01b7de", "running"
	st.Layers = append(st.Layers, union.Layer{Dir: upper, Upper: true, Sandboxes: []string{"calc"}, CreatedBy: "the writable layer of sandbox calc"})
	return st
}

// fakeImages serves fixture stacks by name.
type fakeImages struct {
	mu     sync.Mutex
	stacks map[string]*union.Stack
}

func (f *fakeImages) Stack(ref string) (*union.Stack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.stacks[ref]; ok {
		return st, nil
	}
	return nil, fmt.Errorf("unknown image %q", ref)
}

// settle runs a command and every command its messages lead to, feeding
// the messages to the model, as the program would; a command that does
// not answer within a moment (a tick) is dropped.
func settle(t testing.TB, m Model, cmd tea.Cmd) Model {
	t.Helper()
	for cmd != nil {
		ch := make(chan tea.Msg, 1)
		go func() { ch <- cmd() }()
		var msg tea.Msg
		select {
		case msg = <-ch:
		case <-time.After(2 * time.Second):
			return m
		}
		cmd = nil
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range msg {
				m = settle(t, m, c)
			}
		default:
			next, c := m.Update(msg)
			m, cmd = next.(Model), c
		}
	}
	return m
}

// keyMsg is the message of one named key.
func keyMsg(k string) tea.KeyMsg {
	var msg tea.KeyMsg
	switch k {
	case "enter":
		msg = tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		msg = tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		msg = tea.KeyMsg{Type: tea.KeyTab}
	case "up":
		msg = tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		msg = tea.KeyMsg{Type: tea.KeyDown}
	case "right":
		msg = tea.KeyMsg{Type: tea.KeyRight}
	case "left":
		msg = tea.KeyMsg{Type: tea.KeyLeft}
	case "pgdown":
		msg = tea.KeyMsg{Type: tea.KeyPgDown}
	default:
		msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
	}
	return msg
}

// typeKeys sends keys to the model, settling what each starts.
func typeKeys(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		next, cmd := m.Update(keyMsg(k))
		m = settle(t, next.(Model), cmd)
	}
	return m
}

// exploreModel is the UI opened on ref's Image view at w×h, loaded.
func exploreModel(t testing.TB, w, h int, images Images, acts Actions, ref string) Model {
	t.Helper()
	m := New(Options{Images: images, Actions: acts, Explore: ref, Styles: asciiStyles(), Interval: time.Hour,
		Clock: func() time.Time { return t0 }})
	next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m = next.(Model)
	return settle(t, m, m.Init())
}

// cursorTo moves the tree's cursor to path (unfolding on the way).
func cursorTo(t testing.TB, m Model, path string) Model {
	t.Helper()
	for range 200 {
		v := m.img
		if v.rows[v.cursor].it.Path() == path {
			return m
		}
		r := v.rows[v.cursor]
		if isDir(r.it) && !v.unfolded(r) && len(path) > len(r.it.Path()) && path[:len(r.it.Path())] == r.it.Path() {
			m = typeKeys(t, m, "right")
			continue
		}
		m = typeKeys(t, m, "down")
	}
	t.Fatalf("no row %s in the tree", path)
	return m
}
