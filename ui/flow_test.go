package ui

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

func TestFlowKeysDriveActions(t *testing.T) {
	tm, _, acts := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "glassbox ▸ calc", "  running  ")
	id := calc().id
	acts.mu.Lock()
	acts.held = 10 // held already (someone used curl): the UI must say what the calculator says
	acts.mu.Unlock()

	tm.Send(press("m"))
	waitCalls(t, acts, "stress "+id+" 64")
	waitScreen(t, tm, "the calculator holds 74 MiB")
	tm.Send(press("m"))
	waitScreen(t, tm, "the calculator holds 138 MiB", "of which the calculator holds 138 MiB")
	tm.Send(press("r"))
	waitCalls(t, acts, "release "+id)
	waitScreen(t, tm, "released the stressed memory")
	tm.Send(press("c"))
	waitCalls(t, acts, "cpu "+id+" 10 2")
	tm.Send(press("x"))
	waitScreen(t, tm, "processed_by calc")

	tm.Send(press("p"))
	waitCalls(t, acts, "pause "+id)
	waitScreen(t, tm, "PAUSED", "cgroup freezer")
	tm.Send(press("p"))
	waitCalls(t, acts, "unpause "+id)

	tm.Send(press("s"))
	waitCalls(t, acts, "stop "+id+" 10s")
	waitScreen(t, tm, "STOPPING calc: SIGTERM sent", "SIGKILL in")
	waitScreen(t, tm, "stopped: it exited on SIGTERM after", "within the grace period (10s)")

	tm.Send(press("K"))
	waitCalls(t, acts, "kill "+id)

	tm.Send(press("d"))
	waitScreen(t, tm, "REMOVE calc", "Press y to remove")
	tm.Send(press("n"))
	waitScreen(t, tm, "not removed")
	if strings.Contains(acts.Calls(), "remove") {
		t.Fatal("n must not remove the sandbox")
	}
	tm.Send(press("d"))
	tm.Send(press("y"))
	waitCalls(t, acts, "remove "+id)

	tm.Send(press("n"))
	waitScreen(t, tm, "no room for another sandbox")

	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// Another engine's container is shown beside a sandbox, and no key changes
// it: each says so, and no action is asked for.
func TestFlowForeignContainerIsReadOnly(t *testing.T) {
	docker := calc2()
	docker.id, docker.name, docker.engine = "docker:dcalc", "docker:dcalc", "docker"
	tm, _, acts := startFlow(t, 120, 40, calc(), docker)
	waitScreen(t, tm, "2 docker:dcalc")
	tm.Send(press("2"))
	waitScreen(t, tm, "glassbox ▸ docker:dcalc", "docker's container", "read-only: no keys change it")
	tm.Send(press("m"))
	waitScreen(t, tm, "docker:dcalc is docker's container: glassbox only reads it (change it with docker's own tools)")
	for _, k := range []string{"r", "M", "c", "x", "u", "p", "s", "t", "K", "R", "E", "d", "y"} {
		tm.Send(press(k))
	}
	// Keys are handled in order: once the sandbox's pause is asked for,
	// every key before it was handled.
	tm.Send(press("1"))
	tm.Send(press("p"))
	waitCalls(t, acts, "pause "+calc().id)
	if calls := acts.Calls(); strings.Contains(calls, "docker:dcalc") {
		t.Errorf("keys acted on another engine's container: %s", calls)
	}
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowFocusAndSwitch(t *testing.T) {
	tm, _, _ := startFlow(t, 120, 40, calc(), calc2())
	waitScreen(t, tm, "2 calc2")
	tm.Send(press("tab"))
	waitScreen(t, tm, "▶ Processes")
	tm.Send(press("tab"))
	tm.Send(press("tab"))
	waitScreen(t, tm, "▶ Resources", "Explain: Resources")
	tm.Send(press("]"))
	waitScreen(t, tm, "glassbox ▸ calc2")
	tm.Send(press("1"))
	waitScreen(t, tm, "glassbox ▸ calc ")
	tm.Send(press("e"))
	waitScreen(t, tm, "figure → where it was read", "memory.usage_in_bytes")
	tm.Send(press("e"))
	waitScreen(t, tm, "▶ Resources")
	tm.Send(press("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if got := strings.Join(fm.Running(), ","); got != "calc,calc2" {
		t.Errorf("Running() = %q, want the sandboxes that keep running after quit", got)
	}
}

func TestFlowHelpOpensAndCloses(t *testing.T) {
	tm, _, _ := startFlow(t, 100, 30, calc())
	waitScreen(t, tm, "  running  ")
	tm.Send(press("?"))
	waitScreen(t, tm, "poke the workload", "stress memory (+64 MiB per press)", "more below")
	// 30 rows do not hold every key: the screen scrolls to the end.
	tm.Send(press("G"))
	waitScreen(t, tm, "quit (sandboxes keep running)", "more above · the end")
	tm.Send(press("g"))
	waitScreen(t, tm, "glassbox — keys")
	tm.Send(press("?"))
	waitScreen(t, tm, "Namespaces (host vs sandbox)")
	tm.Send(press("?"))
	waitScreen(t, tm, "lifecycle")
	tm.Send(press("esc"))
	waitScreen(t, tm, "Namespaces (host vs sandbox)")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowResizeAndTooSmall(t *testing.T) {
	tm, _, _ := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "  running  ")
	tm.Send(tea.WindowSizeMsg{Width: 70, Height: 20})
	waitScreen(t, tm, "terminal too small: need 80×24, have 70×20")
	tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	waitScreen(t, tm, "Namespaces (host vs sandbox)")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowOOMBanner(t *testing.T) {
	tm, src, _ := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "  running  ")
	src.set(0, func(f *fixture) { f.memUsage, f.anon = 255*mib, 230*mib })
	waitScreen(t, tm, "255 MiB of 256 MiB")
	src.set(0, func(f *fixture) { *f = f.oomKilled(time.Now()) })
	waitScreen(t, tm, "OOM KILLED", "OOM killer sent SIGKILL", "Exited (137, SIGKILL, OOMKilled)", "OOM!    calc: Exited (137, SIGKILL, OOMKilled)")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowNewSandboxJoinsTheNamedOnes(t *testing.T) {
	tm, _, acts := startFlowOn(t, 120, 40, []string{"calc"}, []fixture{calc2()}, calc())
	waitScreen(t, tm, "▶1 calc (running)")
	tm.Send(press("n"))
	waitCalls(t, acts, "start")
	waitScreen(t, tm, "2 calc2 (running)", "calc2: started")
	tm.Send(press("2"))
	waitScreen(t, tm, "glassbox ▸ calc2", "CALC2")
	tm.Send(press("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if got := strings.Join(fm.Running(), ","); got != "calc,calc2" {
		t.Errorf("Running() = %q, want calc,calc2", got)
	}
}

// An OOM kill inside a sandbox that survives it (the killer picked a child,
// not the workload): the counter advancing is enough for the banner and the
// event.
func TestFlowOOMCounterAloneRaisesTheBanner(t *testing.T) {
	tm, src, _ := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "  running  ", "oom_kill 0")
	src.set(0, func(f *fixture) { f.oomKills = 1 })
	waitScreen(t, tm, "OOM KILLED", "oom_kill 0→1", "OOM killer killed 1 process(es)")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// An OOM kill and the policy's restart both between two refreshes: no
// snapshot saw the sandbox exited, and its new cgroup's counter is 0, yet
// the kill is on screen, once.
func TestFlowOOMBetweenRefreshes(t *testing.T) {
	tm, src, _ := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "  running  ")
	var before time.Time
	src.set(0, func(f *fixture) {
		before = f.started
		f.restart, f.restarts = "on-failure:3", 1
		f.restartedAfter = f.oomKilled(time.Now()).exit
		f.initPID, f.appPID, f.started = f.initPID+100, f.appPID+100, time.Now() // a new run
	})
	// Three figures, each saying whose it is: the banner's kill is the
	// earlier run's, the Resources panel's counter this run's (0 again).
	earlier := "the run started " + before.Format("15:04:05")
	waitScreen(t, tm, "OOM KILLED", "started it again at", "OOM!    calc: Exited (137, SIGKILL, OOMKilled)", "restarted by policy",
		"oom_kill 0→1 in "+earlier, "oom_kill 0 (this run's)")
	tm.Send(press("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if n := strings.Count(fmt.Sprint(fm.events), "Exited (137, SIGKILL, OOMKilled)"); n != 1 {
		t.Errorf("the OOM kill is %d times in the events, want once", n)
	}
}

// Keys that arrive together (typed fast, or sent by tmux) are each obeyed.
func TestFlowKeysArrivingTogether(t *testing.T) {
	tm, _, acts := startFlow(t, 120, 40, calc(), calc2())
	waitScreen(t, tm, "2 calc2")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("]x")})
	waitCalls(t, acts, "calculate "+calc2().id)
	waitScreen(t, tm, "glassbox ▸ calc2")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// The stress key's help follows the step it is configured with.
func TestStressStepInHelp(t *testing.T) {
	m := New(Options{StressMB: 32, Styles: asciiStyles()})
	if h := m.c.keys.StressMem.Help().Desc; h != "stress memory (+32 MiB per press)" {
		t.Errorf("help %q", h)
	}
	if w := m.c.keys.footerWords["m"]; w != "+32MiB" {
		t.Errorf("footer %q", w)
	}
}

// watchingSource is a fakeSource whose sandboxes' cgroups report OOM kills
// as the kernel does, through OOMWatcher.
type watchingSource struct {
	*fakeSource
	events chan inspect.OOMEvent
}

func (w *watchingSource) WatchOOM(sb *state.Sandbox) (<-chan inspect.OOMEvent, error) {
	return w.events, nil
}

// The banner comes from the kernel's event, not from the next refresh
// (here an hour away), and a snapshot that then sees the counter does not
// report the kill twice.
func TestFlowOOMBannerFromTheKernelsEvent(t *testing.T) {
	src := &watchingSource{fakeSource: &fakeSource{boxes: []fixture{calc()}}, events: make(chan inspect.OOMEvent, 1)}
	m := New(Options{Source: src, Actions: &fakeActions{src: src.fakeSource}, Styles: asciiStyles(), Interval: time.Hour})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { _ = tm.Quit() })
	waitScreen(t, tm, "  running  ", "oom_kill 0")
	src.set(0, func(f *fixture) { f.oomKills = 1 }) // what the refresh the event asks for will see
	src.events <- inspect.OOMEvent{Time: time.Now(), OOMKills: 1, Killed: true, Source: "/sys/fs/cgroup/memory/glassbox/3f2a9c01b7de/memory.oom_control"}
	waitScreen(t, tm, "OOM KILLED", "oom_kill 0→1", "calc: OOM kill, oom_kill 0→1", "(memory.oom_control)", "oom_kill 1")
	tm.Send(press("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if n := strings.Count(fmt.Sprint(fm.events), "oom_kill 0→1"); n != 1 {
		t.Errorf("the kill was reported %d times: %v", n, fm.events)
	}
}
