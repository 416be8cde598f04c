package inspect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The v2 watcher's mechanics on a plain file: the kernel marks memory.events
// modified (fsnotify IN_MODIFY) whenever a counter moves, which is what a
// write to the copy does here. The root tests prove the v1 path for real.
func TestWatchOOMv2Mechanics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cg")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "memory.events")
	write := func(oom, kill int) {
		t.Helper()
		content := "low 0\nhigh 0\nmax 3\noom " + itoa(oom) + "\noom_kill " + itoa(kill) + "\noom_group_kill 0\n"
		if err := os.WriteFile(events, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 0)
	fdsBefore := openFDs(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := WatchOOM(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	write(1, 1)
	ev := next(t, ch)
	if !ev.Killed || ev.OOMKills != 1 || ev.Source != events {
		t.Errorf("event %+v", ev)
	}
	write(2, 1) // an OOM without a kill
	if ev := next(t, ch); ev.Killed || ev.OOMKills != 1 {
		t.Errorf("event %+v", ev)
	}
	// The cgroup goes away: the channel closes.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("event after removal: %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel still open after the cgroup was removed")
	}
	if after := openFDs(t); after != fdsBefore {
		t.Errorf("%d fds open before the watch, %d after", fdsBefore, after)
	}
}

func TestWatchOOMCancel(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "memory.events"), []byte("oom 0\noom_kill 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fdsBefore := openFDs(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := WatchOOM(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel still open after cancel")
	}
	if after := openFDs(t); after != fdsBefore {
		t.Errorf("%d fds open before the watch, %d after", fdsBefore, after)
	}
	if _, err := WatchOOM(context.Background(), t.TempDir()); err == nil {
		t.Error("a directory without memory files was accepted")
	}
}

func next(t *testing.T, ch <-chan OOMEvent) OOMEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return OOMEvent{}
}

// openFDs counts this process's eventfds, inotify fds and cgroup files:
// what a watcher holds.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && (strings.Contains(target, "eventfd") || strings.Contains(target, "inotify") ||
			strings.HasSuffix(target, "memory.events") || strings.HasSuffix(target, "memory.oom_control")) {
			n++
		}
	}
	return n
}
