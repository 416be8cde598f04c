package lifecycle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

// A record that says running, whose supervisor's PID names no process, is
// reconciled to exited ("supervisor died") by every read.
func TestReconcileDeadSupervisor(t *testing.T) {
	roots := state.RootsAt(t.TempDir())
	e := New(roots)
	e.store.Save(&state.Sandbox{ID: "aaaaaaaaaaaa", Name: "ghost", Status: state.Running, Detached: true, Created: time.Now().Add(-time.Minute)})
	// A PID above pid_max cannot exist.
	writeProcess(e.store.Path("aaaaaaaaaaaa", supervisorFile), Process{PID: 1 << 23, StartTicks: 12345})

	// A live one: this test process as the supervisor, with its real start time.
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	e.store.Save(&state.Sandbox{ID: "bbbbbbbbbbbb", Name: "alive", Status: state.Running, Detached: true, Created: time.Now()})
	writeProcess(e.store.Path("bbbbbbbbbbbb", supervisorFile), self)

	// The same PID with another start time is a reused PID: dead.
	e.store.Save(&state.Sandbox{ID: "cccccccccccc", Name: "reused", Status: state.Paused, Detached: true, Created: time.Now()})
	writeProcess(e.store.Path("cccccccccccc", supervisorFile), Process{PID: self.PID, StartTicks: self.StartTicks + 1})

	// A foreground record, owned by a process that started after the
	// record was written: the PID was reused.
	e.store.Save(&state.Sandbox{ID: "dddddddddddd", Name: "fg", Status: state.Running, SupervisorPID: self.PID, Created: time.Now().Add(-24 * time.Hour)})

	// Created by a CLI that died after handing the lock to its supervisor,
	// which has not written its files yet: alive, whatever the PIDs say.
	e.store.Save(&state.Sandbox{ID: "eeeeeeeeeeee", Name: "starting", Status: state.Created, Detached: true, SupervisorPID: 1 << 23, Created: time.Now()})
	holdLock(t, e, "eeeeeeeeeeee")
	if sb, err := e.Get("starting"); err != nil || sb.Status != state.Created || sb.LastEventNote != "" {
		t.Errorf("a sandbox whose supervisor holds its lock was reconciled: %+v, %v", sb, err)
	}

	running, err := e.List(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(running) != 1 || running[0].Name != "alive" {
		t.Fatalf("List(false) = %v, want only alive", names(running))
	}
	for _, n := range []string{"ghost", "reused", "fg"} {
		sb, err := e.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		if sb.Status != state.Exited || sb.Exit == nil || sb.LastEventNote != "supervisor died" {
			t.Errorf("%s: status %s exit %+v note %q; want exited, supervisor died", n, sb.Status, sb.Exit, sb.LastEventNote)
		}
		// And it is on disk, not only in the answer.
		rec, _ := e.store.Load(sb.ID)
		if rec.Status != state.Exited {
			t.Errorf("%s: record still says %s", n, rec.Status)
		}
	}
	// An exited one can be removed; it leaves no state dir.
	if err := e.Remove("ghost", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(roots.SandboxesDir(), "aaaaaaaaaaaa")); !os.IsNotExist(err) {
		t.Errorf("state dir of ghost left: %v", err)
	}
	// A running one is refused without force.
	if err := e.Remove("alive", false); err == nil {
		t.Error("Remove of a running sandbox without force succeeded")
	}
}

func TestStartTicks(t *testing.T) {
	dir := t.TempDir()
	old := procRoot
	procRoot = dir
	defer func() { procRoot = old }()
	os.MkdirAll(filepath.Join(dir, "42"), 0o755)
	// A command name with spaces and a parenthesis, as a process may choose.
	stat := "42 (we ird) name) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	os.WriteFile(filepath.Join(dir, "42", "stat"), []byte(stat), 0o644)
	got, err := startTicks(42)
	if err != nil || got != 987654 {
		t.Fatalf("startTicks = %d, %v; want 987654", got, err)
	}
	if !(Process{PID: 42, StartTicks: 987654}).Alive() {
		t.Error("a sleeping process with the right start time is not alive")
	}
	if (Process{PID: 42, StartTicks: 1}).Alive() {
		t.Error("a reused PID counts as alive")
	}
	os.WriteFile(filepath.Join(dir, "42", "stat"), []byte("42 (x) Z 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"), 0o644)
	if (Process{PID: 42, StartTicks: 987654}).Alive() {
		t.Error("a zombie counts as alive")
	}
}

func names(sbs []*state.Sandbox) []string {
	var out []string
	for _, sb := range sbs {
		out = append(out, sb.Name)
	}
	return out
}

// A sandbox whose start never finished — its glassbox run, or the
// supervisor it started, was killed first — never ran: its record says so,
// and names the process that was starting it, not a "supervisor" that was
// the CLI (issue 16, bug 4).
func TestReconcileNeverStarted(t *testing.T) {
	roots := state.RootsAt(t.TempDir())
	e := New(roots)
	dead := 1 << 23 // above pid_max: no such process
	// glassbox run reserved it, then died before it started a supervisor.
	e.store.Save(&state.Sandbox{ID: "aaaaaaaaaaaa", Name: "cli-died", Status: state.Created, Detached: true,
		SupervisorPID: dead, Created: time.Now().Add(-time.Minute)})
	// Its supervisor ran (its file is there) and died before the workload did.
	e.store.Save(&state.Sandbox{ID: "bbbbbbbbbbbb", Name: "supervisor-died", Status: state.Created, Detached: true,
		SupervisorPID: dead, Created: time.Now().Add(-time.Minute)})
	writeProcess(e.store.Path("bbbbbbbbbbbb", supervisorFile), Process{PID: dead - 1, StartTicks: 1})
	// Its supervisor was handed it (the log is named) and died before it
	// wrote its file.
	e.store.Save(&state.Sandbox{ID: "cccccccccccc", Name: "handed-off", Status: state.Created, Detached: true,
		SupervisorPID: dead, Created: time.Now().Add(-time.Minute)})
	os.WriteFile(e.store.Path("cccccccccccc", supervisorLog), nil, 0o600)

	for _, tc := range []struct{ name, who string }{
		{"cli-died", fmt.Sprintf("the glassbox command starting it (pid %d) ended before it started the sandbox's supervisor", dead)},
		{"supervisor-died", fmt.Sprintf("its supervisor (pid %d) ended before the workload ran", dead-1)},
		{"handed-off", "its supervisor ended before the workload ran"},
	} {
		sb, err := e.Get(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		x := sb.Exit
		if sb.Status != state.Exited || x == nil || !x.NeverStarted || x.Signal != "" || x.Code != 0 {
			t.Fatalf("%s: status %s exit %+v; want exited, never started, no signal", tc.name, sb.Status, x)
		}
		if !strings.Contains(x.Reason, "never started: "+tc.who) || strings.Contains(x.Reason, "killed") {
			t.Errorf("%s: reason %q, want it to say it never started because %s", tc.name, x.Reason, tc.who)
		}
		if got := x.String(); got != "Exited (never started)" {
			t.Errorf("%s: %q", tc.name, got)
		}
		if sb.LastEventNote != "never started" {
			t.Errorf("%s: note %q", tc.name, sb.LastEventNote)
		}
	}
}
