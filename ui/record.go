package ui

import (
	"errors"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// A recording is the stream of what the screen took in: every round of
// snapshots, the kernel's OOM events, the results of actions, the keys
// pressed, the countdown's ticks, a comparison's reports and a guide's
// pane, each with the moment it came. The screen is a function of that
// stream (Update is the Elm architecture's fold), so a replay that feeds
// the same entries to a fresh model, in order and on the recorded clock,
// draws the same frames — without root, without /proc, on any OS.
//
// What a replay cannot have is not recorded: the Image view reads the image
// store (its keys are left out, and opening it in a replay says it is not
// available), and the keys that quit.

// Entry is one message the screen took in, in a form a recording keeps.
// Exactly one of its parts is set.
type Entry struct {
	At      time.Time     `json:"t"`
	Size    *Size         `json:"size,omitempty"`
	Round   *Round        `json:"round,omitempty"`
	OOM     *OOMEntry     `json:"oom,omitempty"`
	Action  *ActionEntry  `json:"action,omitempty"`
	Key     *KeyEntry     `json:"key,omitempty"`
	Tick    bool          `json:"tick,omitempty"` // the stop countdown's second
	Compare *CompareEntry `json:"compare,omitempty"`
	Guide   *GuidePane    `json:"guide,omitempty"`
	Show    *ShowMsg      `json:"show,omitempty"`
	Log     *LogEntry     `json:"log,omitempty"`
}

// LogEntry is lines of the log view (key L), or the end of its follow.
type LogEntry struct {
	Gen   int       `json:"gen"`
	Lines []LogLine `json:"lines,omitempty"`
	Open  bool      `json:"open"`
	Err   string    `json:"err,omitempty"`
}

// Size is the terminal's size.
type Size struct {
	Width  int `json:"w"`
	Height int `json:"h"`
}

// Round is one round of snapshots. List holds only the records of the
// sandboxes the round concerns (the machine's others stay out of a
// recording).
type Round struct {
	Extra bool                `json:"extra,omitempty"`
	Asked time.Time           `json:"asked"`
	At    time.Time           `json:"at"`
	List  []*state.Sandbox    `json:"list"`
	Snaps []*inspect.Snapshot `json:"snaps"`
	Errs  map[string]string   `json:"errs,omitempty"`
	Refs  []string            `json:"refs,omitempty"`
}

// OOMEntry is the kernel's word of an OOM kill, or the end of a watch.
type OOMEntry struct {
	ID    string           `json:"id"`
	Event inspect.OOMEvent `json:"event"`
	Open  bool             `json:"open"`
	Err   string           `json:"err,omitempty"`
}

// ActionEntry is an action's result.
type ActionEntry struct {
	At    time.Time `json:"at"`
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Kind  EventKind `json:"kind"`
	Text  string    `json:"text"`
	Err   string    `json:"err,omitempty"`
	Added string    `json:"added,omitempty"`
	Held  int       `json:"held"`
	Asked time.Time `json:"asked"`
	Verb  string    `json:"verb,omitempty"`
	// NoAnswer: the error was the workload dying with the request in
	// flight (ErrNoAnswer), which the screen tells apart.
	NoAnswer bool `json:"no_answer,omitempty"`
}

// KeyEntry is a key press.
type KeyEntry struct {
	Type  tea.KeyType `json:"type"`
	Runes string      `json:"runes,omitempty"`
	Alt   bool        `json:"alt,omitempty"`
	Paste bool        `json:"paste,omitempty"`
}

// CompareEntry is one report of a VM vs sandbox comparison, its end, or a
// tick of its clock.
type CompareEntry struct {
	At    time.Time           `json:"at"`
	Event *state.CompareEvent `json:"event,omitempty"`
	Done  bool                `json:"done,omitempty"`
	Comp  *state.Comparison   `json:"comparison,omitempty"`
	Err   string              `json:"err,omitempty"`
	Tick  bool                `json:"tick,omitempty"`
}

// entry is the recording's form of msg, or nil when msg is not recorded.
func (m Model) entry(msg tea.Msg) *Entry {
	if m.opt.Record == nil {
		return nil
	}
	e := &Entry{}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		e.Size = &Size{Width: msg.Width, Height: msg.Height}
	case snapshotsMsg:
		e.Round = m.round(msg)
	case oomMsg:
		e.OOM = &OOMEntry{ID: msg.id, Event: msg.ev, Open: msg.open, Err: errText(msg.err)}
	case actionMsg:
		e.Action = &ActionEntry{At: msg.at, ID: msg.id, Name: msg.name, Kind: msg.kind, Text: msg.text,
			Err: errText(msg.err), Added: msg.added, Held: msg.held, Asked: msg.asked, Verb: msg.verb,
			NoAnswer: errors.Is(msg.err, ErrNoAnswer)}
	case logLinesMsg:
		e.Log = &LogEntry{Gen: msg.gen, Lines: msg.lines, Open: msg.open, Err: errText(msg.err)}
	case countdownMsg:
		e.At, e.Tick = time.Time(msg), true
	case compareEventMsg:
		ev := msg.e
		e.Compare = &CompareEntry{At: msg.at, Event: &ev}
	case compareDoneMsg:
		e.Compare = &CompareEntry{At: msg.at, Done: true, Comp: msg.c, Err: errText(msg.err)}
	case compareTickMsg:
		e.Compare = &CompareEntry{At: time.Time(msg), Tick: true}
	case ShowMsg:
		e.Show = &msg
	case tea.KeyMsg:
		if m.img != nil || key.Matches(msg, m.c.keys.Image) || key.Matches(msg, m.c.keys.Quit) || msg.Type == tea.KeyCtrlC {
			return nil // the Image view's, or the end
		}
		e.Key = &KeyEntry{Type: msg.Type, Runes: string(msg.Runes), Alt: msg.Alt, Paste: msg.Paste}
	default:
		return nil
	}
	return e
}

// round keeps a round of snapshots with the records it concerns.
func (m Model) round(msg snapshotsMsg) *Round {
	r := &Round{Extra: msg.extra, Asked: msg.asked, At: msg.at, Snaps: msg.snaps, Errs: msg.errs, Refs: msg.refs}
	if msg.list == nil {
		return r
	}
	r.List = []*state.Sandbox{}
	keep := func(id string) bool {
		for _, s := range msg.snaps {
			if s.Sandbox != nil && s.Sandbox.ID == id {
				return true
			}
		}
		return m.boxByID(id) != nil || contains(msg.refs, id) || contains(m.refs, id)
	}
	for _, sb := range msg.list {
		if keep(sb.ID) || contains(m.refs, sb.Name) {
			r.List = append(r.List, sb)
		}
	}
	return r
}

// record hands an entry to Options.Record, stamped with the clock.
func (m Model) record(e Entry) {
	if m.opt.Record == nil {
		return
	}
	if e.At.IsZero() {
		e.At = m.opt.Clock()
	}
	m.opt.Record(e)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// recordedErr is an error as a recording keeps it: its text, and whether
// it was ErrNoAnswer.
type recordedErr struct {
	text     string
	noAnswer bool
}

func (e recordedErr) Error() string        { return e.text }
func (e recordedErr) Is(target error) bool { return e.noAnswer && target == ErrNoAnswer }

func errOf(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

// Apply takes one recorded entry in, as the live screen took its message
// (a replay): nothing is read and no action runs — the commands the
// message would start are dropped, their results are entries of their own.
func (m Model) Apply(e Entry) Model {
	var msg tea.Msg
	switch {
	case e.Size != nil:
		return m // the replay's own terminal decides
	case e.Guide != nil:
		p := *e.Guide
		m.pane = &p
		return m
	case e.Show != nil:
		return m.show(*e.Show)
	case e.Round != nil:
		r := e.Round
		msg = snapshotsMsg{extra: r.Extra, asked: r.Asked, at: r.At, list: r.List, snaps: r.Snaps, errs: r.Errs, refs: r.Refs}
	case e.OOM != nil:
		msg = oomMsg{id: e.OOM.ID, ev: e.OOM.Event, open: e.OOM.Open, err: errOf(e.OOM.Err)}
	case e.Action != nil:
		a := e.Action
		var err error
		if a.Err != "" {
			err = recordedErr{text: a.Err, noAnswer: a.NoAnswer}
		}
		msg = actionMsg{at: a.At, id: a.ID, name: a.Name, kind: a.Kind, text: a.Text, err: err, added: a.Added, held: a.Held,
			asked: a.Asked, verb: a.Verb}
	case e.Log != nil:
		msg = logLinesMsg{gen: e.Log.Gen, lines: e.Log.Lines, open: e.Log.Open, err: errOf(e.Log.Err)}
	case e.Tick:
		msg = countdownMsg(e.At)
	case e.Compare != nil:
		c := e.Compare
		switch {
		case c.Tick:
			msg = compareTickMsg(c.At)
		case c.Done:
			msg = compareDoneMsg{c: c.Comp, err: errOf(c.Err), at: c.At}
		case c.Event != nil:
			msg = compareEventMsg{e: *c.Event, at: c.At}
		}
	case e.Key != nil:
		msg = tea.KeyMsg{Type: e.Key.Type, Runes: []rune(e.Key.Runes), Alt: e.Key.Alt, Paste: e.Key.Paste}
	}
	if msg == nil {
		return m
	}
	next, _ := m.update(msg)
	return next.(Model)
}
