package ui

import (
	"reflect"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// Guide is a lesson that runs beside the panels (glassbox learn): it sees
// every message before the screen does, may answer keys of its own, and
// says what to show in its pane. The lesson itself (its steps, its checks,
// its helpers) lives outside ui; cmd/ wires it in through Options.Guide.
type Guide interface {
	Init() tea.Cmd
	// Update takes one message with what the screen shows at that moment.
	// taken says the message was the guide's (one of its own, or a key it
	// answered): the screen does not see it then.
	Update(msg tea.Msg, seen Seen) (g Guide, cmd tea.Cmd, taken bool)
	// Pane is what the guide shows now.
	Pane() GuidePane
	// Show is what the guide wants the screen to show now (a step's
	// sandbox and panel), once; nil for nothing. The screen asks after
	// each Update, so that it applies in order with everything else.
	Show() *ShowMsg
}

// GuideState is where a lesson's step stands.
type GuideState string

const (
	GuideWaiting  GuideState = "waiting"  // the check does not hold yet
	GuideDone     GuideState = "done"     // the check holds
	GuideFailed   GuideState = "failed"   // a fail-check fired: that did something else
	GuideSkipped  GuideState = "skipped"  // the machine lacks what the step needs
	GuideFinished GuideState = "finished" // no step left
)

// GuidePane is what a guide shows, as plain data, so that a recording
// keeps it and a replay shows it as it was.
type GuidePane struct {
	// Presenter lays the screen out for a projector: large type, one panel.
	Presenter bool     `json:"presenter,omitempty"`
	Heading   string   `json:"heading"` // where in the course: "3 cgroups · step 2 of 5"
	Title     string   `json:"title"`
	Narration []string `json:"narration,omitempty"`
	Predict   string   `json:"predict,omitempty"` // a question to answer before doing
	// Do is the one thing to do: a command in full, or a key to press.
	Do    string `json:"do,omitempty"`
	DoKey bool   `json:"do_key,omitempty"` // Do names a key of this screen
	// Hold: the presenter shows the question alone until the next key.
	Hold   bool       `json:"hold,omitempty"`
	State  GuideState `json:"state"`
	Status string     `json:"status,omitempty"` // what the check saw, or why it is waiting
	Hint   string     `json:"hint,omitempty"`   // set once the hint is due
	Keys   string     `json:"keys"`             // the guide's keys, in a line
}

// Seen is what the screen shows, for a guide's checks: read it, do not
// change it.
type Seen struct {
	Now     time.Time
	Boxes   []SeenBox
	Current string // the selected sandbox's name
	Focus   Panel
	// Overlay names what covers the panels: "", "help", "explain",
	// "compare", "image", "ab", "log", "env".
	Overlay string
	Events  []Event
	Status  string
	// Compare is the last VM vs sandbox comparison (key v), nil before one.
	Compare *SeenCompare
}

// SeenBox is one sandbox on screen: its last snapshot and record.
type SeenBox struct {
	ID, Name string
	Snap     *inspect.Snapshot // nil before the first
	Record   *state.Sandbox
}

// SeenCompare is a comparison as the screen has it.
type SeenCompare struct {
	Done    bool
	Err     string
	Figures state.Comparison
}

// Box finds a sandbox on screen by name or id.
func (s Seen) Box(ref string) (SeenBox, bool) {
	for _, b := range s.Boxes {
		if b.Name == ref || b.ID == ref {
			return b, true
		}
	}
	return SeenBox{}, false
}

// ShowMsg asks the screen to select a sandbox (by name or id; "" keeps the
// selection) and focus a panel, closing an overlay when Close is set. A
// guide asks it through Show when a step begins.
type ShowMsg struct {
	Box   string `json:"box,omitempty"`
	Panel Panel  `json:"panel"`
	Close bool   `json:"close,omitempty"`
}

// Update handles one message; it never blocks. A guide sees the message
// first, and a recording (Options.Record) keeps what the screen took in.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	entry := m.entry(msg)
	var gcmd tea.Cmd
	if m.guide != nil {
		g, cmd, taken := m.guide.Update(msg, m.seen())
		m.guide, gcmd = g, cmd
		if s := m.guide.Show(); s != nil {
			m = m.show(*s)
			m.record(Entry{Show: s})
		}
		if taken {
			m.notePane()
			return m, gcmd
		}
	}
	var next tea.Model
	var cmd tea.Cmd
	if show, ok := msg.(ShowMsg); ok {
		next = m.show(show)
	} else {
		next, cmd = m.update(msg)
	}
	nm := next.(Model)
	if entry != nil {
		nm.record(*entry)
	}
	nm.notePane()
	return nm, tea.Batch(gcmd, cmd)
}

// notePane takes the guide's pane in, recording it when it changed.
func (m *Model) notePane() {
	if m.guide == nil {
		return
	}
	p := m.guide.Pane()
	if m.pane != nil && reflect.DeepEqual(*m.pane, p) {
		return
	}
	m.pane = &p
	m.record(Entry{Guide: &p})
}

// show selects a sandbox and a panel for a guide.
func (m Model) show(s ShowMsg) Model {
	if s.Close && m.overlay != overlayCompare {
		m.overlay = overlayNone
	}
	if s.Close && m.overlay == overlayCompare && m.cmp != nil && m.cmp.done {
		m.overlay = overlayNone
	}
	if s.Box != "" {
		for i, b := range m.boxes {
			if b.name == s.Box || b.id == s.Box {
				m.cur = i
			}
		}
	}
	if s.Panel >= 0 && s.Panel < numPanels {
		m.focus = s.Panel
	}
	return m
}

// seen is the screen's state for the guide.
func (m Model) seen() Seen {
	s := Seen{Now: m.now, Focus: m.focus, Overlay: m.overlayName(), Events: m.events, Status: m.status}
	for _, b := range m.boxes {
		s.Boxes = append(s.Boxes, SeenBox{ID: b.id, Name: b.name, Snap: b.snap, Record: b.record()})
	}
	if b := m.focused(); b != nil {
		s.Current = b.name
	}
	if m.cmp != nil {
		s.Compare = &SeenCompare{Done: m.cmp.done, Err: m.cmp.err, Figures: m.cmp.c}
	}
	return s
}

// overlayName names what covers the panels, "" for nothing.
func (m Model) overlayName() string {
	if m.img != nil {
		return "image"
	}
	switch m.overlay {
	case overlayHelp:
		return "help"
	case overlayExplain:
		return "explain"
	case overlayCompare:
		return "compare"
	case overlayAB:
		return "ab"
	case overlayLog:
		return "log"
	case overlayEnv:
		return "env"
	}
	return ""
}

// follows says whether the screen takes up a running sandbox it was not
// asked for by name: every one, unless Options.Follow picks.
func (m Model) follows(sb *state.Sandbox) bool {
	return m.opt.Follow == nil || m.opt.Follow(sb)
}
