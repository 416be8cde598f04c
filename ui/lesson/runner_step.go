package lesson

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/ui"
)

// A step's life: prepared, watched on every tick, checked, solved when
// the lesson runs unattended.

// Update takes one message with what the screen shows.
func (r *Runner) Update(msg tea.Msg, seen ui.Seen) (ui.Guide, tea.Cmd, bool) {
	r.seen = seen
	switch msg := msg.(type) {
	case preparedMsg:
		return r, r.prepared(msg), true
	case tickMsg:
		return r, r.tick(msg), true
	case verdictMsg:
		return r, r.verdict(msg), true
	case solvedMsg:
		return r, r.solved(msg), true
	case advanceMsg:
		if msg.gen != r.gen {
			return r, nil, true
		}
		return r, r.next(), true
	case savedMsg:
		if msg.err != nil {
			r.say = "could not keep the progress: " + msg.err.Error()
		}
		return r, nil, true
	case tea.KeyMsg:
		if seen.Overlay != "" || r.o.Mode == Script {
			return r, nil, false
		}
		return r.key(msg)
	}
	return r, nil, false
}

// prepared starts the step: the screen shows its sandbox and panel, its
// check is looked at, and unattended, its solution runs.
func (r *Runner) prepared(msg preparedMsg) tea.Cmd {
	if msg.gen != r.gen {
		for _, stop := range msg.stops {
			stop()
		}
		return nil
	}
	r.fill, r.notes, r.stops, r.held = msg.fill, msg.notes, msg.stops, msg.held
	s := r.step()
	if msg.err != nil {
		r.phase, r.say = ui.GuideFailed, "the step could not start: "+msg.err.Error()
		return r.finishUnattended()
	}
	if r.fill.skip != "" {
		r.phase, r.say = ui.GuideSkipped, "skipped: this machine "+r.fill.skip
		return r.finishUnattended()
	}
	r.ready = true
	r.say = "waiting: do what the step says"
	r.show = &ui.ShowMsg{Box: r.fill.box, Panel: panelOf(s), Close: true}
	_, r.shown = r.seen.Box(r.fill.box)
	cmds := []tea.Cmd{r.tickAfter(0), r.save()}
	if r.unattended() {
		if s.Key != "" && len(r.fill.solve) == 0 {
			r.toPress = true
		} else {
			cmds = append(cmds, r.solve(0))
		}
	}
	return tea.Sequence(cmds...)
}

// panelOf is the panel a step is about, the Events panel when it names none.
func panelOf(s *Step) ui.Panel {
	if s.Panel < 0 {
		return ui.PanelEvents
	}
	return s.Panel
}

func (r *Runner) tickAfter(d time.Duration) tea.Cmd {
	gen := r.gen
	if d <= 0 {
		return func() tea.Msg { return tickMsg{gen: gen} }
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// tick looks at the check (one look at a time), shows the hint when due,
// presses a repeated key again, and gives up unattended after the timeout.
func (r *Runner) tick(msg tickMsg) tea.Cmd {
	if msg.gen != r.gen || !r.ready || r.phase == ui.GuideDone {
		return nil
	}
	now := r.o.Clock()
	s := r.step()
	if !r.hint && s.Hint != "" && now.Sub(r.since) >= r.o.HintAfter && !r.unattended() {
		r.hint = true
	}
	if r.unattended() {
		timeout := s.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		if now.Sub(r.since) > timeout {
			r.phase, r.say = ui.GuideFailed, fmt.Sprintf("timed out after %s: %s", timeout, r.say)
			return r.finishUnattended()
		}
	}
	cmds := []tea.Cmd{r.tickAfter(r.o.Poll)}
	if _, ok := r.seen.Box(r.fill.box); ok && !r.shown {
		r.shown = true
		r.show = &ui.ShowMsg{Box: r.fill.box, Panel: panelOf(s)}
	}
	if r.toPress && (r.fill.box == "" || r.seen.Current == r.fill.box) {
		r.toPress = false
		cmds = append(cmds, r.press(s.Key))
	}
	if s.Key != "" && s.Repeat > 0 && r.unattended() && !r.lastPress.IsZero() && now.Sub(r.lastPress) >= s.Repeat {
		cmds = append(cmds, r.press(s.Key))
	}
	if !r.looking {
		r.looking = true
		cmds = append(cmds, r.look())
	}
	return tea.Batch(cmds...)
}

// look runs the step's check (and its fail-check) off the screen's goroutine.
func (r *Runner) look() tea.Cmd {
	gen, f, w, sess, seen := r.gen, r.fill, r.o.World, r.sess, r.seen
	since, now, notes := r.since, r.o.Clock(), r.notes
	return func() tea.Msg {
		list, err := w.Sandboxes()
		if err != nil {
			return verdictMsg{gen: gen, v: waiting("list sandboxes: %v", err)}
		}
		sess.Adopt(list)
		c := &Ctx{Args: f.check.Args, List: list, Seen: seen, World: w, Sess: sess, Since: since, Now: now, Notes: notes}
		v := checks[f.check.Name].Test(c)
		if v.State == ui.GuideWaiting && f.fail != nil {
			fc := &Ctx{Args: f.fail.Args, List: list, Seen: seen, World: w, Sess: sess, Since: since, Now: now, Notes: map[string]string{}}
			if fv := checks[f.fail.Name].Test(fc); fv.State == ui.GuideDone {
				v = failed("%s", fv.Say)
			}
		}
		return verdictMsg{gen: gen, v: v}
	}
}

func (r *Runner) verdict(msg verdictMsg) tea.Cmd {
	if msg.gen != r.gen {
		return nil
	}
	r.looking = false
	v := msg.v
	if r.unattended() && r.solving && v.State == ui.GuideDone {
		// The check held before the solution finished: wait for it, so
		// that a failing solution is still caught.
		r.say = v.Say
		return nil
	}
	switch v.State {
	case ui.GuideDone:
		r.phase, r.say, r.armed = ui.GuideDone, v.Say, false
		r.concealed = (r.held || r.step().Look) && !r.unattended()
		if r.prog.Done == nil {
			r.prog.Done = map[string]bool{}
		}
		r.prog.Done[r.step().ID()] = true
		if r.unattended() {
			return r.finishUnattended()
		}
		return r.save()
	case ui.GuideFailed:
		r.phase = ui.GuideFailed
		r.say = "that did something else: " + v.Say
		if r.unattended() && !r.solving {
			return r.finishUnattended()
		}
	default:
		if r.phase != ui.GuideFailed || !r.unattended() {
			r.phase, r.say = ui.GuideWaiting, v.Say
		}
	}
	return nil
}

// solve runs the step's own solution, line i of it (unattended).
func (r *Runner) solve(i int) tea.Cmd {
	s := r.step()
	if s.Key != "" && len(r.fill.solve) == 0 {
		return r.press(s.Key)
	}
	lines := r.fill.solve
	if len(lines) == 0 {
		lines = []string{r.fill.do}
	}
	if i >= len(lines) {
		r.solving = false
		return nil
	}
	r.solving = true
	gen, w, line := r.gen, r.o.World, lines[i]
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, code, err := w.Run(ctx, line)
		return solvedMsg{gen: gen, i: i, out: out, code: code, err: err}
	}
}

// press sends a key to the screen, as the student would press it.
func (r *Runner) press(k string) tea.Cmd {
	r.lastPress = r.o.Clock()
	msg := keyMsg(k)
	return func() tea.Msg { return msg }
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// solved takes a solution's line's end: the next line, or a failure when
// it ended otherwise than the step expects.
func (r *Runner) solved(msg solvedMsg) tea.Cmd {
	if msg.gen != r.gen {
		return nil
	}
	lines := r.fill.solve
	if len(lines) == 0 {
		lines = []string{r.fill.do}
	}
	last := msg.i == len(lines)-1
	want := 0
	if last {
		want = r.step().Exit
	}
	switch {
	case msg.err != nil:
		r.phase, r.say = ui.GuideFailed, fmt.Sprintf("the solution %q could not run: %v", lines[msg.i], msg.err)
	case msg.code != want:
		r.phase, r.say = ui.GuideFailed, fmt.Sprintf("the solution %q exited %d, not %d: %s", lines[msg.i], msg.code, want, firstLine(msg.out, 200))
	case last && r.fill.expect != "" && !strings.Contains(msg.out, r.fill.expect):
		r.phase, r.say = ui.GuideFailed, fmt.Sprintf("the solution's output lacks %q: %s", r.fill.expect, firstLine(msg.out, 200))
	}
	if r.phase == ui.GuideFailed {
		r.solving = false
		return r.finishUnattended()
	}
	if !last {
		return r.solve(msg.i + 1)
	}
	r.solving = false
	return nil
}

// finishUnattended ends a step solved unattended: Script reports it and
// goes on; a student catching up hands over at the step they left.
func (r *Runner) finishUnattended() tea.Cmd {
	if !r.unattended() {
		return nil
	}
	s := r.step()
	if r.o.Mode != Script {
		if r.phase == ui.GuideFailed {
			r.catchUp = 0 // the student takes over here
			r.say = "catching up failed at this step: " + r.say
			return nil
		}
		return r.advance()
	}
	took := r.o.Clock().Sub(r.since)
	r.results = append(r.results, Result{Step: s, State: r.phase, Say: r.say, Took: took})
	mark := map[ui.GuideState]string{ui.GuideDone: "✓", ui.GuideFailed: "✗", ui.GuideSkipped: "⊘"}[r.phase]
	r.o.Report(fmt.Sprintf("%s %s %s (%.1f s): %s", mark, s.ID(), s.Title, took.Seconds(), r.say))
	if r.phase == ui.GuideFailed && r.st+1 < len(r.chapter().Steps) {
		// The rest of the chapter builds on this step: on to the next chapter.
		r.o.Report(fmt.Sprintf("  (steps %d.%d to %d.%d left out: they build on this one)",
			r.ch+1, r.st+2, r.ch+1, len(r.chapter().Steps)))
		r.st = len(r.chapter().Steps) - 1
	}
	return r.advance()
}
