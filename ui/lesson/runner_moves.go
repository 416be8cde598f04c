package lesson

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/ui"
)

// Moving through the lesson, the keys it takes, and what it shows.

// advance goes on in a message of its own, so that the screen (and a
// recording) takes the step's end in before the next step begins.
func (r *Runner) advance() tea.Cmd {
	gen := r.gen
	return func() tea.Msg { return advanceMsg{gen: gen} }
}

// next goes to the next step, the next chapter, or the end.
func (r *Runner) next() tea.Cmd {
	if r.st+1 < len(r.chapter().Steps) {
		return r.enter(r.ch, r.st+1, false)
	}
	last := r.ch+1 >= len(r.o.Course.Chapters) || (r.o.Mode == Script && r.o.Chapter > 0)
	if last {
		return r.finish()
	}
	return r.enter(r.ch+1, 0, true)
}

// back goes to the step before, to do it again. What the steps after it
// changed may be what it needs undone, so the chapter starts afresh and
// its steps before that one are redone unattended.
func (r *Runner) back() tea.Cmd {
	ch, st := r.ch, r.st-1
	if st < 0 {
		if ch == 0 {
			return nil
		}
		ch--
		st = len(r.o.Course.Chapters[ch].Steps) - 1
	}
	r.finished = false
	r.catchUp = st
	return r.enter(ch, 0, true)
}

// finish ends the course: everything the lesson created goes.
func (r *Runner) finish() tea.Cmd {
	r.stopHelpers()
	r.finished, r.ready = true, false
	r.gen++
	r.phase = ui.GuideFinished
	w, sess := r.o.World, r.sess
	if r.o.Mode == Script {
		ok, skipped := 0, 0
		for _, x := range r.results {
			switch x.State {
			case ui.GuideDone:
				ok++
			case ui.GuideSkipped:
				skipped++
			}
		}
		r.say = fmt.Sprintf("%d steps passed, %d skipped, %d failed in %s", ok, skipped, r.Failed(), r.o.Clock().Sub(r.began).Round(100*time.Millisecond))
		r.o.Report("learn --script: " + r.say)
		return tea.Sequence(func() tea.Msg { sess.CleanAll(w); return nil }, tea.Quit)
	}
	r.say = "the course is done: press q to leave (the lesson's sandboxes go with it)"
	return tea.Batch(func() tea.Msg { return savedMsg{err: sess.CleanAll(w)} }, r.save())
}

// save keeps the progress, off the screen's goroutine.
func (r *Runner) save() tea.Cmd {
	p, w := r.progress(), r.o.World
	return func() tea.Msg { return savedMsg{err: w.SaveProgress(p)} }
}

// key answers the lesson's keys; the others are the screen's.
func (r *Runner) key(msg tea.KeyMsg) (ui.Guide, tea.Cmd, bool) {
	k := msg.String()
	presenter := r.o.Mode == Presenter
	lesson := k == " " || k == "enter" || k == "pgdown" || k == "backspace" || k == "pgup" || k == "w" ||
		(presenter && (k == "right" || k == "down" || k == "left" || k == "up"))
	if r.unattended() {
		return r, nil, lesson // catching up: the lesson's keys wait
	}
	switch {
	case k == " " || k == "enter" || k == "pgdown" || (presenter && (k == "right" || k == "down")):
		if r.hold || r.concealed {
			r.hold, r.concealed = false, false
			return r, nil, true
		}
		if r.finished {
			return r, nil, true
		}
		if r.phase == ui.GuideDone || r.phase == ui.GuideSkipped || r.armed {
			return r, r.next(), true
		}
		r.armed = true
		return r, nil, true
	case k == "backspace" || k == "pgup" || (presenter && (k == "left" || k == "up")):
		if r.finished {
			r.st++ // back to the last step
		}
		return r, r.back(), true
	case k == "w":
		if s := r.step(); s.Hint != "" {
			r.hint = true
		}
		return r, nil, true
	}
	return r, nil, false
}

// Show is the sandbox and panel the screen is to show now, once.
func (r *Runner) Show() *ui.ShowMsg {
	s := r.show
	r.show = nil
	return s
}

// Pane is what the screen shows of the lesson.
func (r *Runner) Pane() ui.GuidePane {
	ch, s := r.chapter(), r.step()
	p := ui.GuidePane{
		Presenter: r.o.Mode == Presenter,
		Heading:   fmt.Sprintf("%d %s · step %d of %d", ch.Number, ch.Title, s.Number, len(ch.Steps)),
		Title:     s.Title,
		Narration: r.fill.narration,
		Predict:   r.fill.predict,
		Do:        r.fill.do,
		DoKey:     s.Key != "",
		Hold:      r.hold,
		State:     r.phase,
		Status:    r.say,
		Keys:      "space next · backspace back · w hint · q quit (the lesson's sandboxes go with it)",
	}
	if p.Presenter {
		p.Keys = "→/space next · ← back · tab another panel · w hint · q quit"
	}
	if r.hint {
		p.Hint = r.fill.hint
	}
	if r.hold && r.phase == ui.GuideWaiting {
		// The presenter's question stands alone: what to do, and what
		// the check waits for, come after it.
		p.Status = "the question first"
	}
	if r.concealed {
		p.State, p.Status = ui.GuideWaiting, "the machine's answer is ready: do it, then space shows it"
	}
	if r.armed && r.phase != ui.GuideDone {
		p.Status = "not done yet (" + p.Status + "): space again skips this step"
	}
	if r.st < r.catchUp {
		p.Status = fmt.Sprintf("catching up: redoing step %d of %d of this chapter for you…", s.Number, r.catchUp)
	}
	if r.finished {
		p.Heading, p.Title = "the end", "The course is done"
		p.Narration = []string{"Every claim of the course was shown live on this machine.",
			"glassbox top keeps watching; glassbox learn --chapter N goes back to a chapter."}
		p.Predict, p.Do, p.Hint = "", "", ""
	}
	return p
}
