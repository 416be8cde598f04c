package ui_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// TestTopProjectorDemo is a teacher's ten minutes at 100×30, for real: the
// log view follows the calculator's output (the supervisor's /health polls
// hidden, a request sent with x showing up); t makes the calculator deaf
// to SIGTERM, so that s shows the grace period run out and SIGKILL follow;
// R starts the stopped sandbox again.
func TestTopProjectorDemo(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	roots, bin := c.Roots, c.Bin
	port := sandboxtest.FreePort(t)
	name := c.StartCalculator("--stop-timeout", "3s", "-p", fmt.Sprintf("127.0.0.1:%d:8000", port), "--memory", "64m").Name
	eng := lifecycle.New(roots)
	first, _ := eng.Get(name)

	tm := newTmux(t)
	tm.Start("top", fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s top %s; sleep 30", os.Getenv("GLASSBOX_ROOT"), bin, name))
	tm.Resize("top", 100, 30)
	pane := func() string { return tm.Pane("top") }
	waitFor(t, 15*time.Second, "the UI on the running sandbox", func() bool {
		return strings.Contains(pane(), "  running  ") && strings.Contains(pane(), "Resources")
	}, pane)

	// The log: the calculator's start, then the request x sends; the
	// supervisor's polls (every 5 s) are counted, not shown.
	tm.Keys("top", "L")
	waitFor(t, 10*time.Second, "the log view with the calculator's start", func() bool {
		return strings.Contains(pane(), "Log: "+name) && strings.Contains(pane(), `"msg":"started"`)
	}, pane)
	tm.Keys("top", "x")
	waitFor(t, 10*time.Second, "the request in the log", func() bool {
		return strings.Contains(pane(), `"path":"/calculate"`) && strings.Contains(pane(), "processed_by")
	}, pane)
	waitFor(t, 20*time.Second, "a /health poll counted and hidden", func() bool {
		return strings.Contains(pane(), "by the supervisor hidden (H shows them)")
	}, pane)
	if strings.Contains(pane(), `"user_agent":"glassbox-healthcheck"`) {
		t.Errorf("a hidden health poll is on screen:\n%s", pane())
	}
	tm.Keys("top", "H")
	waitFor(t, 10*time.Second, "the polls shown on H", func() bool {
		return strings.Contains(pane(), `"path":"/health"`)
	}, pane)
	tm.Keys("top", "L")

	// The grace period, run out: t, then s.
	tm.Keys("top", "t")
	waitFor(t, 10*time.Second, "the calculator to say it ignores SIGTERM", func() bool {
		return strings.Contains(pane(), "the calculator now ignores SIGTERM")
	}, pane)
	tm.Keys("top", "s")
	waitFor(t, 5*time.Second, "the countdown", func() bool {
		p := pane()
		return strings.Contains(p, "STOPPING "+name+": SIGTERM sent") && strings.Contains(p, "(it ignores it: t)") && strings.Contains(p, "SIGKILL in")
	}, pane)
	waitFor(t, 20*time.Second, "SIGKILL after the grace", func() bool {
		return strings.Contains(pane(), "no exit within the grace period (3s), so SIGKILL ended it")
	}, pane)
	sb, err := eng.Get(name)
	if err != nil || sb.Exit == nil || sb.Exit.Signal != "SIGKILL" || sb.Exit.Code != 137 {
		t.Errorf("the record after the stop: %+v, %v; want ended by SIGKILL", sb, err)
	}
	events := c.Ok("events", name)
	if !strings.Contains(events, "no exit within 3s: sending SIGKILL") {
		t.Errorf("glassbox events does not tell the SIGKILL after the grace:\n%s", events)
	}
	logs := c.Ok("logs", name)
	if !strings.Contains(logs, "signal received, ignored") || strings.Contains(logs, "glassbox: ") {
		t.Errorf("glassbox logs: want the calculator's own word that it ignored SIGTERM, and no supervisor notes:\n%s", logs)
	}

	// R on the stopped sandbox: started again (glassbox start), a new PID 1.
	tm.Keys("top", "R")
	waitFor(t, 30*time.Second, "the sandbox running again", func() bool {
		return strings.Contains(pane(), "started again (glassbox start)") && strings.Contains(pane(), "  running  ")
	}, pane)
	again, err := eng.Get(name)
	if err != nil || again.Status != state.Running || again.InitPID == first.InitPID {
		t.Fatalf("after R: %+v, %v; want running with a new init", again, err)
	}
	t.Logf("the pane after R:\n%s", pane())

	// R on the running sandbox: restarted (glassbox restart), another PID 1.
	tm.Keys("top", "R")
	waitFor(t, 30*time.Second, "the sandbox restarted", func() bool {
		return strings.Contains(pane(), "restarted (glassbox restart)") && strings.Contains(pane(), "  running  ")
	}, pane)
	if third, err := eng.Get(name); err != nil || third.Status != state.Running || third.InitPID == again.InitPID {
		t.Errorf("after R on the running sandbox: %+v, %v; want running with another new init", third, err)
	}
}
