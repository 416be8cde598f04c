package main

import (
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

func TestTopNeedsATerminal(t *testing.T) {
	sandboxtest.RequireRoot(t) // the root check comes first
	sandboxtest.TempRoots(t)
	_, err := runCLI(t, "top")
	if err == nil || !strings.Contains(err.Error(), "glassbox top --once") {
		t.Errorf("top without a terminal: %v, want a pointer to --once", err)
	}
}

func TestTopOnceWithoutSandboxes(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	t.Setenv("COLUMNS", "100")
	out, err := runCLI(t, "top", "--once")
	if err != nil {
		t.Fatalf("top --once: %v\n%s", err, out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("--once printed escape codes:\n%q", out)
	}
	for _, want := range []string{"no sandbox is running", "glassbox run -d", "glassbox top --once"} {
		if !strings.Contains(out, want) {
			t.Errorf("--once output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"press n", "0001-01-01", "no snapshot yet"} {
		if strings.Contains(out, bad) {
			t.Errorf("--once output says %q with no sandbox:\n%s", bad, out)
		}
	}
	for i, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("line %d is %d wide, more than $COLUMNS=100", i+1, n)
		}
	}
	if _, err := runCLI(t, "top", "--once", "nosuch"); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("top --once nosuch: %v, want an error naming it", err)
	}
}
