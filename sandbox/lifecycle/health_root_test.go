package lifecycle_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// buildImage builds a one-file context holding dockerfile with glassbox
// build and returns the tag.
func (c *cli) buildImage(tag, dockerfile string) string {
	c.t.Helper()
	dir := c.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.Ok("build", "-t", tag, dir)
	return tag
}

// HEALTHCHECK CMD runs inside the sandbox through exec's path: exit 0 is
// healthy, a failure unhealthy after its retries; each probe's exit code
// and output are in the record's health log.
func TestHealthcheckCmd(t *testing.T) {
	c := newCLI(t)
	bad := c.buildImage("hc-false", "FROM busybox\nHEALTHCHECK --interval=100ms --retries=3 CMD echo checking; false\nCMD [\"sleep\", \"1000\"]\n")
	good := c.buildImage("hc-true", "FROM busybox\nHEALTHCHECK --interval=100ms --retries=3 CMD [\"true\"]\nCMD [\"sleep\", \"1000\"]\n")
	shell := c.buildImage("hc-shell", "FROM busybox\nHEALTHCHECK --interval=100ms CMD hostname; grep -c . /etc/passwd\nCMD [\"sleep\", \"1000\"]\n")

	sick := sandboxtest.UniqueName("sick")
	c.Ok("run", "-d", "--name", sick, bad)
	sb := c.waitFor(sick, "unhealthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthUnhealthy })
	if sb.FailingStreak < 3 || len(sb.HealthLog) < 3 {
		t.Errorf("unhealthy with a failing streak of %d and %d probes logged, want at least the 3 retries", sb.FailingStreak, len(sb.HealthLog))
	}
	for _, p := range sb.HealthLog {
		if p.ExitCode != 1 || p.Output != "checking\n" || p.End.Before(p.Start) {
			t.Errorf("probe %+v: want exit 1 and the command's output", p)
		}
	}

	report := c.Ok("inspect", sick)
	if !strings.Contains(report, "health: unhealthy") || !strings.Contains(report, "exit 1: checking") {
		t.Errorf("inspect does not show the health log:\n%s", report)
	}

	well := sandboxtest.UniqueName("well")
	c.Ok("run", "-d", "--name", well, good)
	sb = c.waitFor(well, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if n := len(sb.HealthLog); n == 0 || sb.HealthLog[n-1].ExitCode != 0 || sb.FailingStreak != 0 {
		t.Errorf("healthy with log %+v, streak %d", sb.HealthLog, sb.FailingStreak)
	}

	// Twenty more probes, each an exec from the supervisor, leave it no
	// more descriptors or children than it had.
	// A probe in flight holds a few (its pipe, socket, pidfds): the
	// fewest seen over a second is what stays.
	fds := func() int {
		least := 1 << 30
		for i := 0; i < 50; i++ {
			e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", sb.SupervisorPID))
			least = min(least, len(e))
			time.Sleep(20 * time.Millisecond)
		}
		return least
	}
	before := fds()
	time.Sleep(2 * time.Second)
	if after := fds(); after > before {
		t.Errorf("the supervisor went from %d to %d descriptors over 20 probes", before, after)
	}
	if kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sb.SupervisorPID, sb.SupervisorPID)); len(strings.Fields(string(kids))) > 2 {
		t.Errorf("the supervisor has children %s: probes not reaped", kids)
	}

	// CMD-SHELL runs in the image's shell, inside the sandbox: its hostname.
	sh := sandboxtest.UniqueName("shell")
	c.Ok("run", "-d", "--name", sh, "--hostname", "probed", shell)
	sb = c.waitFor(sh, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if out := sb.HealthLog[len(sb.HealthLog)-1].Output; !strings.HasPrefix(out, "probed\n") {
		t.Errorf("CMD-SHELL output %q, want the sandbox's hostname first", out)
	}
	if procs := cgroupProcs(t, sb); len(procs) != 2 {
		t.Errorf("the sandbox holds %v after its probes, want the init and the workload only", procs)
	}

	// A probe past its timeout is killed, with docker's words, and leaves
	// nothing in the sandbox.
	slowImage := c.buildImage("hc-slow", "FROM busybox\nHEALTHCHECK --interval=100ms --timeout=200ms --retries=2 CMD sleep 30\nCMD [\"sleep\", \"1000\"]\n")
	slow := sandboxtest.UniqueName("slow")
	c.Ok("run", "-d", "--name", slow, slowImage)
	sb = c.waitFor(slow, "unhealthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthUnhealthy })
	if p := sb.HealthLog[len(sb.HealthLog)-1]; p.ExitCode != -1 || p.Output != "Health check exceeded timeout (200ms)" {
		t.Errorf("timed-out probe %+v", p)
	}
	var probes []int
	waitUntil(t, 5*time.Second, "a probe's sleep 30 in the sandbox", func() bool {
		for _, pid := range cgroupProcs(t, sb) {
			if cmdline(pid) == "sleep 30 " {
				probes = append(probes, pid)
			}
		}
		return len(probes) > 0
	}, func() string { return "" })
	time.Sleep(time.Second) // five timeouts
	for _, pid := range probes {
		if alive(pid) {
			t.Errorf("a probe's sleep 30 (pid %d) outlived its timeout", pid)
		}
	}

	// The built-in calculator keeps its HTTP check.
	calc := sandboxtest.UniqueName("calc")
	c.Ok("run", "-d", "--name", calc, "calculator")
	sb = c.waitFor(calc, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if out := sb.HealthLog[len(sb.HealthLog)-1].Output; !strings.Contains(out, "/health") {
		t.Errorf("the calculator's probe says %q, want its GET /health", out)
	}
}
