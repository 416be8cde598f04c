package ui

import (
	"context"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// The log view (key L): the focused sandbox's log — its workload's stdout
// and stderr, as glassbox logs -f prints them — followed live while the
// action keys go on acting, so that a request sent with x shows up as it
// is served. The supervisor's /health polls, every few seconds, would bury
// a student's own requests: they are hidden unless H shows them. The
// supervisor's own notes (stops, pauses, health changes) are not in it:
// they are the Events panel's.

// logTail is how many lines the view starts with; maxLogLines how many it keeps.
const (
	logTail     = 200
	maxLogLines = 2000
)

// logView is the log view's state.
type logView struct {
	id, name  string
	gen       int // which opening of the view the lines belong to
	lines     []LogLine
	showPolls bool // the supervisor's health polls are shown too
	follow    bool // the view stays at the end as lines come
	ended     bool // the follow ended: the sandbox has ended for good
	err       string
	cancel    context.CancelFunc
}

// logLinesMsg carries the lines read since the last one (or the follow's end).
type logLinesMsg struct {
	gen   int
	lines []LogLine
	ch    <-chan LogLine
	errc  <-chan error // the follow's end: its error, once ch is closed
	open  bool
	err   error
}

// openLog opens the view on the focused sandbox and starts following its log.
func (m Model) openLog() (Model, tea.Cmd) {
	b := m.focused()
	m.overlay, m.scroll = overlayLog, 0
	gen := m.log.gen + 1
	m.log = logView{gen: gen, follow: true, showPolls: m.log.showPolls}
	if b == nil {
		m.log.err = "no sandbox: press n to start one"
		return m, nil
	}
	m.log.id, m.log.name = b.id, b.name
	f, ok := m.opt.Source.(LogFollower)
	if !ok {
		m.log.err = "this view has no logs to read"
		return m, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.log.cancel = cancel
	ch := make(chan LogLine, 1024)
	errc := make(chan error, 1)
	id := b.id
	follow := func() tea.Msg {
		err := f.FollowLog(ctx, id, logTail, func(l LogLine) {
			select {
			case ch <- l:
			case <-ctx.Done():
			}
		})
		errc <- err
		close(ch)
		return nil
	}
	return m, tea.Batch(follow, nextLogLines(gen, ch, errc))
}

// nextLogLines waits for the next line, then takes whatever else is already
// there, so that a burst is one message (and one redraw).
func nextLogLines(gen int, ch <-chan LogLine, errc <-chan error) tea.Cmd {
	return func() tea.Msg {
		l, ok := <-ch
		if !ok {
			return logLinesMsg{gen: gen, err: <-errc}
		}
		msg := logLinesMsg{gen: gen, lines: []LogLine{l}, ch: ch, errc: errc, open: true}
		for len(msg.lines) < 512 {
			select {
			case l, ok := <-ch:
				if !ok {
					return msg // the end comes with the next read
				}
				msg.lines = append(msg.lines, l)
			default:
				return msg
			}
		}
		return msg
	}
}

// applyLogLines takes lines in, and asks for the next ones.
func (m Model) applyLogLines(msg logLinesMsg) (Model, tea.Cmd) {
	if msg.gen != m.log.gen || m.overlay != overlayLog {
		return m, nil // a view since closed
	}
	m.log.lines = append(m.log.lines, msg.lines...)
	if n := len(m.log.lines); n > maxLogLines {
		m.log.lines = append([]LogLine(nil), m.log.lines[n-maxLogLines:]...)
	}
	if m.log.follow {
		n, page := m.overlayLen()
		m.scroll = clampOffset(n, n, page)
	}
	if !msg.open {
		m.log.ended = true
		if msg.err != nil {
			m.log.err = msg.err.Error()
		}
		return m, nil
	}
	return m, nextLogLines(msg.gen, msg.ch, msg.errc)
}

// closeLog stops following.
func (m *Model) closeLog() {
	if m.log.cancel != nil {
		m.log.cancel()
	}
	m.log.cancel = nil
}

// visibleLog are the lines shown, and how many health polls are hidden.
func (m Model) visibleLog() ([]LogLine, int) {
	if m.log.showPolls {
		return m.log.lines, 0
	}
	var out []LogLine
	hidden := 0
	for _, l := range m.log.lines {
		if strings.Contains(l.Text, state.HealthProbeAgent) {
			hidden++
			continue
		}
		out = append(out, l)
	}
	return out, hidden
}

// logLines are the view's lines, w cells wide: each log line after its
// time, wrapped under itself, stderr marked.
func (m Model) logLines(w int) []string {
	st := m.c.st
	lines, _ := m.visibleLog()
	var out []string
	for _, l := range lines {
		mark := " "
		if l.Stream == "stderr" {
			mark = st.Warn.Render("!")
		}
		// Logs are often JSON, without spaces to break at: cut at the width.
		body := strings.Split(ansi.Hardwrap(l.Text, max(w-11, 10), true), "\n")
		out = append(out, st.Dim.Render(l.Time.Format("15:04:05"))+" "+mark+" "+body[0])
		for _, b := range body[1:] {
			out = append(out, strings.Repeat(" ", 11)+b)
		}
	}
	if len(out) == 0 && m.log.err == "" {
		out = append(out, st.Dim.Render("nothing written yet: x sends a request, and its line appears here"))
	}
	switch {
	case m.log.err != "":
		out = append(out, st.Bad.Render(cut("the log could not be read: "+m.log.err, w)))
	case m.log.ended:
		out = append(out, st.Dim.Render(cut("— the sandbox has ended: its log ends here (L twice reads it again) —", w)))
	}
	return out
}

// logPage is how many log lines fit at h rows: the frame holds a line
// that says what is shown, then the log.
func (m Model) logPage(h int) int {
	return h - len(m.footer(m.c.width, h)) - 3
}

// renderLog is the log view: the log in a frame, the footer under it.
func (m Model) renderLog(w, h int) string {
	st := m.c.st
	_, hidden := m.visibleLog()
	what := st.Dim.Render(firstFit(w-4,
		words.LogViewTitle(hidden, m.log.showPolls, m.log.follow, false),
		words.LogViewTitle(hidden, m.log.showPolls, m.log.follow, true)))
	footer := m.footer(w, h)
	page := m.logPage(h)
	content := append([]string{what}, window(st, m.logLines(w-4), m.scroll, page)...)
	body := frame(st, "Log: "+m.log.name, true, content, w, page+3)
	return strings.Join(append([]string{body}, footer...), "\n")
}
