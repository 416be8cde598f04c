package ui_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// TestImageExploreCopyUpLive is the whole path for real: an image built
// with a 50 MiB file, a sandbox on it, `glassbox image explore` on the
// sandbox in a tmux pane, u on the file: the screen explains the copy-up
// and the upper layer shows the whole file.
func TestImageExploreCopyUpLive(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	gb := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("glassbox %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN dd if=/dev/zero of=/0big bs=1M count=50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gb("build", "--progress", "plain", "-t", "bigfile", dir)
	name := fmt.Sprintf("explore-e2e-%d", os.Getpid()%10000)
	gb("run", "-d", "--name", name, "--network", "none", "bigfile", "sleep", "1000")
	t.Cleanup(func() { exec.Command(bin, "rm", "-f", name).Run() })

	tm := newTmux(t)
	tm.Start("explore", fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s image explore --interval 1s %s; sleep 30", os.Getenv("GLASSBOX_ROOT"), bin, name))
	pane := func() string { return tm.Pane("explore") }
	waitFor(t, 20*time.Second, "the Image view on the sandbox", func() bool {
		return strings.Contains(pane(), "glassbox ▸ sandbox "+name) && strings.Contains(pane(), "Files: what upper changed")
	}, pane)
	tm.Keys("explore", "a") // the merged tree: / first, then /0big
	waitFor(t, 10*time.Second, "the merged tree", func() bool {
		return strings.Contains(pane(), "Files: merged up to upper") && strings.Contains(pane(), "├── 0big")
	}, pane)
	tm.Keys("explore", "j")
	waitFor(t, 10*time.Second, "the cursor on /0big", func() bool {
		return strings.Contains(pane(), "/0big · -rw-r--r-- · 50 MiB")
	}, pane)
	tm.Keys("explore", "u")
	var screen string
	waitFor(t, 15*time.Second, "the copy-up explained", func() bool {
		screen = pane()
		return strings.Contains(screen, "copy-up: 1 byte appended to /0big made overlayfs copy all 50 MiB of it up from #3")
	}, pane)
	for _, want := range []string{"upper layer 0 B → 50 MiB", "▶ upper     50 MiB live"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the pane lacks %q:\n%s", want, screen)
		}
	}
	t.Logf("the pane after the copy-up:\n%s", screen)
	tm.Keys("explore", "Escape")
	waitFor(t, 10*time.Second, "the view to quit on esc", func() bool {
		return !strings.Contains(pane(), "Layers (top first)")
	})
}
