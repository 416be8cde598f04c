package ui_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
)

// TestTopShowsOOMKillLive is the whole path for real: a detached calculator
// sandbox with a 48 MiB limit, `glassbox top` on it in a tmux pane, the
// stress key pressed until the kernel's OOM killer ends the workload, and
// the pane checked for the OOMKilled state, the banner and the event.
func TestTopShowsOOMKillLive(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := sandboxtest.NewCLI(t)
	roots, bin := c.Roots, c.Bin
	port := sandboxtest.FreePort(t)
	name := c.StartCalculator("-p", fmt.Sprintf("127.0.0.1:%d:8000", port), "--memory", "48m").Name
	eng := lifecycle.New(roots)

	// One plain frame first: what a handout or a bug report gets.
	once := exec.Command(bin, "top", "--once", name)
	once.Env = append(os.Environ(), "COLUMNS=100")
	frame, err := once.CombinedOutput()
	if err != nil {
		t.Fatalf("glassbox top --once %s: %v\n%s", name, err, frame)
	}
	if strings.Contains(string(frame), "\x1b") {
		t.Errorf("top --once printed escape codes:\n%q", frame)
	}
	for _, want := range []string{"  running  ", "PID 1 = host", "overlay mounted at /", "memory 48 MiB", "of 48 MiB", "read from: "} {
		if !strings.Contains(string(frame), want) {
			t.Errorf("top --once lacks %q:\n%s", want, frame)
		}
	}

	tm := newTmux(t)
	tm.Start("top", fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s top %s; sleep 30", os.Getenv("GLASSBOX_ROOT"), bin, name))
	pane := func() string { return tm.Pane("top") }
	waitFor(t, 15*time.Second, "the UI to show the sandbox running", func() bool {
		return strings.Contains(pane(), "  running  ") && strings.Contains(pane(), "Resources")
	})

	// 48 MiB cannot hold the calculator and 64 MiB more: the first press
	// should do. The supervisor records the exit a moment after the kill,
	// so give each press a few refreshes before pressing again.
	var screen string
	killed := func() bool {
		screen = pane()
		return strings.Contains(screen, "Exited (137, SIGKILL, OOMKilled)") && strings.Contains(screen, "OOM!    "+name+": Exited (137")
	}
	for presses := 1; ; presses++ {
		tm.Keys("top", "m")
		deadline := time.Now().Add(6 * time.Second)
		for !killed() && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if killed() {
			t.Logf("OOM-killed after %d press(es) of m", presses)
			break
		}
		if presses == 8 {
			t.Fatalf("no OOM kill on screen after %d presses of m (+64 MiB each); the pane:\n%s", presses, screen)
		}
	}
	for _, want := range []string{
		"Exited (137, SIGKILL, OOMKilled)",  // the header's state
		"OOM KILLED",                        // the banner
		"kernel's OOM killer sent SIGKILL",  // which mentions the OOM killer
		"OOM!    " + name + ": Exited (137", // the event
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the pane lacks %q:\n%s", want, screen)
		}
	}
	sb, err := eng.Get(name)
	if err != nil || sb.Exit == nil || !sb.Exit.OOMKilled {
		t.Errorf("the record does not say OOMKilled: %+v, %v", sb, err)
	}
	t.Logf("the pane at the OOM kill:\n%s", screen)

	tm.Keys("top", "q")
	waitFor(t, 10*time.Second, "the UI to quit on q", func() bool {
		return !strings.Contains(pane(), "Resources (cgroup)")
	})
}

// waitFor polls ok; on a timeout the test fails, with screen's text if given.
func waitFor(t *testing.T, d time.Duration, what string, ok func() bool, screen ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			if len(screen) > 0 {
				t.Fatalf("timed out after %s waiting for %s; the screen:\n%s", d, what, screen[0]())
			}
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTopShowsRestartAfterOOM: with --restart on-failure the OOM-killed
// workload comes back, and the screen says so — the banner with the restart
// count, the restart event — while the sandbox runs again.
func TestTopShowsRestartAfterOOM(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	bin := c.Bin
	port := sandboxtest.FreePort(t)
	name := c.StartCalculator("--restart", "on-failure:3", "-p", fmt.Sprintf("127.0.0.1:%d:8000", port), "--memory", "48m").Name
	tm := newTmux(t)
	tm.Start("top", fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s top %s; sleep 30", os.Getenv("GLASSBOX_ROOT"), bin, name))
	waitFor(t, 15*time.Second, "the UI to show the sandbox running", func() bool {
		return strings.Contains(tm.Pane("top"), "  running  ")
	})
	var screen string
	restarted := func() bool {
		screen = tm.Pane("top")
		return strings.Contains(screen, "started it again at") && strings.Contains(screen, "restarted by policy")
	}
	for presses := 1; ; presses++ {
		tm.Keys("top", "m")
		deadline := time.Now().Add(8 * time.Second)
		for !restarted() && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if restarted() {
			break
		}
		if presses == 5 {
			t.Fatalf("no restart on screen after %d presses of m; the pane:\n%s", presses, screen)
		}
	}
	for _, want := range []string{"OOM KILLED", "restart on-failure:3 (", "  running  ", "OOM!    " + name + ": Exited (137"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the pane lacks %q:\n%s", want, screen)
		}
	}
	if sb := c.Get(name); sb == nil || sb.RestartCount < 1 {
		t.Errorf("the record after the restart: %+v", sb)
	}
	t.Logf("the pane after the restart:\n%s", screen)
}

// TestShellKeyAndSetnsMark: a process that entered a busybox sandbox by
// setns (a plain glassbox exec) is marked in the processes panel; E opens
// a shell inside in the same terminal, and the UI comes back after exit.
func TestShellKeyAndSetnsMark(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	name := fmt.Sprintf("shell-e2e-%d", os.Getpid()%10000)
	if out, err := exec.Command(bin, "run", "-d", "--name", name, "--hostname", "inside", "busybox", "sleep", "1000").CombinedOutput(); err != nil {
		t.Fatalf("glassbox run -d: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "rm", "-f", name).CombinedOutput(); err != nil {
			t.Errorf("glassbox rm -f %s: %v\n%s", name, err, out)
		}
	})
	joined := exec.Command(bin, "exec", name, "sleep", "999")
	if err := joined.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { joined.Process.Kill(); joined.Wait() })

	tm := newTmux(t)
	tm.Start("top", fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s top %s; sleep 30", os.Getenv("GLASSBOX_ROOT"), bin, name))
	var screen string
	waitFor(t, 40*time.Second, "the exec'd sleep marked setns", func() bool {
		screen = tm.Pane("top")
		return strings.Contains(screen, "setns") && strings.Contains(screen, "sleep 999")
	}, func() string { return screen })
	tm.Keys("top", "E")
	// The prompt, with the UI gone: the layers panel can show "/ #" too
	// (busybox's base layer was made by "ADD base / # …").
	waitFor(t, 15*time.Second, "the shell's prompt", func() bool {
		p := tm.Pane("top")
		return strings.Contains(p, "/ #") && !strings.Contains(p, "Namespaces (host vs sandbox)")
	})
	tm.Keys("top", "hostname; tty", "Enter")
	waitFor(t, 10*time.Second, "the shell inside", func() bool {
		p := tm.Pane("top")
		return strings.Contains(p, "\ninside") && strings.Contains(p, "/dev/pts/")
	})
	tm.Keys("top", "exit 4", "Enter")
	waitFor(t, 15*time.Second, "the UI back, saying how the shell ended", func() bool {
		return strings.Contains(tm.Pane("top"), "sh) ended: exit 4")
	})
}
