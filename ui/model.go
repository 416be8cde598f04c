package ui

import (
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// The smallest terminal the screen is laid out for.
const (
	minWidth  = 80
	minHeight = 24
)

// Options configure the UI.
type Options struct {
	Source  Source
	Actions Actions
	// Images describes images and sandboxes for the Image view.
	Images Images
	// Explore opens the Image view on this image or sandbox at once, alone:
	// leaving it quits.
	Explore string
	// Refs are the sandboxes to watch; empty follows every running sandbox.
	Refs     []string
	Interval time.Duration // between snapshots; default 1s
	Styles   *Styles
	// StressMB is what one press of the stress key asks for (default 64).
	StressMB int
	// Clock is the time source (tests fix it); default time.Now.
	Clock func() time.Time

	// Guide is a lesson run beside the panels (glassbox learn; guide.go).
	Guide Guide
	// Follow picks the running sandboxes the screen takes up without being
	// asked for them by name (Refs empty); nil takes every one.
	Follow func(*state.Sandbox) bool
	// Record, when set, is handed every message the screen takes in, as an
	// Entry (record.go): top --record and learn --record write them out.
	Record func(Entry)
	// ReadOnly says why the keys that would change a sandbox do nothing
	// here (a replay): they stay on screen, marked unavailable.
	ReadOnly string
}

// common is what every part of the screen shares.
type common struct {
	width, height int
	st            *Styles
	keys          KeyMap
	help          help.Model
}

type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayExplain
	overlayCompare // the VM vs sandbox screen (compare.go)
	overlayAB      // two sandboxes side by side (ab.go)
	overlayLog     // the workload's log (logview.go)
	overlayEnv     // the workload's environment (envview.go)
)

// actsOnSandbox says whether the view leaves the action keys (stress,
// stop, …) to act on the focused sandbox: the views that watch a sandbox
// live do, so that what a key does can be seen in them.
func (o overlay) actsOnSandbox() bool {
	return o == overlayAB || o == overlayLog
}

// stopping is a graceful stop in progress, for the countdown.
type stopping struct {
	since   time.Time
	timeout time.Duration
}

// Model is the top model.
type Model struct {
	c    *common
	opt  Options
	refs []string // watched refs (named, and the ones started with n)

	boxes    []*box
	cur      int
	focus    Panel
	overlay  overlay
	scroll   int    // the first line on screen of a full-screen view that scrolls
	abB      string // the id of the sandbox the A vs B view shows as B, once chosen
	log      logView
	confirm  string // id of the sandbox awaiting a y/n for removal
	events   []Event
	status   string
	stops    map[string]stopping
	now      time.Time
	samples  int
	quitting bool
	once     bool        // one plain frame: no focus, no key help
	cmp      *compareRun // the last VM vs sandbox comparison (compare.go)

	img *imageView // the Image view, while it is open

	guide Guide      // a lesson beside the panels (guide.go)
	pane  *GuidePane // what the guide shows (or showed, in a replay)
}

// New builds the UI's model.
func New(o Options) Model {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Styles == nil {
		o.Styles = NewStyles(nil)
	}
	if o.StressMB <= 0 {
		o.StressMB = 64
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	c := &common{st: o.Styles, keys: DefaultKeyMap(o.StressMB), help: help.New()}
	if o.ReadOnly != "" {
		c.keys = c.keys.unavailable(o.ReadOnly)
	}
	c.help.Styles.ShortKey = o.Styles.Key
	c.help.Styles.ShortDesc = o.Styles.Footer
	c.help.Styles.ShortSeparator = o.Styles.Footer
	c.help.Styles.Ellipsis = o.Styles.Footer
	samples := int(time.Minute / o.Interval)
	m := Model{
		c: c, opt: o, refs: append([]string(nil), o.Refs...),
		stops: map[string]stopping{}, now: o.Clock(), samples: max(samples, 2),
		guide: o.Guide,
	}
	if o.Explore != "" {
		m.img = newImageView(c, o.Images, o.Actions, o.Interval, o.Explore)
	}
	return m
}

// Messages.
type (
	countdownMsg time.Time
	// snapshotsMsg carries one round of snapshots and when they were taken.
	snapshotsMsg struct {
		extra bool      // a round out of turn (after an OOM event): schedules no next one
		asked time.Time // when the round started
		at    time.Time // when its snapshots were all taken
		list  []*state.Sandbox
		snaps []*inspect.Snapshot
		errs  map[string]string // ref -> error
		refs  []string
		// missing are the watched refs the listing no longer has: removed
		// (by d, or by glassbox rm elsewhere).
		missing []string
	}
	// actionMsg is the result of one action.
	actionMsg struct {
		at   time.Time
		id   string
		name string
		kind EventKind
		text string
		err  error
		// added is a sandbox the action created, to watch from now on.
		added string
		held  int       // MiB the calculator now holds; -1: unchanged
		asked time.Time // when the action was asked for
		verb  string    // what act was asked to do
	}
	// oomMsg is the kernel's word of an OOM kill (or the end of its watch).
	oomMsg struct {
		id   string
		ev   inspect.OOMEvent
		ch   <-chan inspect.OOMEvent
		open bool  // false: the watch ended (the cgroup went)
		err  error // the watch could not start
	}
)

// Init takes the first snapshot at once (and reads the image to explore).
func (m Model) Init() tea.Cmd {
	if m.opt.Explore != "" {
		return m.img.init()
	}
	if m.guide != nil {
		return tea.Batch(m.snapshotCmd(), m.guide.Init())
	}
	return m.snapshotCmd()
}

// nextRound waits for the next refresh, then takes its snapshots, in one
// command: one message (and one redraw) per refresh. The wait counts from
// when the last round was asked for, so that slow reads do not stretch the
// interval.
func (m Model) nextRound(asked time.Time) tea.Cmd {
	wait := m.opt.Interval - m.opt.Clock().Sub(asked)
	take := m.snapshotCmd()
	if wait <= 0 {
		return take
	}
	return tea.Tick(wait, func(time.Time) tea.Msg { return take() })
}

// snapshotCmd reads every watched sandbox; all of it runs off the UI's goroutine.
func (m Model) snapshotCmd() tea.Cmd {
	src, clock := m.opt.Source, m.opt.Clock
	if src == nil {
		return nil // the Image view alone
	}
	follow := len(m.opt.Refs) == 0
	// Each sandbox once, by id where it is known (a ref may be a name).
	var refs []string
	for _, r := range m.refs {
		for _, b := range m.boxes {
			if b.name == r {
				r = b.id
			}
		}
		if !contains(refs, r) {
			refs = append(refs, r)
		}
	}
	for _, b := range m.boxes {
		if !b.gone && !contains(refs, b.id) {
			refs = append(refs, b.id)
		}
	}
	return func() tea.Msg {
		msg := snapshotsMsg{errs: map[string]string{}, asked: clock()}
		// One listing per round: the records of every sandbox, from which
		// the watched ones are picked (no lookup per sandbox).
		list, err := src.List()
		if err != nil {
			msg.errs[""] = err.Error()
			msg.at = clock()
			return msg
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Created.Before(list[j].Created) })
		msg.list = list
		if follow {
			for _, sb := range list {
				if sb.Status.Live() && !contains(refs, sb.ID) && m.follows(sb) {
					refs = append(refs, sb.ID)
				}
			}
		}
		msg.refs = refs
		for _, r := range refs {
			sb := find(list, r)
			if sb == nil {
				msg.missing = append(msg.missing, r)
				continue
			}
			s, err := src.Snapshot(sb)
			if err != nil {
				msg.errs[r] = err.Error()
				continue
			}
			msg.snaps = append(msg.snaps, s)
		}
		msg.at = clock()
		return msg
	}
}

// find picks a sandbox out of a listing by id, name or unique id prefix.
func find(list []*state.Sandbox, ref string) *state.Sandbox {
	var prefixed []*state.Sandbox
	for _, sb := range list {
		if sb.ID == ref || sb.Name == ref {
			return sb
		}
		if strings.HasPrefix(sb.ID, ref) {
			prefixed = append(prefixed, sb)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// update handles one message for the screen itself (Update, in guide.go,
// lets a lesson see it first and a recording keep it); it never blocks.
func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = msg.Width, msg.Height
		m.c.help.Width = msg.Width
		return m, nil
	case countdownMsg:
		m.now = time.Time(msg)
		if len(m.stops) > 0 {
			return m, countdown()
		}
		return m, nil
	case snapshotsMsg:
		m.applySnapshots(msg)
		watches := m.watchOOM()
		if msg.extra {
			return m, watches
		}
		return m, tea.Batch(m.nextRound(msg.asked), watches)
	case oomMsg:
		return m.applyOOM(msg)
	case actionMsg:
		m.applyAction(msg)
		return m, nil
	case logLinesMsg:
		return m.applyLogLines(msg)
	case compareEventMsg, compareDoneMsg, compareTickMsg:
		return m.updateCompare(msg)
	case imageLoadedMsg, imageViewMsg, imageWasteMsg, imageFileMsg, imageTickMsg, imageUpperMsg, imageCopyUpMsg:
		if m.img == nil {
			return m, nil // the view was closed meanwhile
		}
		_, cmd := m.img.apply(msg)
		return m, cmd
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys typed faster than the terminal is read (or sent by tmux
			// send-keys) arrive as one message: each is a key of its own,
			// and may go to another view than the one before (i, then j).
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				next, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
				m = next.(Model)
				cmds = append(cmds, cmd)
			}
			return m, tea.Batch(cmds...)
		}
		if m.img != nil && !m.quitting && msg.Type != tea.KeyCtrlC {
			return m.imageKey(msg)
		}
		return m.handleKey(msg)
	case tea.MouseMsg:
		// Only with --mouse: the wheel moves the focus.
		if msg.Action == tea.MouseActionPress {
			switch msg.Button {
			case tea.MouseButtonWheelDown:
				m.focus = (m.focus + 1) % numPanels
			case tea.MouseButtonWheelUp:
				m.focus = (m.focus + numPanels - 1) % numPanels
			}
		}
		return m, nil
	}
	return m, nil
}

func countdown() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return countdownMsg(t) })
}

// Running names the watched sandboxes that are still running, for the
// goodbye message: quitting the UI leaves them running.
func (m Model) Running() []string {
	var out []string
	for _, b := range m.boxes {
		if r := b.record(); r.Engine == "" && r.Status.Live() {
			out = append(out, b.name) // another engine's container is its engine's to stop
		}
	}
	return out
}

// openImage opens the Image view on a sandbox (or image) by name or id.
func (m Model) openImage(ref string) (Model, tea.Cmd) {
	m.img = newImageView(m.c, m.opt.Images, m.opt.Actions, m.opt.Interval, ref)
	return m, m.img.init()
}

// imageKey gives a key to the open Image view; leaving it goes back to
// the main screen, or quits when the view was opened alone.
func (m Model) imageKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, m.img.keys.Quit) && !m.img.help {
		m.quitting = true
		return m, tea.Quit
	}
	cmd, done := m.img.handleKey(msg)
	if !done {
		return m, cmd
	}
	if m.opt.Explore != "" {
		m.quitting = true
		return m, tea.Quit
	}
	m.img = nil
	return m, nil
}
