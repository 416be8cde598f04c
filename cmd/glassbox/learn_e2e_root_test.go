package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/ui/lesson"
)

// TestLearnChapterOneByHand is a student doing chapter 1 for real: the
// lesson in one tmux window, a shell in another. For each step the test
// reads what to do off the lesson's pane — a command it types into the
// shell, or a key it presses in the lesson — waits for the lesson to say
// the step is done, and goes on with space. Quitting removes what the
// student created for the lesson, and the progress is kept.
func TestLearnChapterOneByHand(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	tm := sandboxtest.NewTmux(t)
	env := fmt.Sprintf("export GLASSBOX_ROOT=%s NO_COLOR=1 PATH=%s:$PATH", filepath.Dir(c.Roots.Run), filepath.Dir(c.Bin))
	if filepath.Base(c.Bin) != "glassbox" {
		t.Fatalf("the binary under test is %s: the student types glassbox", c.Bin)
	}
	tm.Start("lesson", env+"; glassbox learn --chapter 1 --reset; echo LESSON-ENDED; sleep 60")
	tm.Start("shell", "bash --norc --noprofile")
	tm.Keys("shell", env+"; PS1='$ '", "Enter")

	pane := func() string { return tm.Pane("lesson") }
	wait := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			p := pane()
			if ok(p) {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; the lesson shows:\n%s\nthe shell:\n%s", what, p, tm.Pane("shell"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	doLine := regexp.MustCompile(`(Do|Key): +(.+?) *┃`)
	for n := 1; n <= 4; n++ {
		p := wait(fmt.Sprintf("step %d", n), func(p string) bool {
			return strings.Contains(p, fmt.Sprintf("step %d of 4", n)) && doLine.MatchString(p)
		})
		if !strings.Contains(p, "Predict first: ") {
			t.Errorf("step %d asks nothing first:\n%s", n, p)
		}
		m := doLine.FindStringSubmatch(p)
		switch m[1] {
		case "Do":
			tm.Keys("shell", m[2], "Enter")
		case "Key":
			k := strings.Fields(strings.TrimPrefix(m[2], "press "))[0]
			tm.Keys("lesson", k)
		}
		wait(fmt.Sprintf("step %d to be done (%s)", n, m[2]), func(p string) bool {
			return strings.Contains(p, fmt.Sprintf("step %d of 4", n)) && strings.Contains(p, "┃ ✓ ")
		})
		if n < 4 {
			tm.Keys("lesson", "Space")
		}
	}
	if s := tm.Pane("shell"); strings.Contains(s, "glassbox:") {
		t.Errorf("a command the lesson showed failed in the shell:\n%s", s)
	}
	tm.Keys("lesson", "q")
	wait("the lesson to end", func(p string) bool { return strings.Contains(p, "LESSON-ENDED") })
	if ps := strings.TrimSpace(c.Ok("ps", "-aq")); ps != "" {
		t.Errorf("quitting the lesson left %s", ps)
	}
	var p lesson.Progress
	b, _ := os.ReadFile(filepath.Join(c.Roots.Lib, "learn", "progress.json"))
	if err := json.Unmarshal(b, &p); err != nil || p.Chapter != 1 || p.Step != 4 || !p.Done["1.4"] {
		t.Errorf("the progress kept: %+v (%v)", p, err)
	}
}
