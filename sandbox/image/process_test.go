package image

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/sandbox/state"
)

// TestHelperGet is not a test: TestConcurrentProcesses runs the test binary
// with it to be another glassbox process building the image.
func TestHelperGet(t *testing.T) {
	root := os.Getenv("IMAGE_TEST_ROOT")
	if root == "" {
		t.Skip("helper for TestConcurrentProcesses")
	}
	s := NewStore(state.RootsAt(root))
	s.Self = os.Getenv("IMAGE_TEST_SELF")
	im, err := s.Get("calculator")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("ID", im.ID, strings.Join(im.LowerDirs(), ":"))
}

// Two glassbox processes asking for the image at once (the first `run`
// after an upgrade, say) build it once between them and agree on it.
func TestConcurrentProcesses(t *testing.T) {
	s := testStore(t)
	root := filepath.Dir(s.Roots.Lib)
	const n = 3
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for i := range n {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperGet$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), "IMAGE_TEST_ROOT="+root, "IMAGE_TEST_SELF="+s.Self)
		outs[i] = &strings.Builder{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	var first string
	for i := range n {
		err := cmds[i].Wait()
		line := ""
		for _, l := range strings.Split(outs[i].String(), "\n") {
			if strings.HasPrefix(l, "ID ") {
				line = l
			}
		}
		if err != nil || line == "" {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
		if first == "" {
			first = line
		} else if line != first {
			t.Errorf("process %d got %q, process 0 %q", i, line, first)
		}
	}
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	if len(entries) != 2 {
		t.Errorf("layer store holds %d entries, want 2", len(entries))
	}
}
