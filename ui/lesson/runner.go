package lesson

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
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

// nameFlag finds a --name in a glassbox run command line; compiled on
// first use, not at every start of the binary.
var nameFlag = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`glassbox run\b[^|;&]*?--name[ =]([A-Za-z0-9_.-]+)`)
})

// created are the names of the sandboxes the command lines create.
func created(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, m := range nameFlag().FindAllStringSubmatch(l, -1) {
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
