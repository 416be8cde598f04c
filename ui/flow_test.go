package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

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
