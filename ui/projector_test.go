package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// What a student and a teacher tripped over (issue 21), each on screen at
// the sizes of a laptop (80×24), a projector (100×30) and a larger window
// (120×35).

// calcLog is a calculator's log as the supervisor keeps it: its start,
// the supervisor's /health polls every 5 s, a student's requests.
func calcLog() []LogLine {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	poll := func(s int) LogLine {
		return LogLine{Time: at(s), Stream: "stdout", Text: fmt.Sprintf(
			`{"time":"2026-11-28T15:04:%02dZ","level":"INFO","msg":"request","method":"GET","path":"/health","status":200,"duration_us":41,"remote":"127.0.0.1:5%04d","user_agent":"glassbox-healthcheck"}`, 5+s, s)}
	}
	lines := []LogLine{{Time: at(0), Stream: "stdout", Text: `{"time":"2026-11-28T15:04:05Z","level":"INFO","msg":"started","port":8000,"workers":2,"pid":2,"hostname":"calc","shutdown_timeout":"10s"}`}}
	for s := 5; s <= 40; s += 5 {
		lines = append(lines, poll(s))
		if s == 20 {
			lines = append(lines, LogLine{Time: at(21), Stream: "stdout",
				Text: `{"time":"2026-11-28T15:04:26Z","level":"INFO","msg":"request","method":"POST","path":"/calculate","status":200,"duration_us":88,"remote":"10.123.0.1:40112","user_agent":"curl/7.88.1"}`})
			lines = append(lines, LogLine{Time: at(22), Stream: "stderr", Text: "warning: a calculation was asked to divide by zero"})
		}
	}
	return lines
}

func TestProjectorScreens(t *testing.T) {
	// The moment of the OOM kill: the stress request that was in flight
	// got no answer, and says so after the kill, as its consequence.
	oomMoment := func(m Model) Model {
		f := calc()
		f.memUsage, f.anon = 250*mib, 236*mib
		m.boxes[0].heldMB = 192
		asked := t0.Add(2 * time.Second)
		m = step(t, m, actionMsg{at: asked.Add(300 * time.Millisecond), asked: asked, verb: "stress memory", id: f.id, name: f.name,
			kind: EvAction, text: "stress memory", err: fmt.Errorf("POST /stress/memory: %w", ErrNoAnswer), held: -1})
		dead := f.busy().busy().oomKilled(t0.Add(2500 * time.Millisecond))
		return step(t, m, snapshotsMsg{at: t0.Add(3 * time.Second), snaps: rated([][]*inspect.Snapshot{{dead.snap(t0.Add(3 * time.Second))}})[0]})
	}
	logView := func(polls bool) func(Model) Model {
		return func(m Model) Model {
			m.overlay = overlayLog
			m.log = logView{id: calc().id, name: "calc", lines: calcLog(), follow: true, showPolls: polls}
			n, page := m.overlayLen()
			m.scroll = clampOffset(n, n, page)
			return m
		}
	}
	sizes := [][2]int{{80, 24}, {100, 30}, {120, 35}}
	cases := []struct {
		name   string
		rounds [][]*inspect.Snapshot
		setup  func(Model) Model
	}{
		{"oom_moment", rounds(2, calc()), oomMoment},
		{"log", rounds(2, calc()), logView(false)},
		{"log_with_health_polls", rounds(2, calc()), logView(true)},
		{"stopping_a_calculator_that_ignores_SIGTERM", rounds(2, calc()), func(m Model) Model {
			m.boxes[0].ignoresTERM = calc().appPID
			m.stops[calc().id] = stopping{since: t0.Add(-7 * time.Second), timeout: 10 * time.Second}
			return m
		}},
	}
	for _, tc := range cases {
		for _, sz := range sizes {
			w, h := sz[0], sz[1]
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, w, h), func(t *testing.T) {
				m := tc.setup(fixtureModel(t, w, h, tc.rounds...))
				out := m.View()
				checkSize(t, out, w, h)
				golden.RequireEqual(t, []byte(out))
				if tc.name == "oom_moment" {
					// The kill stays in the events beside its consequence, first.
					oom, after := strings.Index(out, "OOM!    calc"), strings.Index(out, "action  calc: stress memory")
					if oom < 0 || after < 0 || oom > after {
						t.Errorf("at %d×%d the events do not show the OOM kill, then the request it cut off", w, h)
					}
				}
				if !strings.Contains(out, "? help") || !strings.Contains(out, "q quit") {
					if m.overlay == overlayNone || m.overlay.actsOnSandbox() {
						t.Errorf("the footer lost ? or q at %d×%d", w, h)
					}
				}
			})
		}
	}
}

// The footer keeps ? and q in view at any width the screen is drawn at.
func TestFooterKeepsHelpAndQuit(t *testing.T) {
	for _, w := range []int{80, 90, 100, 120, 160} {
		for _, h := range []int{24, 30, 35} {
			m := fixtureModel(t, w, h, rounds(1, calc())...)
			m.status = strings.Repeat("a very long status line that would push the keys out ", 4)
			for _, l := range m.footer(w, h) {
				if n := len([]rune(stripANSI(l))); n > w {
					t.Errorf("%d×%d: footer line %d cells wide", w, h, n)
				}
			}
			all := strings.Join(m.footer(w, h), "\n")
			if !strings.Contains(all, "? help") || !strings.Contains(all, "q quit") {
				t.Errorf("%d×%d: footer without ? help and q quit:\n%s", w, h, all)
			}
		}
	}
}

// Under a stopped sandbox the footer offers what can be done to it — start
// it again (R), remove it (d) — not the keys that poke a workload it no
// longer has; under a running one, those.
func TestFooterFollowsTheSandboxsState(t *testing.T) {
	stopped := calc()
	stopped.status, stopped.running, stopped.health = state.Exited, false, state.HealthNone
	stopped.exit = &state.Exit{Code: 0, Signal: "SIGTERM", FinishedAt: t0}
	for _, c := range []struct {
		f          fixture
		want, lack []string
	}{
		{calc(), []string{"m +64MiB", "s stop", "? help", "q quit"}, []string{"R start again"}},
		{stopped, []string{"R start again", "d remove", "? help", "q quit"}, []string{"m +64MiB", "s stop", "c cpu burn"}},
	} {
		for _, sz := range [][2]int{{100, 30}, {120, 35}} {
			m := fixtureModel(t, sz[0], sz[1], rounds(1, c.f)...)
			all := strings.Join(m.footer(sz[0], sz[1]), "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("%s at %dx%d: the footer lacks %q:\n%s", c.f.status, sz[0], sz[1], w, all)
				}
			}
			for _, l := range c.lack {
				if strings.Contains(all, l) {
					t.Errorf("%s at %dx%d: the footer offers %q:\n%s", c.f.status, sz[0], sz[1], l, all)
				}
			}
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case r == '\x1b':
			esc = true
		case esc && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
			esc = false
		case !esc:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// The OOM kill is the story: the stress request it cut off is told after
// it, as its consequence — not before it, not as an error.
func TestFlowOOMComesBeforeItsConsequence(t *testing.T) {
	tm, src, acts := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "  running  ")
	acts.mu.Lock()
	acts.stressErr = fmt.Errorf("POST /stress/memory: %w", ErrNoAnswer)
	acts.mu.Unlock()
	tm.Send(press("m"))
	waitCalls(t, acts, "stress "+calc().id)
	time.Sleep(300 * time.Millisecond) // the failed answer is in before the kill is seen
	src.set(0, func(f *fixture) { *f = f.oomKilled(time.Now()) })
	waitScreen(t, tm, "OOM KILLED", "got no answer: the OOM killer ended calc's workload")
	tm.Send(press("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	oom, cut := -1, -1
	for i, e := range fm.events {
		switch {
		case e.Kind == EvOOM && oom < 0:
			oom = i
		case strings.Contains(e.Text, "got no answer"):
			cut = i
		}
		if e.Kind == EvError {
			t.Errorf("an error event at the OOM kill: %s", e.Text)
		}
	}
	if oom < 0 || cut < oom {
		t.Errorf("the OOM event (%d) must come before the request it cut off (%d): %v", oom, cut, fm.events)
	}
	if strings.Contains(fm.status, "failed") {
		t.Errorf("the status calls the cut-off request a failure: %q", fm.status)
	}
}

// A request that got no answer with no OOM kill behind it is told as the
// failure it is, once the wait for the kill is over.
func TestNoAnswerWithoutOOMIsAFailure(t *testing.T) {
	m := fixtureModel(t, 120, 40, rounds(2, calc())...)
	f := calc()
	m = step(t, m, actionMsg{at: t0.Add(2 * time.Second), asked: t0.Add(2 * time.Second), verb: "stress memory", id: f.id, name: f.name,
		kind: EvAction, text: "stress memory", err: fmt.Errorf("POST /stress/memory: %w", ErrNoAnswer), held: -1})
	if n := len(m.events); n != 0 {
		t.Fatalf("told at once: %v", m.events)
	}
	m = step(t, m, snapshotsMsg{at: t0.Add(6 * time.Second), snaps: rated([][]*inspect.Snapshot{{f.busy().snap(t0.Add(6 * time.Second))}})[0]})
	if len(m.events) != 1 || m.events[0].Kind != EvError || !strings.Contains(m.events[0].Text, "stress memory failed") {
		t.Errorf("events %v, want the failure", m.events)
	}
}

// A sandbox removed while the UI watches it — with d, or by glassbox rm
// elsewhere, named on the command line or followed — leaves quietly: one
// "removed" event, no error, no stale RUNNING, and quitting does not call
// it left running.
func TestFlowRemovedWhileWatching(t *testing.T) {
	for _, tc := range []struct {
		name string
		refs []string
		how  string
	}{
		{"named, removed elsewhere", []string{"calc"}, "elsewhere"},
		{"named by id, removed elsewhere", []string{calc().id}, "elsewhere"},
		{"followed, removed elsewhere", nil, "elsewhere"},
		{"named, removed with d", []string{"calc"}, "d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, src, acts := startFlowOn(t, 120, 40, tc.refs, nil, calc(), calc2())
			waitScreen(t, tm, "glassbox ▸ calc ", "  running  ")
			if tc.how == "d" {
				acts.onRemove = func(ref string) { src.drop(ref) }
				tm.Send(press("d"))
				tm.Send(press("y"))
				waitCalls(t, acts, "remove "+calc().id)
			} else {
				src.drop(calc().id)
			}
			waitScreen(t, tm, "calc: removed")
			time.Sleep(500 * time.Millisecond) // a few more refreshes
			tm.Send(press("q"))
			fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
			for _, e := range fm.events {
				if e.Kind == EvError {
					t.Errorf("an error event on removal: %s: %s", e.Box, e.Text)
				}
			}
			if n := strings.Count(fmt.Sprint(fm.events), "removed"); n != 1 {
				t.Errorf("removed %d times in the events: %v", n, fm.events)
			}
			for _, b := range fm.boxes {
				if b.id == calc().id {
					t.Errorf("the removed sandbox is still shown, %s", b.record().Status)
				}
			}
			if got := fm.Running(); contains(got, "calc") {
				t.Errorf("Running() = %v: quitting would call the removed sandbox left running", got)
			}
		})
	}
}

// R does what docker users expect of it: a stopped sandbox starts again
// (glassbox start), a running one restarts (glassbox restart, its grace
// period first); the screen goes back to running with a new PID 1, and
// the status and the event say which it was.
func TestFlowRestartKey(t *testing.T) {
	stopped := calc()
	stopped.status, stopped.running, stopped.health = state.Exited, false, state.HealthNone
	stopped.exit = &state.Exit{Code: 0, Signal: "SIGTERM", FinishedAt: time.Now().Add(-time.Minute)}
	tm, _, acts := startFlowOn(t, 120, 40, []string{"calc"}, nil, stopped)
	waitScreen(t, tm, "Exited (0, SIGTERM)")
	tm.Send(press("R"))
	waitCalls(t, acts, "restart "+stopped.id)
	waitScreen(t, tm, "calc: started again (glassbox start): the same writable layer", "  running  ", fmt.Sprintf("calc: PID 1 = host %d", stopped.initPID+100))
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))

	running := calc()
	tm, _, acts = startFlowOn(t, 120, 40, []string{"calc"}, nil, running)
	waitScreen(t, tm, fmt.Sprintf("calc: PID 1 = host %d", running.initPID))
	tm.Send(press("R"))
	waitScreen(t, tm, "calc: restarting it (glassbox restart): SIGTERM, up to 10s of grace")
	waitCalls(t, acts, "restart "+running.id)
	waitScreen(t, tm, "calc: restarted (glassbox restart): stopped, then started again", fmt.Sprintf("calc: PID 1 = host %d", running.initPID+100))
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// The grace period, step by step (the fake stop takes its time): t makes
// the calculator ignore SIGTERM, s then shows the countdown saying so, and
// the end says SIGKILL came after the grace.
func TestFlowGracePeriodRunsOut(t *testing.T) {
	tm, _, acts := startFlow(t, 120, 40, calc())
	waitScreen(t, tm, "  running  ")
	acts.mu.Lock()
	acts.stopSignal = "SIGKILL"
	acts.mu.Unlock()
	tm.Send(press("t"))
	waitCalls(t, acts, "ignore SIGTERM "+calc().id)
	waitScreen(t, tm, "the calculator now ignores SIGTERM")
	tm.Send(press("s"))
	waitScreen(t, tm, "STOPPING calc: SIGTERM sent", "(it ignores it: t)", "SIGKILL in")
	waitScreen(t, tm, "no exit within the grace period (10s), so SIGKILL ended it")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// The log view follows the workload's output: the supervisor's /health
// polls hidden until H, a request sent from the view appears as served.
func TestFlowLogView(t *testing.T) {
	tm, src, acts := startFlow(t, 120, 40, calc())
	src.writeLog(calcLog()...)
	waitScreen(t, tm, "  running  ")
	tm.Send(press("L"))
	waitScreen(t, tm, "Log: calc", `"msg":"started"`, "8 /health polls by the supervisor hidden (H shows them)", "divide by zero")
	tm.Send(press("x"))
	waitCalls(t, acts, "calculate "+calc().id)
	waitScreen(t, tm, `"user_agent":"glassbox"}`, "processed_by calc")
	tm.Send(press("H"))
	waitScreen(t, tm, "the supervisor's /health polls shown (H hides them)", `"user_agent":"glassbox-healthcheck"`)
	tm.Send(press("L"))
	waitScreen(t, tm, "Namespaces (host vs sandbox)")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// A vs B: b opens the two side by side, B a running sandbox rather than a
// dead one; b again takes the next B; the action keys act on A.
func TestFlowSideBySide(t *testing.T) {
	dead := calc2()
	dead.id, dead.name, dead.hostPort = "0d0d0d0d0d0d", "old", 8002
	dead.created = calc2().created.Add(-time.Hour) // listed before calc2
	dead = dead.oomKilled(time.Now().Add(-time.Minute))
	// Named, the dead one comes second: the order a teacher typed them in.
	tm, _, acts := startFlowOn(t, 120, 40, []string{"calc", "old", "calc2"}, nil, calc(), dead, calc2())
	waitScreen(t, tm, "2 old (OOMKilled)", "3 calc2 (running)")
	tm.Send(press("b"))
	waitScreen(t, tm, "A vs B", "A: calc (running)", "B: calc2 (running)", "A: PID 1 = host 4242 · B: PID 1 = host 5120")
	tm.Send(press("b"))
	waitScreen(t, tm, "B: old (OOMKilled)", "B: PID 1 was host 5120 (ended)")
	tm.Send(press("m"))
	waitCalls(t, acts, "stress "+calc().id)
	tm.Send(press("esc"))
	waitScreen(t, tm, "Namespaces (host vs sandbox)")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// Scroll keys move the help and explain screens, and stop at their ends.
func TestScrollStopsAtTheEnds(t *testing.T) {
	m := fixtureModel(t, 80, 24, rounds(2, calc())...)
	m = step(t, m, press("?"))
	n, page := m.overlayLen()
	if n <= page {
		t.Fatalf("the help fits 80×24 (%d lines): nothing to scroll", n)
	}
	m = step(t, m, press("k"))
	if m.scroll != 0 {
		t.Errorf("up at the top moved to %d", m.scroll)
	}
	m = step(t, m, tea.KeyMsg{Type: tea.KeyPgDown})
	if m.scroll != page-2 {
		t.Errorf("pgdown moved to %d, want %d", m.scroll, page-2)
	}
	m = step(t, m, press("G"))
	end := m.scroll
	m = step(t, m, press("j"))
	if m.scroll != end || end != n-(page-1) {
		t.Errorf("the end is %d (j: %d), want %d", end, m.scroll, n-(page-1))
	}
	if !strings.Contains(m.View(), "quit (sandboxes keep running)") {
		t.Errorf("the end of the help does not show the last keys:\n%s", m.View())
	}
}

// Resources says which throttling figure is the last interval's and which
// the run's total, never shows a CPU bar past 100 %, says that pids count
// threads, and warns in words as memory nears the limit.
func TestResourceWords(t *testing.T) {
	st := asciiStyles()
	for _, c := range []struct {
		name       string
		usage      int64
		want, lack []string
	}{
		{"far from the limit", 100 * mib, []string{" 39%", "100 MiB of 256 MiB"}, []string{"near the limit", "at the limit"}},
		{"near the limit", 200 * mib, []string{" 78%", "near the limit: 200 MiB of 256 MiB"}, []string{"at the limit:"}},
		{"at the limit", 240 * mib, []string{" 94%", "at the limit: 240 MiB of 256 MiB"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := calc()
			f.memUsage, f.anon = c.usage, c.usage-20*mib
			m := fixtureModel(t, 120, 40, rounds(2, f)...)
			out := strings.Join(renderResources(st, m.boxes[0], 56, 0), "\n")
			for _, w := range append(c.want, "last 1 s: 8/10 throttled", "this run: 3408/12010 periods throttled (105.6 s)", "pids 3 of 512 (threads count)") {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, l := range c.lack {
				if strings.Contains(out, l) {
					t.Errorf("says %q:\n%s", l, out)
				}
			}
		})
	}
	// A rate read a little past the quota (the reads do not fall on the
	// CFS periods' edges) is drawn at the quota.
	m := fixtureModel(t, 120, 40, rounds(2, calc())...)
	m.boxes[0].snap.Cgroup.CPU.PercentOfQuota, m.boxes[0].snap.Cgroup.CPU.CoresUsed = 101.3, 0.5065
	out := strings.Join(cpuSection(st, m.boxes[0], 56), "\n")
	if strings.Contains(out, "101%") || !strings.Contains(out, "100%") || !strings.Contains(out, "0.50 of 0.50 cores") {
		t.Errorf("a rate past the quota:\n%s", out)
	}
}

// Both throttling figures, the last interval's and the run's, are said
// whole and named at the panel widths of 80, 100, 120 and 160 columns:
// the words shrink, the figures are never cut.
func TestThrottlingFitsEveryWidth(t *testing.T) {
	st := asciiStyles()
	m := fixtureModel(t, 120, 40, rounds(2, calc())...)
	for _, w := range []int{36, 46, 56, 76} {
		out := renderResources(st, m.boxes[0], w, 0)
		var last, total string
		for _, l := range out {
			if strings.Contains(l, "last 1 s") {
				last = l
			}
			if strings.Contains(l, "this run") {
				total = l
			}
		}
		if last == "" || total == "" || strings.Contains(last+total, "…") || len([]rune(last)) > w || len([]rune(total)) > w ||
			!strings.Contains(last, "8/10") && !strings.Contains(last, "8 of 10") ||
			!strings.Contains(total, "3408/12010") && !strings.Contains(total, "3408 of 12010") {
			t.Errorf("width %d: the throttling figures are not both whole and named:\n%s", w, strings.Join(out, "\n"))
		}
	}
}

// At a projector's 100×30 one sandbox's screen lists every namespace kind:
// the row of sandboxes, which says nothing with one, gives its line to them.
func TestEveryNamespaceAt100x30(t *testing.T) {
	out := fixtureModel(t, 100, 30, rounds(2, calc())...).View()
	for _, kind := range []string{"pid", "net", "mnt", "uts", "ipc", "user", "cgroup", "time"} {
		if !strings.Contains(out, "┃ "+fmt.Sprintf("%-7s", kind)) && !strings.Contains(out, "│ "+fmt.Sprintf("%-7s", kind)) {
			t.Errorf("the %s namespace is not listed at 100×30:\n%s", kind, out)
		}
	}
}
