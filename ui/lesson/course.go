// Package lesson is glassbox's course as a guided, checked lesson (glassbox
// learn): chapters of steps, each a little text, one thing to do and a
// check over real state, run beside the live panels (ui.Guide), for a
// projector, or unattended (--script, which CI runs).
//
// Steps are data: the chapters are text files (course/*.txt, format below),
// read when the binary starts. Checks are Go functions, found by name
// (checks.go). What a check reads and what a step starts goes through the
// World interface, which cmd/glassbox wires to the runtime.
//
// The format of a chapter file:
//
//	# Chapter title
//	## Step title
//	field: value
//	Narration, one line per line (at most six).
//
// A step's fields:
//
//	do:       the one thing to do: a command, shown in full, that the
//	          student types in a second terminal, or (with key:) what to press
//	key:      a key of the live view the step is about (m, s, p, …)
//	predict:  a question to answer before doing it
//	check:    NAME ARG…, the check that says the step is done (checks.go)
//	fail:     NAME ARG…, a check that says the student did something else
//	hint:     shown when the check has not held for a while
//	panel:    the panel the step is about: namespaces, processes, layers,
//	          resources or events
//	box:      the sandbox to show (default: the first {name} in do)
//	solve:    what --script runs instead of do (repeatable: in order)
//	exit:     the exit status the solution ends with (default 0)
//	expect:   a text the solution's output must hold (--script)
//	repeat:   with key: press it again this often until the check holds
//	timeout:  how long --script waits for the check (default 30s)
//	needs:    what the machine must have: qemu, or a program on PATH
//	look:     yes: the thing to do only looks (history, logs), so the check
//	          holds before it is done; the answer waits for space
//	helper:   something the step starts and the lesson removes:
//	          "sandbox {x} IMAGE [ARG…]" or "load {x} {y}…" (a load generator)
//
// In every value, {a} {b} {c} {d} are the lesson's sandbox names, {app} its
// image, {port} {port2} free ports, {dir} a build context the lesson writes
// into a temporary directory (context.go).
package lesson

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"glassbox/ui"
)

// Course is every chapter, in order.
type Course struct {
	Chapters []*Chapter
}

// Chapter is one heading of the course.
type Chapter struct {
	Number int
	Title  string
	File   string
	Steps  []*Step
}

// Step is one thing to learn: text, one action and a check.
type Step struct {
	Chapter   *Chapter
	Number    int // from 1 within its chapter
	Title     string
	Narration []string
	Predict   string
	Do        string
	Key       string
	Check     Call
	Fail      *Call
	Hint      string
	Panel     ui.Panel
	Box       string
	Solve     []string
	Exit      int
	Expect    string
	Repeat    time.Duration
	Timeout   time.Duration
	Needs     []string
	Look      bool
	Helpers   []Call
	line      int
}

// Call is a check or helper by name, with its arguments (variables not yet
// filled in).
type Call struct {
	Name string
	Args []string
}

func (c Call) String() string { return strings.TrimSpace(c.Name + " " + strings.Join(c.Args, " ")) }

// ID is the step's place, "3.2": chapter 3, step 2.
func (s *Step) ID() string { return fmt.Sprintf("%d.%d", s.Chapter.Number, s.Number) }

// MaxNarration is how many lines of narration a step may have.
const MaxNarration = 6

var panels = map[string]ui.Panel{
	"namespaces": ui.PanelNamespaces, "processes": ui.PanelProcesses, "layers": ui.PanelLayers,
	"resources": ui.PanelResources, "events": ui.PanelEvents,
}

// Load reads the chapters of dir in fsys (every *.txt, in name order) and
// checks them: a course with a mistake is refused whole, naming the file
// and line.
func Load(fsys fs.FS, dir string) (*Course, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no chapters (*.txt) in %s", dir)
	}
	sort.Strings(names)
	c := &Course{}
	for i, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ch, err := parseChapter(string(b), path.Base(name))
		if err != nil {
			return nil, err
		}
		ch.Number = i + 1
		c.Chapters = append(c.Chapters, ch)
	}
	return c, c.validate()
}

// parseChapter reads one chapter file.
func parseChapter(text, file string) (*Chapter, error) {
	ch := &Chapter{File: file}
	var s *Step
	errf := func(n int, f string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", file, n, fmt.Sprintf(f, a...))
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "//"):
			continue
		case strings.HasPrefix(line, "## "):
			if ch.Title == "" {
				return nil, errf(n, "a step before the chapter's title (# Title)")
			}
			s = &Step{Chapter: ch, Number: len(ch.Steps) + 1, Title: strings.TrimSpace(line[3:]), Panel: -1, line: n}
			ch.Steps = append(ch.Steps, s)
			continue
		case strings.HasPrefix(line, "# "):
			if ch.Title != "" {
				return nil, errf(n, "a second chapter title: one chapter per file")
			}
			ch.Title = strings.TrimSpace(line[2:])
			continue
		}
		if s == nil {
			return nil, errf(n, "text before the first step (## Title)")
		}
		if field, value, ok := cutField(line); ok {
			if err := s.set(field, value); err != nil {
				return nil, errf(n, "%s: %v", field, err)
			}
			continue
		}
		s.Narration = append(s.Narration, line)
	}
	if ch.Title == "" {
		return nil, fmt.Errorf("%s: no chapter title (# Title)", file)
	}
	return ch, sc.Err()
}

// fields are the names a step's line may start with.
var fields = []string{"do", "key", "predict", "check", "fail", "hint", "panel", "box", "solve", "exit",
	"expect", "repeat", "timeout", "needs", "helper", "look"}

// cutField splits "field: value" when field is a step's field.
func cutField(line string) (string, string, bool) {
	f, v, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", false
	}
	for _, known := range fields {
		if f == known {
			return f, strings.TrimSpace(v), true
		}
	}
	return "", "", false
}

func (s *Step) set(field, v string) error {
	if v == "" {
		return fmt.Errorf("empty")
	}
	var err error
	switch field {
	case "do":
		s.Do = v
	case "key":
		s.Key = v
	case "predict":
		s.Predict = v
	case "check":
		s.Check = call(v)
	case "fail":
		c := call(v)
		s.Fail = &c
	case "hint":
		s.Hint = v
	case "panel":
		p, ok := panels[v]
		if !ok {
			return fmt.Errorf("no panel %q (namespaces, processes, layers, resources, events)", v)
		}
		s.Panel = p
	case "box":
		s.Box = v
	case "solve":
		s.Solve = append(s.Solve, v)
	case "exit":
		_, err = fmt.Sscanf(v, "%d", &s.Exit)
	case "expect":
		s.Expect = v
	case "repeat":
		s.Repeat, err = time.ParseDuration(v)
	case "timeout":
		s.Timeout, err = time.ParseDuration(v)
	case "needs":
		s.Needs = append(s.Needs, strings.Fields(v)...)
	case "helper":
		s.Helpers = append(s.Helpers, call(v))
	case "look":
		if v != "yes" {
			return fmt.Errorf("look: yes, or no look: line")
		}
		s.Look = true
	}
	return err
}

func call(v string) Call {
	f := strings.Fields(v)
	return Call{Name: f[0], Args: f[1:]}
}

// validate checks what the parser cannot: every step has one thing to do
// and a check that exists, at most six lines of narration, and only the
// variables and helpers there are.
func (c *Course) validate() error {
	var errs []string
	for _, ch := range c.Chapters {
		if len(ch.Steps) == 0 {
			errs = append(errs, fmt.Sprintf("%s: no steps", ch.File))
		}
		for _, s := range ch.Steps {
			bad := func(f string, a ...any) {
				errs = append(errs, fmt.Sprintf("%s:%d: step %q: %s", ch.File, s.line, s.Title, fmt.Sprintf(f, a...)))
			}
			if s.Do == "" {
				bad("nothing to do (do:)")
			}
			if len(s.Narration) > MaxNarration {
				bad("%d lines of narration: at most %d", len(s.Narration), MaxNarration)
			}
			calls := []*Call{&s.Check}
			if s.Fail != nil {
				calls = append(calls, s.Fail)
			}
			for _, cl := range calls {
				chk, ok := checks[cl.Name]
				switch {
				case !ok:
					bad("no check %q (checks.go has %s)", cl.Name, strings.Join(CheckNames(), ", "))
				case len(cl.Args) < chk.Args || (chk.Args == 0 && len(cl.Args) > 0):
					bad("check %s takes %d argument(s), not %d", cl.Name, chk.Args, len(cl.Args))
				case len(cl.Args) > chk.Args:
					// The last argument takes the rest of the line (a pattern with spaces).
					rest := strings.Join(cl.Args[chk.Args-1:], " ")
					cl.Args = append(cl.Args[:chk.Args-1], rest)
				}
			}
			for _, h := range s.Helpers {
				if _, ok := helpers[h.Name]; !ok {
					bad("no helper %q (sandbox, load)", h.Name)
				}
			}
			if s.Repeat > 0 && s.Key == "" {
				bad("repeat: without key:")
			}
			for _, text := range s.texts() {
				if v := unknownVar(text); v != "" {
					bad("no variable {%s} ({a} {b} {c} {d} {app} {port} {port2} {dir})", v)
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the course has mistakes:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// texts are every value of a step that variables are filled into.
func (s *Step) texts() []string {
	out := append([]string{s.Do, s.Predict, s.Hint, s.Box, s.Expect, s.Check.String()}, s.Narration...)
	out = append(out, s.Solve...)
	if s.Fail != nil {
		out = append(out, s.Fail.String())
	}
	for _, h := range s.Helpers {
		out = append(out, h.String())
	}
	return out
}
