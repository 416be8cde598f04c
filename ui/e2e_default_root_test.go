package ui_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

func newTmux(t *testing.T) *sandboxtest.Tmux { return sandboxtest.NewTmux(t) }

// TestDefaultCommandRunsCalc is `glassbox` alone, three times: it creates
// the calculator sandbox "calc" with the course's limits and opens the UI
// on it; then reuses it while it runs; then restarts it once it stopped.
//
// Port 8000 may be taken on a shared machine: then glassbox says by whom,
// and publishes the calculator on a free port it names.
func TestDefaultCommandRunsCalc(t *testing.T) {
	sandboxtest.RequireRoot(t)
	taken := false
	if l, err := net.Listen("tcp", "127.0.0.1:8000"); err != nil {
		taken = true
		t.Logf("port 8000 is taken on this machine (%v): glassbox must say so and take another", err)
	} else {
		l.Close()
	}
	roots := sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	eng := lifecycle.New(roots)
	tm := newTmux(t)
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "rm", "-f", "calc").CombinedOutput(); err != nil && !strings.Contains(string(out), "no such") {
			t.Errorf("glassbox rm -f calc: %v\n%s", err, out)
		}
	})
	shell := fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s; sleep 30", os.Getenv("GLASSBOX_ROOT"), bin)

	open := func(session string) *state.Sandbox {
		t.Helper()
		tm.Start(session, shell)
		// The first start builds the calculator image: under a full test
		// run on two cores that takes a while.
		deadline := time.Now().Add(90 * time.Second)
		for p := tm.Pane(session); !strings.Contains(p, "glassbox ▸ calc") || !strings.Contains(p, "  running  "); p = tm.Pane(session) {
			if time.Now().After(deadline) {
				t.Fatalf("no UI on calc after 90s; the pane:\n%s", p)
			}
			time.Sleep(100 * time.Millisecond)
		}
		sb, err := eng.Get("calc")
		if err != nil {
			t.Fatalf("calc after glassbox: %v\n%s", err, tm.Pane(session))
		}
		tm.Keys(session, "q")
		waitFor(t, 10*time.Second, "the goodbye that says calc keeps running", func() bool {
			return strings.Contains(tm.Pane(session), "left running: calc")
		})
		return sb
	}

	first := open("first")
	if first.Limits.MemoryBytes != 256<<20 || first.Limits.CPUs != 0.5 {
		t.Errorf("calc's limits are %+v, want 256 MiB and 0.5 CPUs", first.Limits)
	}
	switch ports := first.Network.Ports; {
	case len(ports) != 1 || ports[0].ContainerPort != 8000:
		t.Errorf("calc publishes %+v, want one port to 8000", ports)
	case !taken && ports[0].HostPort != 8000:
		t.Errorf("calc publishes %+v, want 8000:8000", ports)
	case taken && (ports[0].HostPort == 8000 || !strings.Contains(strings.ReplaceAll(tm.Pane("first"), "\n", ""),
		"glassbox: port 8000 is taken by ") || !strings.Contains(strings.ReplaceAll(tm.Pane("first"), "\n", ""),
		fmt.Sprintf("publishing the calculator on port %d instead", ports[0].HostPort))):
		t.Errorf("port 8000 taken: calc publishes %+v; the pane:\n%s", ports, tm.Pane("first"))
	}
	if again := open("again"); again.ID != first.ID || again.InitPID != first.InitPID {
		t.Errorf("a running calc was not reused: %s/%d then %s/%d", first.ID, first.InitPID, again.ID, again.InitPID)
	}
	if out, err := exec.Command(bin, "stop", "-t", "2", "calc").CombinedOutput(); err != nil {
		t.Fatalf("glassbox stop calc: %v\n%s", err, out)
	}
	if back := open("restarted"); back.ID != first.ID || back.InitPID == first.InitPID {
		t.Errorf("a stopped calc was not restarted in place: %s/%d then %s/%d", first.ID, first.InitPID, back.ID, back.InitPID)
	}
}
