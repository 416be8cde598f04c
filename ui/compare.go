package ui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// The comparison screen (key v): the calculator in a micro-VM and in a
// sandbox, measured live on this machine (what `glassbox vm-vs-container`
// prints), the two columns filling in as each figure is measured. The
// measuring runs through Actions.CompareVM in a tea.Cmd; its reports come
// back one message at a time over a channel. Leaving the screen (or
// quitting) cancels it, and the screen waits until everything it started
// has been removed.

// compareRun is one comparison, running or done.
type compareRun struct {
	c       state.Comparison // the figures so far
	setup   bool             // the set-up (accelerator, kernel) is known
	current string           // the step in progress
	since   time.Time        // when it began
	last    string           // the last step done, with its note
	started time.Time
	ended   time.Time
	err     string
	done    bool
	// stopping: cancelled, waiting for the clean-up; quit then quits the
	// program once it has ended.
	stopping, quit bool
	sel            int // selected row, an index of rows()
	cancel         context.CancelFunc
	ch             chan tea.Msg
}

// Messages of a comparison.
type (
	compareEventMsg struct {
		e  state.CompareEvent
		at time.Time
	}
	compareDoneMsg struct {
		c   *state.Comparison
		err error
		at  time.Time
	}
	compareTickMsg time.Time
)

// rows are the rows the screen shows: all but "running at once", which
// only a run asked for it has.
func (r *compareRun) rows() []state.CompareRow {
	var out []state.CompareRow
	for _, row := range state.CompareRows {
		if len(r.c.Expected(row)) > 0 {
			out = append(out, row)
		}
	}
	return out
}

// startCompare opens the screen and starts a comparison.
func (m Model) startCompare() (Model, tea.Cmd) {
	ctx, cancel := context.WithCancel(context.Background())
	// Reports are small and few (a few dozen): the buffer keeps the
	// measuring from waiting on the screen.
	ch := make(chan tea.Msg, 256)
	now := m.opt.Clock()
	m.cmp = &compareRun{started: now, since: now, current: "starting", cancel: cancel, ch: ch}
	m.overlay = overlayCompare
	acts, clock := m.opt.Actions, m.opt.Clock
	run := func() tea.Msg {
		c, err := acts.CompareVM(ctx, func(e state.CompareEvent) { ch <- compareEventMsg{e: e, at: clock()} })
		ch <- compareDoneMsg{c: c, err: err, at: clock()}
		return nil
	}
	return m, tea.Batch(run, waitCompare(ch), compareTick())
}

func waitCompare(ch chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

func compareTick() tea.Cmd {
	return tea.Tick(250*time.Millisecond, func(t time.Time) tea.Msg { return compareTickMsg(t) })
}

// updateCompare applies a comparison's message.
func (m Model) updateCompare(msg tea.Msg) (Model, tea.Cmd) {
	r := m.cmp
	if r == nil {
		return m, nil
	}
	switch msg := msg.(type) {
	case compareTickMsg:
		m.now = time.Time(msg)
		if r.done {
			return m, nil
		}
		return m, compareTick()
	case compareEventMsg:
		r.apply(msg.e, msg.at)
		return m, waitCompare(r.ch)
	case compareDoneMsg:
		r.done, r.ended, r.current = true, msg.at, ""
		if msg.c != nil {
			r.c = *msg.c
		}
		switch {
		case r.stopping:
			r.err = "stopped; everything it started is removed"
		case msg.err != nil:
			r.err = msg.err.Error()
		}
		if r.quit {
			m.quitting = true
			return m, tea.Quit
		}
		if r.stopping {
			m.overlay, m.status = overlayNone, "comparison stopped; everything it started is removed"
		}
		return m, nil
	}
	return m, nil
}

// apply records one report.
func (r *compareRun) apply(e state.CompareEvent, at time.Time) {
	switch {
	case e.Setup != nil:
		r.c = *e.Setup
		r.setup = true
	case e.Figure != nil:
		r.c.Set(*e.Figure)
	case e.Done:
		r.last = words.CompareStepDone(e)
		r.current = ""
	case e.Step != "":
		if e.Step != r.current {
			r.current, r.since = e.Step, at
		}
	}
}

// compareKey handles a key on the comparison screen.
func (m Model) compareKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	k, r := m.c.keys, m.cmp
	switch {
	case key.Matches(msg, k.Quit) && msg.Type != tea.KeyEsc, msg.Type == tea.KeyCtrlC:
		if r.done {
			m.quitting = true
			return m, tea.Quit
		}
		r.quit = true
		r.stop()
	case msg.Type == tea.KeyEsc, key.Matches(msg, k.Compare):
		if r.done {
			m.overlay = overlayNone
			return m, nil
		}
		r.stop()
	case key.Matches(msg, k.NextPanel):
		r.sel = min(r.sel+1, len(r.rows())-1)
	case key.Matches(msg, k.PrevPanel):
		r.sel = max(r.sel-1, 0)
	}
	return m, nil
}

// stop cancels a running comparison; its clean-up ends it.
func (r *compareRun) stop() {
	if !r.done && !r.stopping {
		r.stopping = true
		r.cancel()
	}
}
