package replay

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

// A replay is a fold: a fresh screen (ui.Model) takes the recorded entries
// in, in order, on the recorded clock (ui.Model.Apply). Playing moves a
// playhead through the session and applies what it passes; seeking back
// folds again from the start (a few thousand entries take milliseconds).

// speeds are the playback speeds + and - step through.
var speeds = []float64{0.25, 0.5, 1, 2, 4, 8, 16}

// readOnly is why the keys that would change a sandbox do nothing here.
const readOnly = "a replay of a recording changes nothing"

// Player plays a recording on the screen.
type Player struct {
	rec    *Recording
	styles *ui.Styles
	m      ui.Model
	now    *time.Time // the model's clock: the entry being applied
	next   int        // the next entry to apply
	pos    time.Duration
	speed  int // an index of speeds
	paused bool
	// follow applies the recording's own moves around the screen (focus,
	// sandbox, overlays); a viewer who moves around stops it.
	follow bool
	w, h   int
	last   time.Time // the previous tick's wall clock
	note   string    // the last word on a key
	// still: one frame to print (--once), not a screen to press keys on:
	// the keys show as they did live.
	still bool
}

// NewPlayer makes a player at the start of a recording.
func NewPlayer(rec *Recording, st *ui.Styles) *Player {
	p := &Player{rec: rec, styles: st, speed: 2, follow: true}
	p.rewind()
	return p
}

// still is a player for one frame: the screen exactly as it was.
func still(rec *Recording, st *ui.Styles) *Player {
	p := &Player{rec: rec, styles: st, speed: 2, follow: true, still: true}
	p.rewind()
	return p
}

// rewind starts the screen afresh, before the first entry.
func (p *Player) rewind() {
	now := p.rec.Start()
	p.now = &now
	h := p.rec.Header
	clock := p.now
	ro := readOnly
	if p.still {
		ro = ""
	}
	p.m = ui.New(ui.Options{Styles: p.styles, Interval: h.Interval, StressMB: h.StressMB, Actions: unavailable{}, Source: recorded{},
		Clock: func() time.Time { return *clock }, ReadOnly: ro})
	p.next, p.pos = 0, 0
	if p.w > 0 {
		p.resize()
	}
}

func (p *Player) resize() {
	next, _ := p.m.Update(tea.WindowSizeMsg{Width: p.w, Height: max(p.h-1, 1)})
	p.m = next.(ui.Model)
}

// apply takes the next entry in.
func (p *Player) apply() {
	e := p.rec.Entries[p.next]
	p.next++
	*p.now = e.At
	if e.Key != nil && !p.follow {
		k := tea.KeyMsg{Type: e.Key.Type, Runes: []rune(e.Key.Runes)}
		if p.m.Navigates(k) {
			return // the viewer looks around for themselves
		}
	}
	if e.Guide != nil && !p.still {
		g := *e.Guide
		g.Keys = "(the lesson as it ran: the keys below drive the replay)"
		e.Guide = &g
	}
	p.m = p.m.Apply(e)
}

// offset is an entry's time into the session.
func (p *Player) offset(i int) time.Duration { return p.rec.Entries[i].At.Sub(p.rec.Start()) }

// Seek moves the playhead to d into the session.
func (p *Player) Seek(d time.Duration) {
	d = min(max(d, 0), p.rec.Length())
	if d < p.pos {
		p.rewind()
	}
	for p.next < len(p.rec.Entries) && p.offset(p.next) <= d {
		p.apply()
	}
	p.pos = d
	*p.now = p.rec.Start().Add(d)
}

// step moves to the next entry that changes what the screen shows.
func (p *Player) step() {
	for p.next < len(p.rec.Entries) {
		e := p.rec.Entries[p.next]
		p.Seek(p.offset(p.next))
		if e.Tick || (e.Compare != nil && e.Compare.Tick) || e.Size != nil {
			continue
		}
		return
	}
}

// stepBack moves to the entry before the playhead's.
func (p *Player) stepBack() {
	if p.next <= 1 {
		p.Seek(0)
		return
	}
	p.Seek(p.offset(p.next-2) + 0)
}

// Frame is the screen at the playhead, w×h.
func (p *Player) Frame(w, h int) string {
	p.w, p.h = w, h+1
	p.resize()
	return p.m.View()
}

type tickMsg time.Time

func tick() tea.Cmd {
	return tea.Tick(50*time.Millisecond, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Init starts playing.
func (p *Player) Init() tea.Cmd { return tick() }

// Update plays, and answers the keys.
func (p *Player) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.w, p.h = msg.Width, msg.Height
		p.resize()
	case tickMsg:
		t := time.Time(msg)
		if !p.paused && !p.last.IsZero() {
			p.Seek(p.pos + time.Duration(float64(t.Sub(p.last))*speeds[p.speed]))
			if p.pos >= p.rec.Length() {
				p.paused = true
			}
		}
		p.last = t
		return p, tick()
	case tea.KeyMsg:
		return p.key(msg)
	}
	return p, nil
}

func (p *Player) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	p.note = ""
	switch msg.String() {
	case "q", "ctrl+c":
		return p, tea.Quit
	case " ":
		p.paused = !p.paused
		if !p.paused && p.pos >= p.rec.Length() {
			p.Seek(0)
		}
	case ".":
		p.paused = true
		p.step()
	case ",":
		p.paused = true
		p.stepBack()
	case "right":
		p.Seek(p.pos + 10*time.Second)
	case "left":
		p.Seek(p.pos - 10*time.Second)
	case "+", "=":
		p.speed = min(p.speed+1, len(speeds)-1)
	case "-":
		p.speed = max(p.speed-1, 0)
	case "home", "g":
		p.Seek(0)
	case "end", "G":
		p.Seek(p.rec.Length())
	case "f":
		p.follow = !p.follow
		if p.follow {
			p.note = "following the recording's moves again"
			pos := p.pos
			p.rewind()
			p.Seek(pos)
		}
	default:
		if p.m.Changes(msg) {
			p.note = fmt.Sprintf("%s: unavailable — %s", msg.String(), readOnly)
			p.m = p.m.WithStatus(p.note)
			return p, nil
		}
		if p.m.Navigates(msg) {
			p.follow = false
		}
		next, _ := p.m.Update(msg)
		p.m = next.(ui.Model)
	}
	return p, nil
}

// View is the screen with the replay's own line at the bottom.
func (p *Player) View() string {
	if p.w == 0 {
		return "glassbox replay: reading…"
	}
	return p.m.View() + "\n" + p.bar()
}

// bar says where the playhead is and what the keys do.
func (p *Player) bar() string {
	st := p.styles
	state := "▶"
	if p.paused {
		state = "❚❚"
	}
	look := ""
	if !p.follow {
		look = " · free look (f follows)"
	}
	keys := "space pause · ←/→ 10 s · ,/. step · +/- speed · q quit"
	if p.note != "" {
		keys = p.note
	}
	s := fmt.Sprintf(" REPLAY %s %s / %s ×%g%s · %s", state, Clock(p.pos), Clock(p.rec.Length()), speeds[p.speed], look, keys)
	return st.Banner.Render(fit(s, p.w))
}

func fit(s string, w int) string {
	r := []rune(s)
	if len(r) > w {
		return string(r[:max(w-1, 0)]) + "…"
	}
	return s + strings.Repeat(" ", w-len(r))
}

// unavailable are the actions of a replay: none.
type unavailable struct{}

var errReplay = errors.New("unavailable: " + readOnly)

func (unavailable) StressMemory(string, int) (int, error)        { return 0, errReplay }
func (unavailable) ReleaseMemory(string) (int, error)            { return 0, errReplay }
func (unavailable) BurnCPU(string, int, int) error               { return errReplay }
func (unavailable) Calculate(string) (string, string, error)     { return "", "", errReplay }
func (unavailable) Pause(string) error                           { return errReplay }
func (unavailable) Unpause(string) error                         { return errReplay }
func (unavailable) Stop(string, time.Duration) (string, error)   { return "", errReplay }
func (unavailable) Kill(string) error                            { return errReplay }
func (unavailable) Restart(string) error                         { return errReplay }
func (unavailable) IgnoreSIGTERM(string) error                   { return errReplay }
func (unavailable) Start() (string, error)                       { return "", errReplay }
func (unavailable) Remove(string) error                          { return errReplay }
func (unavailable) Shell(string) (*exec.Cmd, error)              { return nil, errReplay }
func (unavailable) CopyUp(string, string) (string, int64, error) { return "", 0, errReplay }
func (unavailable) CompareVM(context.Context, func(state.CompareEvent)) (*state.Comparison, error) {
	return nil, errReplay
}

var _ ui.Actions = unavailable{}

// recorded is a replay's source: the recording holds the snapshots and
// the log lines; nothing is read (a replay never runs the screen's
// commands, so these are never called: the log view opens on them).
type recorded struct{}

var errRecorded = errors.New("a replay reads only its recording")

func (recorded) List() ([]*state.Sandbox, error)                    { return nil, errRecorded }
func (recorded) Snapshot(*state.Sandbox) (*inspect.Snapshot, error) { return nil, errRecorded }
func (recorded) FollowLog(context.Context, string, int, func(ui.LogLine)) error {
	return errRecorded
}
