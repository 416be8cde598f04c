package ui

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The rooms' rule (DESIGN.md): the UI renders and asks through Actions,
// inspect reads; neither may depend on the runtime's lifecycle or network,
// which cmd/glassbox wires in.
func TestReadersDoNotDependOnTheRuntime(t *testing.T) {
	forbidden := []string{"glassbox/sandbox/lifecycle", "glassbox/sandbox/network", "glassbox/sandbox"}
	for _, pkg := range []string{"glassbox/ui", "glassbox/ui/words", "glassbox/inspect", "glassbox/inspect/engines", "glassbox/inspect/union"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		for _, f := range forbidden {
			if slices.Contains(deps, f) {
				t.Errorf("%s depends on %s", pkg, f)
			}
		}
	}
}
