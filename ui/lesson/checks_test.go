package lesson

import (
	"strings"
	"testing"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

// ctxFor is a check's context on the fake world after setup, with a
// session that began before it (so that its sandboxes are the lesson's).
func ctxFor(t *testing.T, w *fakeWorld, setup func(*fakeWorld), args ...string) *Ctx {
	t.Helper()
	sess, err := NewSession(w, t0.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(w)
	}
	list, _ := w.Sandboxes()
	s := ui.Seen{Now: w.now()}
	for _, sb := range list {
		s.Boxes = append(s.Boxes, ui.SeenBox{ID: sb.ID, Name: sb.Name, Snap: snapshotOf(sb, w.now(), list), Record: sb})
	}
	return &Ctx{Args: args, List: list, Seen: s, World: w, Sess: sess, Since: t0, Now: t0, Notes: map[string]string{}}
}

func verdictOf(t *testing.T, name string, c *Ctx) Verdict {
	t.Helper()
	return checks[name].Test(c)
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name  string
		check string
		args  []string
		setup func(w *fakeWorld)
		want  ui.GuideState
		say   string
	}{
		{name: "no sandbox yet", check: "pid1", args: []string{"lesson-a"}, want: ui.GuideWaiting, say: "there is no lesson-a yet"},
		{name: "pid 1 and 2", check: "pid1", args: []string{"lesson-a"},
			setup: func(w *fakeWorld) { w.Add("lesson-a", "calculator") }, want: ui.GuideDone, say: "PID 1 is glassbox sandbox-init init (host PID 4242)"},
		{name: "ended while being looked at", check: "pid1", args: []string{"lesson-a"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-a", "calculator")
				w.Set("lesson-a", func(sb *state.Sandbox) { sb.Status, sb.Exit = state.Exited, &state.Exit{Code: 1} })
			}, want: ui.GuideFailed, say: "lesson-a ended: Exited (1)"},
		{name: "oom kill", check: "oom", args: []string{"lesson-a"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-a", "calculator")
				w.Set("lesson-a", func(sb *state.Sandbox) {
					sb.Status, sb.Exit = state.Exited, &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true}
				})
			}, want: ui.GuideDone, say: "Exited (137, SIGKILL, OOMKilled)"},
		{name: "stopped instead of oom", check: "oom", args: []string{"lesson-a"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-a", "calculator")
				w.Set("lesson-a", func(sb *state.Sandbox) { sb.Status, sb.Exit = state.Exited, &state.Exit{Code: 0} })
			}, want: ui.GuideFailed, say: "not by the OOM killer"},
		{name: "restarted after oom", check: "oom", args: []string{"lesson-a"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-a", "calculator")
				w.Set("lesson-a", func(sb *state.Sandbox) {
					sb.RestartCount, sb.RestartedAfter = 1, &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true}
				})
			}, want: ui.GuideDone},
		{name: "wrong memory limit", check: "memory-limit", args: []string{"lesson-a", "96m"},
			setup: func(w *fakeWorld) { w.Add("lesson-a", "calculator") }, want: ui.GuideFailed, say: "start it again with --memory 96m"},
		{name: "hostname asked for", check: "hostname", args: []string{"lesson-c", "web-1"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-c", "busybox")
				w.Set("lesson-c", func(sb *state.Sandbox) { sb.Hostname = "web-1" })
			}, want: ui.GuideDone, say: "inside, the hostname is web-1; the host is still host"},
		{name: "another hostname", check: "hostname", args: []string{"lesson-c", "web-1"},
			setup: func(w *fakeWorld) { w.Add("lesson-c", "busybox") }, want: ui.GuideFailed, say: "not web-1"},
		{name: "two pid 1s, the second not shown yet", check: "two-pid1", args: []string{"lesson-a", "lesson-b"},
			setup: func(w *fakeWorld) { w.Add("lesson-a", "calculator"); w.Add("lesson-b", "busybox") }, want: ui.GuideWaiting, say: "switch to lesson-b"},
		{name: "killed after the grace period", check: "killed", args: []string{"lesson-b"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-b", "busybox")
				w.Set("lesson-b", func(sb *state.Sandbox) { sb.Status, sb.Exit = state.Exited, &state.Exit{Code: 137, Signal: "SIGKILL"} })
			}, want: ui.GuideDone, say: "137 = 128 + 9"},
		{name: "oom is not the grace period", check: "killed", args: []string{"lesson-b"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-b", "busybox")
				w.Set("lesson-b", func(sb *state.Sandbox) {
					sb.Status, sb.Exit = state.Exited, &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true}
				})
			}, want: ui.GuideFailed},
		{name: "env overridden", check: "env", args: []string{"lesson-b", "WORKER_COUNT=1"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-b", "calculator")
				w.Set("lesson-b", func(sb *state.Sandbox) {
					sb.ImageEnv, sb.Env = []string{"WORKER_COUNT=4"}, []string{"WORKER_COUNT=4", "WORKER_COUNT=1"}
				})
			}, want: ui.GuideDone, say: "lesson-b has WORKER_COUNT=1 (the image says WORKER_COUNT=4: -e wins)"},
		{name: "env the image lacks", check: "env", args: []string{"lesson-b", "WORKER_COUNT=1"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-b", "calculator")
				w.Set("lesson-b", func(sb *state.Sandbox) { sb.Env = []string{"WORKER_COUNT=1"} })
			}, want: ui.GuideDone, say: "(the image sets no WORKER_COUNT: -e adds it)"},
		{name: "env from the image", check: "env", args: []string{"lesson-b", "WORKER_COUNT=1"},
			setup: func(w *fakeWorld) {
				w.Add("lesson-b", "calculator")
				w.Set("lesson-b", func(sb *state.Sandbox) { sb.Env = []string{"WORKER_COUNT=4"} })
			}, want: ui.GuideFailed, say: "start it again with -e WORKER_COUNT=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := verdictOf(t, tc.check, ctxFor(t, newFakeWorld(), tc.setup, tc.args...))
			if v.State != tc.want || !strings.Contains(v.Say, tc.say) {
				t.Errorf("%s %v: %s %q, want %s with %q", tc.check, tc.args, v.State, v.Say, tc.want, tc.say)
			}
		})
	}
}

// A sandbox with a lesson's name that was there before the lesson began
// is never the lesson's: not adopted, not shown, not removed; the lesson
// takes another name instead.
func TestSessionNeverTouchesOthers(t *testing.T) {
	w := newFakeWorld()
	w.Add("lesson-a", "calculator") // somebody's, from before
	theirs, _ := w.Sandboxes()
	sess, err := NewSession(w, t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := sess.Var("a"); got != "lesson-a2" {
		t.Errorf("the lesson named its sandbox %q beside an existing lesson-a, want lesson-a2", got)
	}
	w.now = func() time.Time { return t0.Add(2 * time.Second) }
	w.Add("lesson-a2", "calculator") // the lesson's
	list, _ := w.Sandboxes()
	sess.Adopt(list)
	if sess.Owns(theirs[0]) {
		t.Errorf("the lesson owns %s, which was there before it", theirs[0].Name)
	}
	if err := sess.CleanAll(w); err != nil {
		t.Fatal(err)
	}
	left, _ := w.Sandboxes()
	if len(left) != 1 || left[0].Name != "lesson-a" {
		t.Errorf("after the clean-up %v remain, want the other's lesson-a alone", names(left))
	}
}

// A lesson killed before it cleaned up left its ids in the progress kept:
// the next start removes those, and only those.
func TestLeftoversRemovedAtStart(t *testing.T) {
	w := newFakeWorld()
	w.Add("lesson-a", "calculator")
	w.Add("mine", "calculator")
	list, _ := w.Sandboxes()
	w.progress = Progress{Chapter: 1, Step: 1, Owned: Owned{Sandboxes: []string{list[0].ID, "0123456789ab"}}}
	c, _ := Builtin()
	if _, err := New(Options{Course: c, World: w, Clock: w.now}); err != nil {
		t.Fatal(err)
	}
	left, _ := w.Sandboxes()
	if len(left) != 1 || left[0].Name != "mine" {
		t.Errorf("after the start %v remain, want mine alone", names(left))
	}
	if p, _ := w.LoadProgress(); len(p.Owned.Sandboxes) != 0 {
		t.Errorf("the progress still lists %v as left behind", p.Owned.Sandboxes)
	}
}

func names(list []*state.Sandbox) []string {
	var out []string
	for _, sb := range list {
		out = append(out, sb.Name)
	}
	return out
}

// Layers shared: said once both sandboxes' snapshots count each other (a
// snapshot taken before the second one started counts it out).
func TestSharedWaitsForBothSnapshots(t *testing.T) {
	w := newFakeWorld()
	c := ctxFor(t, w, func(w *fakeWorld) {
		w.Add("lesson-a", "busybox")
		w.Add("lesson-b", "busybox")
	}, "lesson-a", "lesson-b")
	v := verdictOf(t, "shared", c)
	if v.State != ui.GuideDone || !strings.Contains(v.Say, "shared by 2 (lesson-a, lesson-b)") {
		t.Errorf("both counted: %s %q", v.State, v.Say)
	}
	stale := *c.Seen.Boxes[0].Snap
	stale.Filesystem.Lowers = []inspect.Lower{c.Seen.Boxes[0].Snap.Filesystem.Lowers[0]}
	stale.Filesystem.Lowers[0].SharedBy, stale.Filesystem.Lowers[0].SharedWith = 1, []string{"lesson-a"}
	c.Seen.Boxes[0].Snap = &stale
	if v := verdictOf(t, "shared", c); v.State != ui.GuideWaiting {
		t.Errorf("a's snapshot from before b: %s %q", v.State, v.Say)
	}
}

// A pids limit reached: done once the kernel has refused a fork (pids.events
// max), not merely when the count is near the limit.
func TestPidsFullWaitsForARefusedFork(t *testing.T) {
	w := newFakeWorld()
	c := ctxFor(t, w, func(w *fakeWorld) { w.Add("lesson-c", "busybox") }, "lesson-c")
	p := &c.Seen.Boxes[0].Snap.Cgroup.Pids
	src := "/sys/fs/cgroup/glassbox/x/pids.events"
	p.Current, p.Limit = inspect.Value{Value: 4, Valid: true}, inspect.Value{Value: 5, Valid: true}
	p.Refused = inspect.Value{Value: 0, Valid: true, Source: src}
	if v := verdictOf(t, "pids-full", c); v.State != ui.GuideWaiting {
		t.Errorf("4 of 5, nothing refused: %s %q", v.State, v.Say)
	}
	p.Refused.Value = 2
	if v := verdictOf(t, "pids-full", c); v.State != ui.GuideDone || !strings.Contains(v.Say, "the kernel refused 2 fork(s) ("+src) {
		t.Errorf("2 forks refused: %s %q", v.State, v.Say)
	}
	p.Refused = inspect.Value{}
	if v := verdictOf(t, "pids-full", c); v.State != ui.GuideDone || strings.Contains(v.Say, "refused") {
		t.Errorf("no pids.events, 4 of 5: %s %q", v.State, v.Say)
	}
}
