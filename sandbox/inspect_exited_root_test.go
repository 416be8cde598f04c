package sandbox_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// inspect of an exited sandbox shows its record — status, exit code,
// signal, OOMKilled, started and finished at, the reason — as text and as
// JSON, and exits 0, as docker inspect of a stopped container does
// (issue 16, bug 4).
func TestInspectExited(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	if out, err := exec.Command(bin, "run", "-d", "--network", "none", "--name", "gone", "busybox", "sh", "-c", "exit 3").CombinedOutput(); err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	defer func() {
		exec.Command(bin, "rm", "-f", "gone").Run()
		assertNothingLeft(t, roots)
	}()
	store := state.NewStore(roots)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if sb, err := store.Resolve("gone"); err == nil && sb.Status == state.Exited {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sandbox did not exit")
		}
	}
	text, err := exec.Command(bin, "inspect", "gone").CombinedOutput()
	if err != nil {
		t.Fatalf("inspect of an exited sandbox: %v\n%s", err, text)
	}
	for _, want := range []string{"status: exited", "exit: Exited (3)", "exit code: 3", "signal: none", "OOMKilled: false", "started at: ", "finished at: "} {
		if !strings.Contains(string(text), want) {
			t.Errorf("inspect lacks %q:\n%s", want, text)
		}
	}
	js, err := exec.Command(bin, "inspect", "--json", "gone").Output()
	if err != nil {
		t.Fatalf("inspect --json of an exited sandbox: %v", err)
	}
	var snap struct {
		Sandbox *state.Sandbox `json:"sandbox"`
	}
	if err := json.Unmarshal(js, &snap); err != nil {
		t.Fatal(err)
	}
	if sb := snap.Sandbox; sb == nil || sb.Status != state.Exited || sb.Exit == nil || sb.Exit.Code != 3 || sb.Exit.FinishedAt.IsZero() {
		t.Errorf("inspect --json: %s", js)
	}
}
