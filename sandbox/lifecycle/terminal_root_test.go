package lifecycle_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// run -it in a real terminal (a tmux pane): the shell's terminal is the
// sandbox's own /dev/pts/0, a resize of the window reaches it, its exit
// status is run's, and the host terminal is as it was afterwards.
func TestRunInteractiveTerminal(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	name := sandboxtest.UniqueName("it")
	tm := sandboxtest.NewTmux(t)
	script := fmt.Sprintf(`cd %[1]s; stty -a > before; GLASSBOX_ROOT=%[2]s %[3]s run -it --name %[4]s busybox sh; echo $? > status; stty -a > after; sleep 60`,
		dir, os.Getenv("GLASSBOX_ROOT"), c.Bin, name)
	tm.Start("it", "sh -c '"+script+"'")
	pane := func() string { return tm.Pane("it") }
	waitUntil(t, 20*time.Second, "the shell's prompt", func() bool { return strings.Contains(pane(), "/ #") }, pane)
	tm.Keys("it", "tty; stty size", "Enter")
	waitUntil(t, 10*time.Second, "tty and stty size", func() bool {
		return strings.Contains(pane(), "/dev/pts/0") && strings.Contains(pane(), "40 120")
	}, pane)
	tm.Resize("it", 100, 30)
	// SIGWINCH travels tmux → glassbox → TIOCSWINSZ: ask again until it is there.
	asked := time.Time{}
	waitUntil(t, 15*time.Second, "the new size", func() bool {
		if time.Since(asked) > 500*time.Millisecond {
			tm.Keys("it", "clear; stty size", "Enter")
			asked = time.Now()
		}
		return strings.Contains(pane(), "30 100")
	}, pane)
	tm.Keys("it", "exit 3", "Enter")
	var status []byte
	waitUntil(t, 20*time.Second, "run's exit status", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "status"))
		status = b
		return err == nil && len(b) > 0
	}, pane)
	if got := strings.TrimSpace(string(status)); got != "3" {
		t.Errorf("run -it ... sh; exit 3: run exited %s", got)
	}
	var before, after []byte
	waitUntil(t, 5*time.Second, "stty -a after", func() bool {
		var err error
		after, err = os.ReadFile(filepath.Join(dir, "after"))
		return err == nil && len(after) > 0
	}, pane)
	before, _ = os.ReadFile(filepath.Join(dir, "before"))
	// The window's size changed on purpose; every setting must not have.
	size := regexp.MustCompile(`rows \d+; columns \d+;`)
	if b, a := size.ReplaceAll(before, nil), size.ReplaceAll(after, nil); string(a) != string(b) {
		t.Errorf("the host terminal changed:\nbefore %s\nafter  %s", before, after)
	}
	if rows := c.ps(); len(rows) != 0 {
		t.Errorf("run -it left %d sandboxes", len(rows))
	}
}

// waitUntil polls cond; on a timeout the test fails with the screen.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool, screen func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the terminal shows:\n%s", what, screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
