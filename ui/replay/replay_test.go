package replay

import (
	"flag"
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

// The recording that ships: the whole lesson, run by learn --script
// --record (the README says how to make it again).
const shipped = "../../testdata/recordings/learn.jsonl.zst"

// TestGoldenUpdateIsOff fails while golden files are being rewritten.
func TestGoldenUpdateIsOff(t *testing.T) {
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		t.Fatal("golden update mode is on (-update): the goldens were rewritten, not checked; review the diff and run again without -update")
	}
}

func open(t *testing.T) *Recording {
	t.Helper()
	rec, err := Open(shipped)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// moment finds the first entry that matches, and its time into the session.
func moment(t *testing.T, rec *Recording, what string, match func(ui.Entry) bool) time.Duration {
	t.Helper()
	for _, e := range rec.Entries {
		if match(e) {
			return e.At.Sub(rec.Start())
		}
	}
	t.Fatalf("the recording has no %s", what)
	return 0
}

func guideAt(heading string, state ui.GuideState) func(ui.Entry) bool {
	return func(e ui.Entry) bool { return e.Guide != nil && e.Guide.Heading == heading && e.Guide.State == state }
}

// The recording says where it came from.
func TestShippedHeader(t *testing.T) {
	rec := open(t)
	h := rec.Header
	if h.Host.Kernel == "" || h.Host.CgroupMode == "" || h.Version == "" || !strings.HasPrefix(h.Command, "glassbox learn --script") {
		t.Errorf("header %+v: want the kernel, the cgroup mode, glassbox's version and the command", h)
	}
	if rec.Length() < 10*time.Second {
		t.Errorf("the recording lasts %s", rec.Length())
	}
}

// Frames of the shipped lesson, as replay --once prints them: one moment of
// each kind — a step done, the OOM kill, the comparison with a VM.
func TestShippedFrames(t *testing.T) {
	rec := open(t)
	oom := moment(t, rec, "OOM kill", func(e ui.Entry) bool { return e.OOM != nil && e.OOM.Event.Killed })
	for _, c := range []struct {
		name string
		at   time.Duration
	}{
		{"namespaces_two_pid1s", moment(t, rec, "step 1.4 done", guideAt("1 Namespaces · step 4 of 4", ui.GuideDone))},
		{"union_whiteout", moment(t, rec, "step 2.4 done", guideAt("2 The union filesystem · step 4 of 5", ui.GuideDone))},
		{"cgroups_oom_kill", oom},
		{"lifecycle_sigkill", moment(t, rec, "step 6.6 done", guideAt("6 Lifecycle · step 6 of 9", ui.GuideDone))},
		{"vm_compared", moment(t, rec, "step 8.2 done", guideAt("8 VMs and containers · step 2 of 2", ui.GuideDone))},
	} {
		t.Run(c.name, func(t *testing.T) {
			frame := Once(rec, c.at, 100, 30)
			if strings.Contains(frame, "\x1b") {
				t.Errorf("the frame has escape codes")
			}
			golden.RequireEqual(t, []byte(frame))
		})
	}
}

// The OOM banner shows at the moment the kernel's event was recorded, not
// a refresh later and not before.
func TestOOMBannerAtItsMoment(t *testing.T) {
	rec := open(t)
	oom := moment(t, rec, "OOM kill", func(e ui.Entry) bool { return e.OOM != nil && e.OOM.Event.Killed })
	if before := Once(rec, oom-time.Millisecond, 100, 30); strings.Contains(before, "OOM KILLED") {
		t.Errorf("the banner shows before the kill was recorded:\n%s", before)
	}
	if at := Once(rec, oom, 100, 30); !strings.Contains(at, "OOM KILLED: lesson-a hit its 96 MiB memory limit") {
		t.Errorf("no banner at the kill's moment (%s):\n%s", Clock(oom), at)
	}
}

func player(t *testing.T) *Player {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	p := NewPlayer(open(t), ui.NewStyles(r))
	p.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	return p
}

func key(p *Player, k string) {
	msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
	switch k {
	case "left":
		msg = tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		msg = tea.KeyMsg{Type: tea.KeyRight}
	case " ":
		msg = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "tab":
		msg = tea.KeyMsg{Type: tea.KeyTab}
	}
	p.Update(msg)
}

// The replay's keys: seek, step, pause, speed; the keys that would change
// a sandbox shown, and refused.
func TestPlayerKeys(t *testing.T) {
	p := player(t)
	if !strings.Contains(p.View(), "REPLAY ▶ 00:00") {
		t.Errorf("the replay does not start at 00:00, playing:\n%s", p.View())
	}
	key(p, " ")
	key(p, "right")
	key(p, "right")
	if p.pos != 20*time.Second || !strings.Contains(p.View(), "REPLAY ❚❚ 00:20") {
		t.Errorf("paused and sought 20 s on: at %s\n%s", p.pos, p.bar())
	}
	before := p.next
	key(p, ".")
	if p.next <= before || p.pos <= 20*time.Second {
		t.Errorf(". did not step to the next change: entry %d → %d, at %s", before, p.next, p.pos)
	}
	key(p, ",")
	if p.pos >= 20*time.Second+time.Second {
		t.Errorf(", did not step back: at %s", p.pos)
	}
	key(p, "left")
	key(p, "left")
	key(p, "left")
	if p.pos != 0 {
		t.Errorf("sought back past the start: at %s", p.pos)
	}
	key(p, "+")
	key(p, "+")
	if !strings.Contains(p.bar(), "×4") {
		t.Errorf("two + from 1×: %s", p.bar())
	}
	key(p, "G")
	if p.pos != p.rec.Length() {
		t.Errorf("G: at %s of %s", p.pos, p.rec.Length())
	}
	key(p, "m")
	if v := p.View(); !strings.Contains(v, "m: unavailable — a replay of a recording changes nothing") {
		t.Errorf("m did not say it is unavailable:\n%s", v)
	}
	// Looking around stops following the recording's own moves, f follows again.
	key(p, "tab")
	if p.follow || !strings.Contains(p.bar(), "free look") {
		t.Errorf("tab did not stop following: %s", p.bar())
	}
	key(p, "f")
	if !p.follow {
		t.Errorf("f did not follow again")
	}
}

// Playing moves the playhead by the wall clock times the speed, and stops
// at the end.
func TestPlayerPlays(t *testing.T) {
	p := player(t)
	t0 := time.Now()
	p.Update(tickMsg(t0))
	p.Update(tickMsg(t0.Add(2 * time.Second)))
	if p.pos != 2*time.Second {
		t.Errorf("2 s at 1×: at %s", p.pos)
	}
	key(p, "+")
	p.Update(tickMsg(t0.Add(3 * time.Second)))
	if p.pos != 4*time.Second {
		t.Errorf("1 s more at 2×: at %s", p.pos)
	}
	p.Update(tickMsg(t0.Add(time.Hour)))
	if !p.paused || p.pos != p.rec.Length() {
		t.Errorf("past the end: at %s, paused %v", p.pos, p.paused)
	}
}
