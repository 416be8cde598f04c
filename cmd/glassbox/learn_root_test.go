package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/ui"
	"glassbox/ui/lesson"
	"glassbox/ui/replay"
)

// TestLearnScript runs the whole lesson unattended, for real, as CI does on
// the host: every step's own solution, its check over the machine's real
// state. A step that needs what the machine lacks (qemu) is skipped, and
// says why. It runs in the cgroup v2 VM too, whole (about a minute and a
// half under emulation; the VM step skips there, visibly: no qemu inside
// the VM). The lesson leaves nothing behind: no sandbox, no image, no
// directory.
func TestLearnScript(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := sandboxtest.NewCLI(t)
	course, err := lesson.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	scriptLesson(t, c, course, 0)
}

// scriptLesson runs learn --script --record, on one chapter or (0) all, and
// checks what it did, what it recorded and what it left.
func scriptLesson(t *testing.T, c *sandboxtest.CLI, course *lesson.Course, chapter int) {
	t.Helper()
	dirsBefore := lessonDirs(t)
	recording := filepath.Join(t.TempDir(), "learn.jsonl.zst")
	args := []string{"learn", "--script", "--record", recording}
	if chapter != 0 {
		args = append(args, "--chapter", strconv.Itoa(chapter))
	}
	start := time.Now()
	out, errs, code := c.Run(args...)
	took := time.Since(start)
	t.Logf("%s took %s:\n%s", strings.Join(args, " "), took.Round(100*time.Millisecond), out)
	if code != 0 {
		t.Fatalf("learn --script: exit %d\n%s", code, errs)
	}
	steps := 0
	for _, ch := range course.Chapters {
		if chapter != 0 && ch.Number != chapter {
			continue
		}
		for _, s := range ch.Steps {
			steps++
			line := regexp.MustCompile(`(?m)^([✓⊘]) ` + regexp.QuoteMeta(s.ID()+" "+s.Title) + ` \(.*$`).FindStringSubmatch(out)
			switch {
			case line == nil:
				t.Errorf("step %s %q did not pass", s.ID(), s.Title)
			case line[1] == "⊘" && !strings.Contains(line[0], "skipped: this machine needs"):
				t.Errorf("step %s was skipped without saying why: %s", s.ID(), line[0])
			case line[1] == "⊘":
				t.Logf("skipped, visibly: %s", line[0])
			}
		}
	}
	if !strings.Contains(out, "learn --script: ") || !strings.Contains(out, " 0 failed in ") {
		t.Errorf("no summary line")
	}
	if ps := strings.TrimSpace(c.Ok("ps", "-aq")); ps != "" {
		t.Errorf("the lesson left sandboxes: %s", ps)
	}
	if images := c.Ok("images"); strings.Contains(images, "lesson-") {
		t.Errorf("the lesson left an image:\n%s", images)
	}
	for d := range lessonDirs(t) {
		if !dirsBefore[d] {
			t.Errorf("the lesson left %s", d)
		}
	}
	// The recording (learn --record) holds each step's screen as it was
	// done, and replays.
	rec, err := replay.Open(recording)
	if err != nil {
		t.Fatalf("the lesson's recording: %v", err)
	}
	doneSteps := map[string]bool{}
	for _, e := range rec.Entries {
		if e.Guide != nil && (e.Guide.State == ui.GuideDone || e.Guide.State == ui.GuideSkipped) {
			doneSteps[e.Guide.Heading+" "+e.Guide.Title] = true
		}
	}
	if len(doneSteps) != steps {
		t.Errorf("the recording has %d steps done or skipped, the lesson ran %d", len(doneSteps), steps)
	}
	if f := replay.Once(rec, rec.Length(), 100, 30); !strings.Contains(f, "glassbox learn") {
		t.Errorf("the recording's last frame:\n%s", f)
	}
	var p lesson.Progress
	b, err := os.ReadFile(filepath.Join(c.Roots.Lib, "learn", "progress.json"))
	if err != nil || json.Unmarshal(b, &p) != nil {
		t.Fatalf("the progress kept: %v\n%s", err, b)
	}
	if len(p.Owned.Sandboxes)+len(p.Owned.Images)+len(p.Owned.Dirs) > 0 {
		t.Errorf("the progress still lists what the lesson created: %+v", p.Owned)
	}
}

// lessonDirs are the lesson's build contexts in the temporary directory.
func lessonDirs(t *testing.T) map[string]bool {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), lessonDirPrefix+"*"))
	out := map[string]bool{}
	for _, d := range m {
		out[d] = true
	}
	return out
}

// Bad input is refused before anything is created.
func TestLearnBadInput(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	c.Fails("--chapter 9: the course has chapters 1 to 8", "learn", "--script", "--chapter", "9")
	c.Fails("--presenter and --script", "learn", "--script", "--presenter")
	c.Fails("needs a terminal", "learn", "--chapter", "1")
	if ps := strings.TrimSpace(c.Ok("ps", "-aq")); ps != "" {
		t.Errorf("a refused lesson created sandboxes: %s", ps)
	}
	if list := c.Ok("learn", "--list"); !strings.Contains(list, "3.2 The OOM kill") {
		t.Errorf("learn --list:\n%s", list)
	}
}
