package lesson

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/ui"
)

// Mode is how a lesson is run.
type Mode int

const (
	Student   Mode = iota // beside the panels; the student types in a second terminal
	Presenter             // for a projector: large type, one panel, a question first
	Script                // unattended: every step's own solution, its check asserted
)

// Options configure a lesson.
type Options struct {
	Course *Course
	World  World
	Mode   Mode
	// Chapter starts there (1-based) and, with Script, runs only it; 0
	// resumes where the student left off (Script: runs every chapter).
	Chapter int
	// Reset forgets the progress kept.
	Reset bool
	// Poll is the time between two looks of a step's check (default
	// 250ms); HintAfter how long a check may not hold before the hint
	// shows (default 30s).
	Poll      time.Duration
	HintAfter time.Duration
	// Report receives a line per step in Script mode.
	Report func(string)
	Clock  func() time.Time
}

// Result is how a step went, for Script mode's report.
type Result struct {
	Step  *Step
	State ui.GuideState
	Say   string
	Took  time.Duration
}

// Runner runs a lesson beside the screen: it is the screen's ui.Guide.
// Everything that blocks (checks, solutions, helpers, clean-up) runs in
// tea.Cmds; the runner's own state changes only in Update.
type Runner struct {
	o    Options
	sess *Session
	prog Progress

	ch, st  int // the current step: chapter and step indexes
	gen     int // counts steps entered: a message of an earlier one is dropped
	fill    filled
	ready   bool // the step is prepared (helpers started, baseline noted)
	phase   ui.GuideState
	say     string
	since   time.Time
	hold    bool // Presenter: the question alone until the next key
	hint    bool // the hint shows
	armed   bool // the next "next" skips a step whose check does not hold
	looking bool // a check is running
	// held: the check held when the step began, before the student could
	// do anything (a step that only looks: history, logs); its answer is
	// concealed then until a key, so that it does not answer the question
	// before it is asked.
	held, concealed bool
	// shown: the screen was asked to show the step's sandbox while it
	// existed (a step that creates it asks again once it appears).
	shown bool
	notes map[string]string
	stops []func()

	catchUp int // Student/Presenter resuming: steps before this one are solved unattended
	solving bool
	// toPress: unattended, the step's key waits until the screen shows
	// the step's sandbox (a helper may have only just started it).
	toPress   bool
	show      *ui.ShowMsg // for the screen to show, once (Show)
	lastPress time.Time
	seen      ui.Seen

	results  []Result
	began    time.Time
	finished bool
}

// filled are a step's texts with the session's values in.
type filled struct {
	do, predict, hint, box string
	narration, solve       []string
	expect                 string
	check                  Call
	fail                   *Call
	helpers                []Call
	skip                   string // why the machine cannot do the step
}

// New prepares a lesson: it picks the session's names, reads the progress
// kept and removes what an earlier session left behind (only what that
// session created).
func New(o Options) (*Runner, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.HintAfter <= 0 {
		o.HintAfter = 30 * time.Second
	}
	if o.Report == nil {
		o.Report = func(string) {}
	}
	if o.Chapter < 0 || o.Chapter > len(o.Course.Chapters) {
		return nil, fmt.Errorf("no chapter %d: the course has chapters 1 to %d", o.Chapter, len(o.Course.Chapters))
	}
	prog, err := o.World.LoadProgress()
	if err != nil {
		return nil, fmt.Errorf("read the progress kept: %w", err)
	}
	if err := cleanLeftovers(o.World, prog.Owned); err != nil {
		return nil, err
	}
	prog.Owned = Owned{}
	if o.Reset {
		prog = Progress{}
	}
	sess, err := NewSession(o.World, o.Clock())
	if err != nil {
		return nil, err
	}
	r := &Runner{o: o, sess: sess, prog: prog, began: o.Clock()}
	switch {
	case o.Chapter > 0:
		r.ch = o.Chapter - 1
	case o.Mode != Script && prog.Chapter > 0 && prog.Chapter <= len(o.Course.Chapters):
		r.ch = prog.Chapter - 1
		if prog.Step > 1 && prog.Step <= len(o.Course.Chapters[r.ch].Steps) {
			r.catchUp = prog.Step - 1 // redo the chapter's steps before it, unattended
		}
	}
	if err := o.World.SaveProgress(r.progress()); err != nil {
		return nil, fmt.Errorf("keep the progress: %w", err)
	}
	return r, nil
}

// cleanLeftovers removes what a session that ended without cleaning up
// (killed) created: it kept their ids with its progress.
func cleanLeftovers(w World, o Owned) error {
	if o.empty() {
		return nil
	}
	var errs []string
	list, err := w.Sandboxes()
	if err != nil {
		return err
	}
	for _, id := range o.Sandboxes {
		for _, sb := range list {
			if sb.ID == id {
				if err := w.Remove(id); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
	}
	for _, id := range o.Images {
		if im, _ := w.Image(id); im != nil {
			if err := w.RemoveImage(id); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	for _, d := range o.Dirs {
		if w.Exists(d) {
			if err := w.RemoveDir(d); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove what the last lesson left behind: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Session is the lesson's session (what the screen follows: Session.Owns).
func (r *Runner) Session() *Session { return r.sess }

// Results are how the steps went (Script).
func (r *Runner) Results() []Result { return r.results }

// Failed counts the steps that failed (Script).
func (r *Runner) Failed() int {
	n := 0
	for _, x := range r.results {
		if x.State == ui.GuideFailed {
			n++
		}
	}
	return n
}

// Close stops the helpers and removes everything the lesson created; the
// progress kept forgets it then.
func (r *Runner) Close() error {
	r.stopHelpers()
	err := r.sess.CleanAll(r.o.World)
	if serr := r.o.World.SaveProgress(r.progress()); err == nil {
		err = serr
	}
	return err
}

func (r *Runner) progress() Progress {
	p := r.prog
	p.Chapter, p.Step = r.ch+1, r.st+1
	p.Updated = r.o.Clock()
	p.Owned = r.sess.Owned()
	return p
}

func (r *Runner) chapter() *Chapter { return r.o.Course.Chapters[r.ch] }
func (r *Runner) step() *Step       { return r.chapter().Steps[r.st] }
func (r *Runner) unattended() bool  { return r.o.Mode == Script || r.st < r.catchUp }

// Messages of the runner.
type (
	preparedMsg struct {
		gen   int
		fill  filled
		notes map[string]string
		stops []func()
		held  bool // the check held already
		err   error
	}
	tickMsg    struct{ gen int }
	verdictMsg struct {
		gen int
		v   Verdict
	}
	solvedMsg struct {
		gen, i int
		out    string
		code   int
		err    error
	}
	savedMsg   struct{ err error }
	advanceMsg struct{ gen int } // go on to the next step (after the screen took this one's end in)
)

// Init enters the first step.
func (r *Runner) Init() tea.Cmd {
	return r.enter(r.ch, r.st, true)
}

// enter begins a step: the clean-up and preparation run in a command.
func (r *Runner) enter(ch, st int, newChapter bool) tea.Cmd {
	r.stopHelpers()
	r.ch, r.st = ch, st
	r.gen++
	r.ready, r.looking, r.solving, r.armed, r.hint = false, false, false, false, false
	r.held, r.concealed, r.shown, r.toPress, r.show = false, false, false, false, nil
	r.lastPress = time.Time{}
	r.phase, r.say = ui.GuideWaiting, "getting the step ready…"
	r.since = r.o.Clock()
	r.notes = map[string]string{}
	r.fill = filled{}
	s := r.step()
	r.hold = r.o.Mode == Presenter && s.Predict != "" && !r.unattended()
	gen, w, sess, seen := r.gen, r.o.World, r.sess, r.seen
	since, now := r.since, r.o.Clock
	return func() tea.Msg {
		msg := preparedMsg{gen: gen, notes: map[string]string{}}
		if newChapter {
			if err := sess.CleanAll(w); err != nil {
				msg.err = err
				return msg
			}
		}
		f, err := fillStep(w, sess, s)
		msg.fill = f
		if err != nil || f.skip != "" {
			msg.err = err
			return msg
		}
		if err := sess.CleanNames(w, created(append([]string{f.do}, f.solve...)), since); err != nil {
			msg.err = err
			return msg
		}
		ctx := context.Background()
		for _, h := range f.helpers {
			stop, err := helpers[h.Name].start(ctx, w, sess, h.Args)
			if err != nil {
				msg.err = fmt.Errorf("helper %s: %w", h, err)
				return msg
			}
			if stop != nil {
				msg.stops = append(msg.stops, stop)
			}
		}
		list, err := w.Sandboxes()
		if err != nil {
			msg.err = err
			return msg
		}
		sess.Adopt(list)
		c := &Ctx{Args: f.check.Args, List: list, Seen: seen, World: w, Sess: sess, Since: since, Now: now(), Notes: msg.notes}
		if b := checks[f.check.Name].Begin; b != nil {
			if err := b(c); err != nil {
				msg.err = err
				return msg
			}
		}
		msg.held = checks[f.check.Name].Test(c).State == ui.GuideDone
		return msg
	}
}

// created are the names of the sandboxes the command lines create.
var nameFlag = regexp.MustCompile(`glassbox run\b[^|;&]*?--name[ =]([A-Za-z0-9_.-]+)`)

func created(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, m := range nameFlag.FindAllStringSubmatch(l, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// fillStep puts the session's values into a step's texts and says whether
// the machine can do it.
func fillStep(w World, sess *Session, s *Step) (filled, error) {
	var f filled
	var err error
	fill := func(t string) string {
		if err != nil {
			return t
		}
		var out string
		out, err = sess.Fill(w, t)
		return out
	}
	fillCall := func(c Call) Call {
		out := Call{Name: c.Name}
		for _, a := range c.Args {
			out.Args = append(out.Args, fill(a))
		}
		return out
	}
	f.do, f.predict, f.hint, f.box, f.expect = fill(s.Do), fill(s.Predict), fill(s.Hint), fill(s.Box), fill(s.Expect)
	for _, n := range s.Narration {
		f.narration = append(f.narration, fill(n))
	}
	for _, l := range s.Solve {
		f.solve = append(f.solve, fill(l))
	}
	f.check = fillCall(s.Check)
	if s.Fail != nil {
		c := fillCall(*s.Fail)
		f.fail = &c
	}
	for _, h := range s.Helpers {
		f.helpers = append(f.helpers, fillCall(h))
	}
	if f.box == "" {
		if names := created([]string{f.do}); len(names) > 0 {
			f.box = names[0]
		} else if len(f.check.Args) > 0 {
			f.box = f.check.Args[0]
		}
	}
	for _, n := range s.Needs {
		if ok, why := w.Need(n); !ok {
			f.skip = fmt.Sprintf("needs %s: %s", n, why)
		}
	}
	return f, err
}

func (r *Runner) stopHelpers() {
	for _, stop := range r.stops {
		stop()
	}
	r.stops = nil
}

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
