package replay

import (
	"os"
	"os/exec"
	"testing"
)

// A replay runs where glassbox cannot: its import graph must hold nothing
// Linux-only. Built (and vetted) for macOS and Windows, as the students'
// laptops are: a package that creeps in with Linux-only code fails here.
func TestBuildsOnOtherOSes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: cross-compiling takes a while")
	}
	for _, goos := range []string{"darwin", "windows"} {
		for _, args := range [][]string{
			{"build", "-o", os.DevNull, "glassbox/ui/replay"},
			{"build", "-o", os.DevNull, "glassbox/cmd/glassbox-replay"},
			{"vet", "glassbox/ui/replay", "glassbox/cmd/glassbox-replay"},
		} {
			cmd := exec.Command("go", args...)
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go %v: %v\n%s\nSomething Linux-only reached the replay's imports (ui, ui/words, inspect's types, "+
					"sandbox/state): put it in a file of its own with //go:build linux, as inspect/firewall_read.go and "+
					"sandbox/state/lock.go are.", goos, args, err, out)
			}
		}
	}
}
