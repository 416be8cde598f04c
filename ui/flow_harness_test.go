package ui

// The flow tests' harness: a fake source and fake actions behind a real
// model driven by teatest, and the helpers that wait on its screen.

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// fakeSource serves fixture sandboxes; a test changes them while the UI runs.
type fakeSource struct {
	mu    sync.Mutex
	boxes []fixture
	last  map[string]*inspect.Snapshot // what an Inspector would rate the next snapshot against
	logs  []LogLine                    // every sandbox's log, as far as written
	wrote chan struct{}                // a word for FollowLog: more was written
}

// writeLog appends to the log, as the supervisor does.
func (f *fakeSource) writeLog(lines ...LogLine) {
	f.mu.Lock()
	f.logs = append(f.logs, lines...)
	w := f.wrote
	f.mu.Unlock()
	if w != nil {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// FollowLog gives the last tail lines, then each new one, until ctx ends.
func (f *fakeSource) FollowLog(ctx context.Context, ref string, tail int, line func(LogLine)) error {
	f.mu.Lock()
	if f.wrote == nil {
		f.wrote = make(chan struct{}, 1)
	}
	wrote := f.wrote
	f.mu.Unlock()
	sent := 0
	f.mu.Lock()
	sent = max(len(f.logs)-tail, 0)
	f.mu.Unlock()
	for {
		f.mu.Lock()
		fresh := append([]LogLine(nil), f.logs[sent:]...)
		f.mu.Unlock()
		for _, l := range fresh {
			line(l)
		}
		sent += len(fresh)
		select {
		case <-ctx.Done():
			return nil
		case <-wrote:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (f *fakeSource) List() ([]*state.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*state.Sandbox
	for _, b := range f.boxes {
		out = append(out, b.snap(time.Now()).Sandbox)
	}
	return out, nil
}

func (f *fakeSource) Snapshot(sb *state.Sandbox) (*inspect.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref := sb.ID
	for i, b := range f.boxes {
		if b.id == ref {
			f.boxes[i] = b.busy() // time passes: the counters move on
			s := b.snap(time.Now())
			if p := f.last[ref]; p != nil && p.PID == s.PID {
				inspect.Rate(p, s)
			}
			if f.last == nil {
				f.last = map[string]*inspect.Snapshot{}
			}
			f.last[ref] = s
			return s, nil
		}
	}
	return nil, fmt.Errorf("no such sandbox: %s", ref)
}

// drop removes a sandbox, as glassbox rm does.
func (f *fakeSource) drop(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := f.boxes[:0]
	for _, b := range f.boxes {
		if b.id != id {
			kept = append(kept, b)
		}
	}
	f.boxes = kept
}

func (f *fakeSource) set(i int, change func(*fixture)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.boxes[i])
}

// fakeActions records what the keys asked for.
type fakeActions struct {
	mu    sync.Mutex
	calls []string
	src   *fakeSource
	// next is what Start adds; none makes Start fail.
	next []fixture
	held int // MiB the fake calculator holds
	// stressErr is what StressMemory answers, when set; stopSignal the
	// signal Stop says ended the workload (default SIGTERM); onRemove
	// what Remove does to the source besides.
	stressErr  error
	stopSignal string
	onRemove   func(ref string)
	// comparison is what CompareVM replays, one figure per word on
	// compareGate (compare_test.go).
	comparison  *state.Comparison
	compareGate chan struct{}
}

func (a *fakeActions) record(f string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf(f, args...))
}

func (a *fakeActions) Calls() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.calls, "\n")
}

// StressMemory answers as the calculator would: what it holds now.
func (a *fakeActions) StressMemory(ref string, mb int) (int, error) {
	a.record("stress %s %d", ref, mb)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stressErr != nil {
		return 0, a.stressErr
	}
	a.held += mb
	return a.held, nil
}
func (a *fakeActions) ReleaseMemory(ref string) (int, error) {
	a.record("release %s", ref)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held = 0
	return 0, nil
}
func (a *fakeActions) BurnCPU(ref string, s, w int) error {
	a.record("cpu %s %d %d", ref, s, w)
	return nil
}
func (a *fakeActions) Calculate(ref string) (string, string, error) {
	a.record("calculate %s", ref)
	a.src.writeLog(LogLine{Time: time.Now(), Stream: "stdout",
		Text: `{"level":"INFO","msg":"request","method":"POST","path":"/calculate","status":200,"remote":"10.123.0.1:40112","user_agent":"glassbox"}`})
	return "3", "calc", nil
}
func (a *fakeActions) Pause(ref string) error {
	a.record("pause %s", ref)
	a.src.set(0, func(f *fixture) { f.status = state.Paused })
	return nil
}
func (a *fakeActions) Unpause(ref string) error {
	a.record("unpause %s", ref)
	a.src.set(0, func(f *fixture) { f.status = state.Running })
	return nil
}
func (a *fakeActions) Stop(ref string, timeout time.Duration) (string, error) {
	a.record("stop %s %s", ref, timeout)
	time.Sleep(1500 * time.Millisecond) // the workload drains, or the grace runs out
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopSignal != "" {
		return a.stopSignal, nil
	}
	return "SIGTERM", nil
}
func (a *fakeActions) Kill(ref string) error { a.record("kill %s", ref); return nil }
func (a *fakeActions) IgnoreSIGTERM(ref string) error {
	a.record("ignore SIGTERM %s", ref)
	return nil
}

// Restart starts the sandbox again as the engine does (glassbox start for
// a stopped one, glassbox restart for a running one): a new init and
// workload, running; the restart count is the policy's and stays.
func (a *fakeActions) Restart(ref string) error {
	a.record("restart %s", ref)
	a.src.mu.Lock()
	for _, f := range a.src.boxes {
		if f.id == ref && f.running {
			a.src.mu.Unlock()
			time.Sleep(500 * time.Millisecond) // a running one is stopped first
			a.src.mu.Lock()
		}
	}
	defer a.src.mu.Unlock()
	for i, f := range a.src.boxes {
		if f.id == ref {
			f.status, f.running, f.exit, f.health = state.Running, true, nil, state.HealthHealthy
			f.initPID, f.appPID = f.initPID+100, f.appPID+100
			f.started = time.Now()
			a.src.boxes[i] = f
		}
	}
	return nil
}
func (a *fakeActions) Shell(ref string) (*exec.Cmd, error) {
	a.record("shell %s", ref)
	return nil, fmt.Errorf("no shell in this test")
}
func (a *fakeActions) Start() (string, error) {
	a.record("start")
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.next) == 0 {
		return "", fmt.Errorf("no room for another sandbox in this test")
	}
	f := a.next[0]
	a.next = a.next[1:]
	a.src.mu.Lock()
	a.src.boxes = append(a.src.boxes, f)
	a.src.mu.Unlock()
	return f.name, nil
}
func (a *fakeActions) Remove(ref string) error {
	a.record("remove %s", ref)
	a.mu.Lock()
	f := a.onRemove
	a.mu.Unlock()
	if f != nil {
		f(ref)
	}
	return nil
}
func (a *fakeActions) CopyUp(ref, path string) (string, int64, error) {
	a.record("copy-up %s %s", ref, path)
	if path == "" {
		path = "/app/calculator"
	}
	return path, 9_800_000, nil
}

func startFlow(t *testing.T, w, h int, fs ...fixture) (*teatest.TestModel, *fakeSource, *fakeActions) {
	return startFlowOn(t, w, h, nil, nil, fs...)
}

// startFlowOn runs the UI on refs (nil: follow every sandbox); Start adds next.
func startFlowOn(t *testing.T, w, h int, refs []string, next []fixture, fs ...fixture) (*teatest.TestModel, *fakeSource, *fakeActions) {
	t.Helper()
	src := &fakeSource{boxes: fs}
	acts := &fakeActions{src: src, next: next, comparison: fixtureComparison(t), compareGate: make(chan struct{})}
	m := New(Options{Source: src, Actions: acts, Refs: refs, Styles: asciiStyles(), Interval: 100 * time.Millisecond})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm, src, acts
}

func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func waitCalls(t *testing.T, a *fakeActions, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(a.Calls(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("action %q was not called; calls:\n%s", want, a.Calls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func press(s string) tea.KeyMsg {
	switch s {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}
