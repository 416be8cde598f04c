package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"glassbox/sandbox/lifecycle"
	"glassbox/ui"
	"glassbox/ui/lesson"
)

func init() { verb("learn", newLearnCmd) }

type learnOptions struct {
	chapter   int
	presenter bool
	script    bool
	reset     bool
	list      bool
	record    string
	interval  time.Duration
	noColor   bool
}

func newLearnCmd() *cobra.Command {
	var o learnOptions
	cmd := &cobra.Command{
		Use:   "learn",
		Short: "The course as a guided lesson in the live view: one step at a time, each checked on this machine",
		Long: `learn runs the course beside the live view: namespaces, the union
filesystem, cgroups, building, running, the lifecycle, container-friendly
design, VMs vs containers. Each step says what to do — a command to type in
a second terminal, or a key — asks first what you expect, and watches the
machine until the step is done. Progress is kept: learn goes on where you
left off; --chapter N jumps, --reset starts over.

Everything the lesson starts (its sandboxes lesson-a … lesson-d, its image
lesson-app, a build context, a load generator) it removes again; it never
touches a sandbox it did not create.

--presenter lays each step out for a projector: large type, one panel at a
time, → and ← (or a clicker's page keys) to go on and back.

--script runs every step's own solution and checks it, without a terminal:
what CI runs. Steps that need what the machine lacks (qemu) are skipped,
and say so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLearn(cmd, o) },
	}
	f := cmd.Flags()
	f.IntVar(&o.chapter, "chapter", 0, "start at chapter N (with --script: run only it)")
	f.BoolVar(&o.presenter, "presenter", false, "lay the lesson out for a projector: large type, one panel at a time")
	f.BoolVar(&o.script, "script", false, "run every step's solution and check it, unattended (no terminal needed)")
	f.BoolVar(&o.reset, "reset", false, "forget the progress kept and start at chapter 1")
	f.BoolVar(&o.list, "list", false, "list the chapters and their steps, and exit")
	f.StringVar(&o.record, "record", "", "record the session to FILE (glassbox replay FILE plays it back, without root)")
	f.DurationVar(&o.interval, "interval", time.Second, "time between snapshots (at least 100ms; --script: 250ms)")
	f.BoolVar(&o.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	return cmd
}

func (o *learnOptions) validate(cmd *cobra.Command, course *lesson.Course) error {
	switch {
	case o.presenter && o.script:
		return errors.New("--presenter and --script: a script has no screen to present")
	case o.chapter < 0 || o.chapter > len(course.Chapters):
		return fmt.Errorf("--chapter %d: the course has chapters 1 to %d (glassbox learn --list)", o.chapter, len(course.Chapters))
	case o.interval < minInterval:
		return fmt.Errorf("--interval %s is too short: at least %s", o.interval, minInterval)
	}
	if o.script && !cmd.Flags().Changed("interval") {
		o.interval = 250 * time.Millisecond
	}
	return nil
}

func runLearn(cmd *cobra.Command, o learnOptions) error {
	course, err := lesson.Builtin()
	if err != nil {
		return err
	}
	if err := o.validate(cmd, course); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.list {
		return listCourse(out, course)
	}
	if err := needRoot(); err != nil {
		return err
	}
	if !o.script {
		if err := needTerminal(); err != nil {
			return err
		}
	}
	eng := lifecycle.New(rootsOf(cmd))
	world, err := newLearnWorld(eng)
	if err != nil {
		return err
	}
	defer world.Close()
	mode := lesson.Student
	switch {
	case o.script:
		mode = lesson.Script
	case o.presenter:
		mode = lesson.Presenter
	}
	runner, err := lesson.New(lesson.Options{Course: course, World: world, Mode: mode, Chapter: o.chapter, Reset: o.reset,
		Report: func(line string) { fmt.Fprintln(out, line) }})
	if err != nil {
		return err
	}
	// From here on what the lesson created is removed on every way out:
	// the end, q, Ctrl-C, SIGTERM or SIGHUP (kill -9 leaves it to the next
	// start, which finds it in the progress kept).
	defer func() {
		if err := runner.Close(); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "glassbox learn: clean up:", err)
		}
	}()
	src, err := openTopSource(eng, topOptions{}, nil)
	if err != nil {
		return err
	}
	defer src.Close()
	r := lipgloss.NewRenderer(os.Stdout)
	if o.noColor || os.Getenv("NO_COLOR") != "" || o.script {
		r.SetColorProfile(termenv.Ascii)
	}
	acts := newTopActions(eng, func() (string, error) { return startCalculator(eng, "", 0) })
	uo := ui.Options{Source: src, Actions: acts, Images: newStacks(rootsOf(cmd)), Interval: o.interval,
		Styles: ui.NewStyles(r), Guide: runner, Follow: runner.Session().Owns}
	if o.record != "" {
		record, closeRecording, err := startRecording(o.record, commandLine(), o.interval, 0)
		if err != nil {
			return err
		}
		defer func() {
			if err := closeRecording(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "glassbox learn:", err)
			}
		}()
		uo.Record = record
	}
	// As top's: each change drawn at once, the renderer at its slowest.
	term := ui.NewTerminal(os.Stdout)
	var m tea.Model = ui.NewLive(ui.New(uo), term)
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithFPS(ui.LiveFPS), tea.WithOutput(term)}
	if o.script {
		m = ui.New(uo)
		opts = []tea.ProgramOption{tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutRenderer(), tea.WithoutSignalHandler()}
	}
	p := tea.NewProgram(m, opts...)
	if o.script {
		// No terminal: the screen a recording keeps is a projector's.
		go p.Send(tea.WindowSizeMsg{Width: 100, Height: 30})
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	defer signal.Stop(stop)
	go func() {
		if _, ok := <-stop; ok {
			p.Quit()
		}
	}()
	start := time.Now()
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("run the lesson: %w", err)
	}
	if o.script {
		if n := runner.Failed(); n > 0 {
			return fmt.Errorf("learn --script: %d step(s) failed (%s)", n, time.Since(start).Round(100*time.Millisecond))
		}
	}
	return nil
}

// listCourse prints the chapters and their steps.
func listCourse(w io.Writer, c *lesson.Course) error {
	for _, ch := range c.Chapters {
		fmt.Fprintf(w, "%d %s\n", ch.Number, ch.Title)
		for _, s := range ch.Steps {
			fmt.Fprintf(w, "  %s %s\n", s.ID(), s.Title)
		}
	}
	return nil
}
