package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// storeListing lists everything below the store's layers, images, build
// cache and containers (what a failed build must not change).
func storeListing(t *testing.T, roots state.Roots) []string {
	t.Helper()
	var out []string
	for _, d := range []string{roots.LayersDir(), roots.ImagesDir(), roots.ContainersDir(), filepath.Join(roots.Lib, "build-cache"), roots.SandboxesDir()} {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && filepath.Base(p) != ".lock" {
				out = append(out, p)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

func buildContext(t *testing.T, dockerfile string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644)
	for n, c := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755)
		os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
	}
	return dir
}

// Every bad input is a clear error with the file and line, and creates
// nothing; so does a failing RUN (its code and output reported).
func TestBadInputCreatesNothing(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	if _, errs, code := glassbox(t, "run", "busybox", "true"); code != 0 { // the base, built once
		t.Fatal(errs)
	}
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644)
	for _, tc := range []struct {
		name, df string
		files    map[string]string
		args     []string
		want     string
		code     int
	}{
		{"unknown instruction", "FROM busybox\nFROB x\n", nil, nil, "Dockerfile:2: unknown instruction FROB", 1},
		{"missing file", "FROM busybox\nCOPY nothere /\n", nil, nil, "Dockerfile:2: COPY: nothere: no such file in the build context", 1},
		{"outside the context", "FROM busybox\nCOPY ../x /\n", nil, nil, "Dockerfile:2: COPY: ../x: outside the build context", 1},
		{"escaping symlink", "FROM busybox\nCOPY link /\n", nil, nil, "Dockerfile:2: COPY: link: a symlink that leads outside the build context", 1},
		{"unknown FROM", "FROM nosuchimage\nRUN true\n", nil, nil, `Dockerfile:1: FROM: unknown image "nosuchimage"`, 1},
		{"bad tag", "FROM busybox\n", nil, []string{"-t", "Bad:Tag"}, `-t Bad:Tag: invalid reference`, 1},
		{"empty", "", nil, nil, "Dockerfile: the Dockerfile is empty", 1},
		{"URL", "FROM busybox\nADD http://example.com/x /\n", nil, nil, "Dockerfile:2: ADD: http://example.com/x: URLs are not supported", 1},
		{"failing RUN", "FROM busybox\nRUN touch /made\nRUN echo boom; exit 7\n", nil, []string{"-t", "never"}, "returned a non-zero code: 7", 7},
	} {
		ctx := buildContext(t, tc.df, tc.files)
		os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ctx, "link"))
		before := storeListing(t, roots)
		args := append(append([]string{"build", "--progress", "plain"}, tc.args...), ctx)
		out, errs, code := glassbox(t, args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", tc.name, code, errs, tc.code, tc.want)
		}
		if tc.name == "failing RUN" && !strings.Contains(out, "boom") {
			t.Errorf("failing RUN: its output is not shown: %q", out)
		}
		if tc.name == "failing RUN" {
			// The RUN before it made a layer and a cache entry: keep those,
			// but no sandbox, upper directory, staging layer or tag.
			if _, _, code := glassbox(t, "history", "never"); code == 0 {
				t.Error("failing RUN: the tag was set")
			}
			for _, p := range storeListing(t, roots) {
				if strings.Contains(p, ".staging-") || strings.HasPrefix(p, roots.ContainersDir()+"/") || strings.HasPrefix(p, roots.SandboxesDir()+"/") {
					t.Errorf("failing RUN left %s", p)
				}
			}
			continue
		}
		if after := storeListing(t, roots); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("%s: the store changed:\nbefore %v\nafter  %v", tc.name, before, after)
		}
	}
}

// Ctrl-C during a RUN stops it and leaves nothing of the step: no
// sandbox, no upper directory, no half-made layer, no tag.
func TestInterruptedBuildLeavesNothing(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	ctx := buildContext(t, "FROM busybox\nRUN echo started; sleep 60\n", nil)
	cmd := exec.Command(sandboxtest.Binary(t), "build", "--progress", "plain", "-t", "interrupted", ctx)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "started") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("interrupted build: %v, want exit 130\n%s", err, out.String())
	}
	for _, p := range storeListing(t, roots) {
		if strings.Contains(p, ".staging-") || strings.HasPrefix(p, roots.ContainersDir()+"/") || strings.HasPrefix(p, roots.SandboxesDir()+"/") {
			t.Errorf("interrupted build left %s", p)
		}
	}
	if _, _, code := glassbox(t, "history", "interrupted"); code == 0 {
		t.Error("interrupted build set its tag")
	}
}

// Builds of one context at once take turns on the store's lock: all
// succeed with the same image and the store holds each layer once.
func TestConcurrentBuilds(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "the store lock, nothing of cgroup v2")
	roots := sandboxtest.TempRoots(t)
	ctx := buildContext(t, "FROM busybox\nCOPY a /a\nRUN cat /a > /b\n", map[string]string{"a": "same"})
	const n = 4
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errs, code := glassbox(t, "build", "-q", "-t", "same", ctx)
			if code != 0 {
				t.Errorf("build %d: exit %d %s", i, code, errs)
			}
			ids[i] = strings.TrimSpace(out)
		}()
	}
	wg.Wait()
	for i := range n {
		if ids[i] != ids[0] || !strings.HasPrefix(ids[i], "sha256:") {
			t.Errorf("build %d gave %q, build 0 %q", i, ids[i], ids[0])
		}
	}
	for _, p := range storeListing(t, roots) {
		if strings.Contains(p, ".staging-") || strings.Contains(p, ".tmp") {
			t.Errorf("left %s", p)
		}
	}
	if out, _, _ := glassbox(t, "run", "same", "cat", "/b"); out != "same" {
		t.Errorf("the image's /b = %q", out)
	}
}

// syncBuffer is a buffer a child process writes to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
