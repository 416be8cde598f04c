package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// ps, inspect and top --once word one sandbox's exit, ports and limits
// alike: each says them in the words of package words, for a sandbox that
// publishes a port, has every limit, and was killed.
func TestPsInspectAndTopWordASandboxAlike(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	t.Setenv("COLUMNS", "300")
	gb := c.Ok
	name := sandboxtest.UniqueName("words")
	gb("run", "-d", "--name", name, "-p", fmt.Sprintf("%d:8000", sandboxtest.FreePort(t)), "--memory", "64m", "--cpus", "0.5", "--pids-limit", "64")
	gb("kill", name)

	var sb *state.Sandbox
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var rows []struct {
			Record *state.Sandbox `json:"record"`
		}
		if err := json.Unmarshal([]byte(gb("ps", "-a", "--json")), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0].Record.Status == state.Exited && rows[0].Record.Exit != nil {
			sb = rows[0].Record
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not exit after kill: %+v", name, rows)
		}
	}
	if len(sb.Network.Ports) != 1 || sb.Limits.PidsLimit != 64 || sb.Exit.Signal != "SIGKILL" {
		t.Fatalf("record: ports %+v limits %+v exit %+v", sb.Network.Ports, sb.Limits, sb.Exit)
	}
	want := []string{words.Exit(sb.Exit), words.Port(sb.Network.Ports[0]), words.Limits(sb.Limits)}
	for verb, out := range map[string]string{
		"ps -a":      gb("ps", "-a", "--no-trunc"),
		"inspect":    gb("inspect", name),
		"top --once": gb("top", "--once", name),
	} {
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("glassbox %s does not say %q:\n%s", verb, w, out)
			}
		}
	}
}
