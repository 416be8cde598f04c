package lesson

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"glassbox/sandbox/state"
	"glassbox/ui"
)

// The lesson in the live view, as a student drives it: a real bubbletea
// program (teatest) with the runner as its guide, on a fake machine that
// the test changes the way commands typed in a second terminal would.

// noActions are the live view's keys on the fake machine: none is pressed
// in these flows but the lesson's own.
type noActions struct{}

func (noActions) StressMemory(string, int) (int, error)        { return 0, nil }
func (noActions) ReleaseMemory(string) (int, error)            { return 0, nil }
func (noActions) BurnCPU(string, int, int) error               { return nil }
func (noActions) Calculate(string) (string, string, error)     { return "3", "x", nil }
func (noActions) Pause(string) error                           { return nil }
func (noActions) Unpause(string) error                         { return nil }
func (noActions) Stop(string, time.Duration) (string, error)   { return "SIGTERM", nil }
func (noActions) Kill(string) error                            { return nil }
func (noActions) Restart(string) error                         { return nil }
func (noActions) IgnoreSIGTERM(string) error                   { return nil }
func (noActions) Start() (string, error)                       { return "", nil }
func (noActions) Remove(string) error                          { return nil }
func (noActions) Shell(string) (*exec.Cmd, error)              { return nil, nil }
func (noActions) CopyUp(string, string) (string, int64, error) { return "", 0, nil }
func (noActions) CompareVM(context.Context, func(state.CompareEvent)) (*state.Comparison, error) {
	return nil, nil
}

type flow struct {
	t  *testing.T
	tm *teatest.TestModel
	w  *fakeWorld
	r  *Runner
}

func startLesson(t *testing.T, mode Mode, chapter int, hintAfter time.Duration, w *fakeWorld) *flow {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if w == nil {
		w = newFakeWorld()
	}
	w.now = time.Now // the hint is due after a while of real time
	r, err := New(Options{Course: c, World: w, Mode: mode, Chapter: chapter, Poll: 20 * time.Millisecond, HintAfter: hintAfter})
	if err != nil {
		t.Fatal(err)
	}
	m := ui.New(ui.Options{Source: fakeSource{w}, Actions: noActions{}, Styles: asciiStyles(), Interval: 50 * time.Millisecond,
		Guide: r, Follow: r.Session().Owns})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { _ = tm.Quit() })
	return &flow{t: t, tm: tm, w: w, r: r}
}

func (f *flow) wait(want ...string) {
	f.t.Helper()
	teatest.WaitFor(f.t, f.tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func (f *flow) press(k tea.KeyType) { f.tm.Send(tea.KeyMsg{Type: k}) }
func (f *flow) space()              { f.tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}) }

// final quits and returns what the fake machine was asked to do.
func (f *flow) final() []string {
	f.t.Helper()
	f.tm.Quit()
	f.tm.WaitFinished(f.t, teatest.WithFinalTimeout(5*time.Second))
	return f.w.Calls()
}

// A step's check holds once the student has done it; space goes on.
func TestFlowAdvance(t *testing.T) {
	f := startLesson(t, Student, 1, time.Minute, nil)
	f.wait("step 1 of 4", "there is no lesson-a yet")
	f.space() // too early: the check does not hold
	f.wait("space again skips this step")
	f.w.Add("lesson-a", "calculator") // glassbox run -d --name lesson-a calculator, in another terminal
	f.wait("✓ inside lesson-a, PID 1 is glassbox sandbox-init init (host PID 4242)")
	f.space()
	f.wait("step 2 of 4", "glassbox run -dit --name lesson-b busybox sh")
	calls := f.final()
	if len(calls) > 0 {
		t.Errorf("the lesson ran or removed something while the student did the steps: %q", calls)
	}
}

// Back from a step to the one before: the chapter starts afresh (the
// lesson's sandboxes go) and the steps before that one are redone
// unattended, by their own solutions.
func TestFlowBack(t *testing.T) {
	f := startLesson(t, Student, 1, time.Minute, nil)
	f.wait("there is no lesson-a yet")
	f.w.Add("lesson-a", "calculator")
	f.wait("✓ inside lesson-a")
	f.space()
	f.wait("step 2 of 4", "there is no lesson-b yet")
	f.w.Add("lesson-b", "busybox")
	f.wait("✓ lesson-b's own network")
	f.space()
	f.wait("step 3 of 4")
	f.press(tea.KeyBackspace) // back to step 2: step 1 is redone for the student
	f.wait("step 2 of 4", "there is no lesson-b yet")
	calls := strings.Join(f.final(), "\n")
	for _, want := range []string{"remove 0000000a0000", "remove 0000000a0001", "run glassbox run -d --name lesson-a calculator"} {
		if !strings.Contains(calls, want) {
			t.Errorf("going back did not %q; the lesson did:\n%s", want, calls)
		}
	}
	if strings.Contains(calls, "lesson-b busybox") {
		t.Errorf("going back to step 2 redid step 2 itself:\n%s", calls)
	}
}

// The hint shows when the check has not held for a while, and at once on w.
func TestFlowHint(t *testing.T) {
	f := startLesson(t, Student, 1, 300*time.Millisecond, nil)
	f.wait("there is no lesson-a yet")
	f.wait("Hint: Type the command in a second terminal")

	g := startLesson(t, Student, 1, time.Hour, nil)
	g.wait("there is no lesson-a yet")
	g.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("w")})
	g.wait("Hint: Type the command in a second terminal")
}

// A fail-check fires: the student stopped the sandbox instead of pushing
// it past its memory limit.
func TestFlowFailCheck(t *testing.T) {
	f := startLesson(t, Student, 3, time.Minute, nil)
	f.wait("step 1 of 5", "there is no lesson-a yet")
	f.w.Run(context.Background(), "glassbox run -d --name lesson-a --memory 96m calculator")
	f.wait("✓ lesson-a's cgroup says 100663296 bytes (96 MiB)")
	f.space()
	f.wait("step 2 of 5", "press m until something happens")
	f.w.Set("lesson-a", func(sb *state.Sandbox) { // glassbox stop lesson-a
		sb.Status, sb.Exit = state.Exited, &state.Exit{Code: 0, FinishedAt: t0}
	})
	f.wait("✗ that did something else: lesson-a ended Exited (0), not by the OOM killer")
	f.w.Set("lesson-a", func(sb *state.Sandbox) { // the student goes back and does it
		sb.Exit = &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true, FinishedAt: t0}
	})
	f.wait("✓ Exited (137, SIGKILL, OOMKilled)")
}

// A presenter shows the question alone, then what to do; → and ← go on
// and back.
func TestFlowPresenter(t *testing.T) {
	f := startLesson(t, Presenter, 1, time.Minute, nil)
	f.wait("(answer first, then space shows what to do)", "the question first")
	f.press(tea.KeyRight)
	f.wait("Do:   glassbox run -d --name lesson-a calculator", "there is no lesson-a yet (run the command above)")
	f.w.Add("lesson-a", "calculator")
	f.wait("✓ inside lesson-a")
	f.press(tea.KeyRight)
	f.wait("step 2 of 4")
	f.press(tea.KeyLeft)
	f.wait("step 1 of 4")
}

// A step that needs what the machine lacks says so, and can be passed.
// (Chapter 8's first step only looks: its answer waits for space.)
func TestFlowSkipsWhatTheMachineLacks(t *testing.T) {
	w := newFakeWorld()
	w.needs["qemu"] = "has no qemu-system-x86_64"
	f := startLesson(t, Student, 8, time.Minute, w)
	// A step that only looks keeps its answer for after the student looked.
	f.wait("the machine's answer is ready: do it, then space shows it")
	f.space()
	f.wait("✓ inside and out: Linux 6.1.0-test")
	f.space()
	f.wait("⊘ skipped: this machine needs qemu: has no qemu-system-x86_64")
}

// The progress kept: a lesson started again goes on at the step the
// student left (the steps before it in that chapter redone unattended, as
// the sandboxes they made are gone); --chapter jumps; --reset starts over.
func TestFlowResumeJumpReset(t *testing.T) {
	left := Progress{Chapter: 1, Step: 3, Done: map[string]bool{"1.1": true, "1.2": true}}

	w := newFakeWorld()
	w.progress = left
	f := startLesson(t, Student, 0, time.Minute, w)
	f.wait("1 Namespaces", "step 3 of 4", "glassbox run -d --name lesson-c --hostname web-1")
	calls := strings.Join(f.final(), "\n")
	for _, want := range []string{"run glassbox run -d --name lesson-a calculator", "run glassbox run -dit --name lesson-b busybox sh"} {
		if !strings.Contains(calls, want) {
			t.Errorf("resuming at 1.3 did not redo %q; the lesson did:\n%s", want, calls)
		}
	}
	if p := w.progress; p.Chapter != 1 || p.Step != 3 {
		t.Errorf("the progress after resuming: %+v", p)
	}

	w = newFakeWorld()
	w.progress = left
	f = startLesson(t, Student, 3, time.Minute, w)
	f.wait("3 Cgroups", "step 1 of 5")
	if calls := f.final(); len(calls) > 0 {
		t.Errorf("--chapter 3 ran something before the student did: %q", calls)
	}

	w = newFakeWorld()
	w.progress = left
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Course: c, World: w, Mode: Student, Reset: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := w.progress; p.Chapter != 1 || p.Step != 1 || len(p.Done) > 0 {
		t.Errorf("--reset kept the progress: %+v", p)
	}
	r.Close()
}
