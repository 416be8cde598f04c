package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"glassbox/inspect/union"
	"glassbox/inspect/union/uniontest"
)

func TestImageScreens(t *testing.T) {
	images := &fakeImages{stacks: map[string]*union.Stack{}}
	images.stacks["course"] = courseStack(t)
	tests := []struct {
		name string
		w, h int
		keys []string
		to   string // move the tree's cursor to this path first
	}{
		// The layer list: focus on it, one layer down (#2).
		{name: "layers_120x40", w: 120, h: 40, keys: []string{"tab", "down"}},
		// What #2 changed: added, modified, removed (whiteout, opaque).
		{name: "tree_marks_120x40", w: 120, h: 40, keys: []string{"tab", "down", "tab"}, to: "/etc/hosts"},
		{name: "tree_opaque_120x40", w: 120, h: 40, keys: []string{"tab", "down", "tab"}, to: "/var/cache/app/a"},
		// The merged tree up to #3: where /etc/passwd comes from, what it shadows.
		{name: "merged_120x40", w: 120, h: 40, keys: []string{"a"}, to: "/etc/passwd"},
		{name: "file_text_120x40", w: 120, h: 40, keys: []string{"a"}, to: "/etc/passwd"},
		{name: "waste_120x40", w: 120, h: 40, keys: []string{"w"}},
		{name: "waste_without_base_120x40", w: 120, h: 40, keys: []string{"w", "b"}},
		{name: "small_80x24", w: 80, h: 24, keys: []string{"a"}, to: "/etc/passwd"},
		{name: "help_100x30", w: 100, h: 30, keys: []string{"?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := exploreModel(t, tc.w, tc.h, images, nil, "course")
			m = typeKeys(t, m, tc.keys...)
			if tc.to != "" {
				m = cursorTo(t, m, tc.to)
			}
			if strings.HasPrefix(tc.name, "file_") {
				m = typeKeys(t, m, "enter")
			}
			out := m.View()
			checkSize(t, out, tc.w, tc.h)
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// A text file as it was in the base layer, and a binary's type and bytes.
func TestImageFileViewer(t *testing.T) {
	images := &fakeImages{stacks: map[string]*union.Stack{
		"course": courseStack(t),
		"blob":   {Image: "blob", Layers: []union.Layer{{Dir: uniontest.Layer(t, "z /blob 100\nt /hello hi there"), CreatedBy: "COPY blob /"}}},
	}}
	m := exploreModel(t, 120, 40, images, nil, "course")
	m = typeKeys(t, m, "tab", "down", "down", "tab", "a")
	m = cursorTo(t, m, "/etc/passwd")
	m = typeKeys(t, m, "enter")
	out := m.View()
	checkSize(t, out, 120, 40)
	golden.RequireEqual(t, []byte(out))

	m = exploreModel(t, 100, 30, images, nil, "blob")
	m = cursorTo(t, m, "/blob")
	m = typeKeys(t, m, "enter")
	bin := m.View()
	checkSize(t, bin, 100, 30)
	for _, want := range []string{"binary: data · 100 B · its first bytes:", "00000000  00 00 00 00 00 00 00 00  00 00"} {
		if !strings.Contains(bin, want) {
			t.Errorf("the binary's view lacks %q:\n%s", want, bin)
		}
	}
	m = typeKeys(t, m, "esc")
	if m.img == nil || m.img.pane != paneTree {
		t.Fatal("esc closes the file, not the view")
	}
	m = typeKeys(t, m, "esc")
	if !m.quitting {
		t.Error("esc on the tree of a view opened alone quits")
	}
}

// A sandbox: its upper layer on top, a copied-up file explained.
func TestImageSandboxScreen(t *testing.T) {
	upper := uniontest.Layer(t, "f /bin/busybox 5001\nw /tmp/x\nt /app/out.txt result 42")
	images := &fakeImages{stacks: map[string]*union.Stack{"calc": sandboxStack(t, upper)}}
	m := exploreModel(t, 120, 40, images, nil, "calc")
	m = cursorTo(t, m, "/bin/busybox")
	out := m.View()
	checkSize(t, out, 120, 40)
	golden.RequireEqual(t, []byte(out))
}

// Bad input: an unknown image is said on screen, and nothing else breaks.
func TestImageUnknown(t *testing.T) {
	m := exploreModel(t, 100, 30, &fakeImages{}, nil, "nope")
	out := m.View()
	checkSize(t, out, 100, 30)
	if !strings.Contains(out, `unknown image "nope"`) {
		t.Errorf("no error on screen:\n%s", out)
	}
	m = typeKeys(t, m, "down", "enter", "a", "w", "b", "u", "tab")
	if m.img == nil || m.quitting {
		t.Error("keys on a view that could not load")
	}
}

// overlayFake does what overlayfs does on a write to a lower file, in a
// fixture's upper directory: the whole file is copied up, then changed.
type overlayFake struct {
	*fakeActions
	upper string
	lower map[string]int // the lower files' sizes
}

func (a *overlayFake) CopyUp(ref, path string) (string, int64, error) {
	if path == "" {
		return a.fakeActions.CopyUp(ref, path)
	}
	a.record("copy-up %s %s", ref, path)
	size := a.lower[path]
	if err := os.MkdirAll(filepath.Dir(filepath.Join(a.upper, path)), 0o755); err != nil {
		return "", 0, err
	}
	return path, int64(size), os.WriteFile(filepath.Join(a.upper, path), make([]byte, size+1), 0o644)
}

// The flow a student follows: the main screen, i on the sandbox, through
// its layers, a file opened, the waste with and without the base image,
// a copy-up and its explanation, back to the main screen.
func TestImageFlow(t *testing.T) {
	upper := t.TempDir()
	images := &fakeImages{stacks: map[string]*union.Stack{calc().id: sandboxStack(t, upper)}}
	src := &fakeSource{boxes: []fixture{calc()}}
	acts := &overlayFake{fakeActions: &fakeActions{src: src}, upper: upper, lower: map[string]int{"/bin/busybox": 5000}}
	m := New(Options{Source: src, Actions: acts, Images: images, Styles: asciiStyles(), Interval: 100 * time.Millisecond})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { _ = tm.Quit() })
	waitScreen(t, tm, "glassbox ▸ calc", "Layers (overlay stack)")
	// u on the main screen: a copy-up of the biggest lower file, logged.
	tm.Send(keyMsg("u"))
	waitCalls(t, acts.fakeActions, "copy-up 3f2a9c01b7de ")
	waitScreen(t, tm, "copy-up: 1 byte appended to /app/calculator made overlayfs copy all")

	tm.Send(keyMsg("i"))
	waitScreen(t, tm, "glassbox ▸ sandbox calc", "Files: what upper changed", "Layer upper of 4")
	// Through the layers, top first: #3 is the step that missed the cache.
	tm.Send(keyMsg("tab"))
	tm.Send(keyMsg("down"))
	waitScreen(t, tm, "Layer #3 of 4", "build cache: miss: requirements.txt", "Files: what #3 changed")
	tm.Send(keyMsg("down"))
	waitScreen(t, tm, "Layer #2 of 4", "build cache: hit", "~ │   └── passwd")
	tm.Send(keyMsg("down"))
	waitScreen(t, tm, "Layer #1 of 4", "part of the base image busybox (FROM)")
	// A file of the base layer, opened.
	tm.Send(keyMsg("tab"))
	for range 6 {
		tm.Send(keyMsg("down")) // from /: bin/, busybox, sh, etc/, hosts, passwd
	}
	waitScreen(t, tm, "/etc/passwd · -rw-r--r-- · 11 B")
	tm.Send(keyMsg("enter"))
	waitScreen(t, tm, "File /etc/passwd (#1)", "1 root:x:0:0")
	// The waste, then without the base image.
	tm.Send(keyMsg("w"))
	waitScreen(t, tm, "Waste: sandbox calc", "base image busybox counted (1 layer) (b leaves it out)")
	tm.Send(keyMsg("b"))
	waitScreen(t, tm, "base image busybox left out (1 layer) (b counts it)", "efficiency 12.8% · 34.3 KiB wasted of 39.32 KiB counted")
	tm.Send(keyMsg("b")) // counted again
	// Copy-up, live: back to the top layer, the file, u.
	tm.Send(keyMsg("esc"))
	tm.Send(keyMsg("tab"))
	tm.Send(keyMsg("g"))
	tm.Send(keyMsg("tab"))
	tm.Send(keyMsg("a"))
	waitScreen(t, tm, "Files: merged up to upper")
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("right"))
	tm.Send(keyMsg("down"))
	waitScreen(t, tm, "/bin/busybox · -rw-r--r-- · 4.883 KiB", "from #3")
	tm.Send(keyMsg("u"))
	waitCalls(t, acts.fakeActions, "copy-up 3f2a9c01b7de /bin/busybox")
	waitScreen(t, tm, "copy-up: 1 byte appended to /bin/busybox made overlayfs copy all 4.883 KiB of it up from #3", "upper layer 0 B →")
	// Back to the main screen.
	tm.Send(keyMsg("esc"))
	waitScreen(t, tm, "Namespaces (host vs sandbox)")
}

// u on a lower file: the byte is written (the fake does what overlayfs
// does), the upper layer is read at once, and the cost is explained.
func TestImageCopyUpExplained(t *testing.T) {
	upper := t.TempDir()
	images := &fakeImages{stacks: map[string]*union.Stack{"calc": sandboxStack(t, upper)}}
	acts := &overlayFake{fakeActions: &fakeActions{}, upper: upper, lower: map[string]int{"/bin/busybox": 5000}}
	m := exploreModel(t, 120, 40, images, acts, "calc")
	m = typeKeys(t, m, "a")
	m = cursorTo(t, m, "/bin/busybox")
	m = typeKeys(t, m, "u")
	want := "copy-up: 1 byte appended to /bin/busybox made overlayfs copy all 4.883 KiB of it up from #3 first: upper layer 0 B → 4.884 KiB"
	if m.img.status != want {
		t.Errorf("status %q, want %q", m.img.status, want)
	}
	if got := m.img.im.Stats[3].Size; got != 5001 {
		t.Errorf("the upper layer read after the write holds %d bytes, want 5001", got)
	}
	// Again: the upper layer has the file now; nothing is copied.
	acts.lower["/bin/busybox"] = 5001
	m = typeKeys(t, m, "u")
	if !strings.Contains(m.img.status, "which the upper layer had already: no copy-up this time") {
		t.Errorf("second append: %q", m.img.status)
	}
	// An image has no sandbox to write into.
	m = exploreModel(t, 120, 40, &fakeImages{stacks: map[string]*union.Stack{"course": courseStack(t)}}, acts, "course")
	m = typeKeys(t, m, "u")
	if !strings.Contains(m.img.status, "copy-up needs a sandbox") {
		t.Errorf("u on an image: %q", m.img.status)
	}
}

// Keys that arrive in one message (fast typing, tmux send-keys) are each
// obeyed, by whichever view is open when each comes.
func TestImageKeysInOneMessage(t *testing.T) {
	images := &fakeImages{stacks: map[string]*union.Stack{"course": courseStack(t)}}
	m := exploreModel(t, 120, 40, images, nil, "course")
	m = typeKeys(t, m, "a")
	m = typeKeys(t, m, "jjj")
	if got := m.img.rows[m.img.cursor].it.Path(); got != "/etc" { // /, big (removed), bin/, etc/
		t.Errorf("three downs in one message: the cursor is on %s, want /etc", got)
	}
}
