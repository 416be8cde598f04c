package build_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// hostOnly skips a test inside CI's cgroup v2 VM (GLASSBOX_VM=1), where
// this package's root tests must fit in one binary's 6 minutes under
// software emulation: measured there, the docker round trips alone took
// 133 s and the course example 122 s. It is for tests of what no cgroup,
// namespace or mount difference touches (docker's formats, locking,
// tar streams); the host's run covers them.
func hostOnly(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("GLASSBOX_VM") == "1" {
		t.Skip("inside the cgroup v2 VM (emulated, slow): " + why + "; the host's run covers this test")
	}
}

// glassbox runs the binary under test on the test's state root (the test
// kit's CLI): stdout, stderr and the exit status.
func glassbox(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	c := &sandboxtest.CLI{T: t, Bin: sandboxtest.Binary(t), Roots: state.DefaultRoots()}
	return c.Run(args...)
}

// courseContext copies testdata/course into a temporary context and puts
// a static calculator beside it.
func courseContext(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "course")
	dir := t.TempDir()
	for _, n := range []string{"Dockerfile", "requirements.txt", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n), data, 0o644)
	}
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(dir, "calculator"), "glassbox/cmd/calculator")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a static calculator: %v\n%s", err, out)
	}
	return dir
}

// The course example: build, run it and ask /health through -p; rebuild
// unchanged (every step cached); change only the app and rebuild (every
// step before its COPY cached, the first miss names the file).
func TestCourseExample(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	ctx := courseContext(t)

	out, errs, code := glassbox(t, "build", "--progress", "plain", "-t", "course", ctx)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"Step 1/10 : FROM busybox", "Step 4/10 : COPY requirements.txt .", "installing 2 dependencies", "Successfully tagged course:latest"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}

	name := "course-" + fmt.Sprint(time.Now().UnixNano()%1e6)
	port := sandboxtest.FreePort(t)
	t.Cleanup(func() { glassbox(t, "rm", "-f", name) })
	if out, errs, code := glassbox(t, "run", "-d", "--name", name, "-p", fmt.Sprintf("%d:8000", port), "course"); code != 0 {
		t.Fatalf("run -d course: exit %d\n%s%s", code, out, errs)
	}
	var health map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _, _ := glassbox(t, "logs", name)
			t.Fatalf("/health through -p: %v\nlogs: %s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	glassbox(t, "rm", "-f", name)

	out, _, code = glassbox(t, "build", "--progress", "plain", "-t", "course", ctx)
	if code != 0 || strings.Count(out, "Using cache") != 9 || strings.Contains(out, "cache miss") {
		t.Errorf("unchanged rebuild: exit %d, want 9 steps from the cache:\n%s", code, out)
	}

	f, _ := os.OpenFile(filepath.Join(ctx, "calculator"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("a change to the app"))
	f.Close()
	out, _, code = glassbox(t, "build", "--progress", "plain", "-t", "course", ctx)
	if code != 0 {
		t.Fatalf("rebuild after the change: exit %d\n%s", code, out)
	}
	before, after, _ := strings.Cut(out, "Step 6/10 : COPY calculator /app/calculator")
	if strings.Count(before, "Using cache") != 4 || strings.Contains(before, "cache miss") {
		t.Errorf("steps before the app's COPY not all cached:\n%s", before)
	}
	if !strings.Contains(after, " ---> cache miss: calculator changed (sha256:") || !strings.Contains(after, "invalidated by step 6") {
		t.Errorf("the first miss does not name the changed file, or later steps do not say why:\n%s", after)
	}

	// history: the config-only steps are 0 B and <missing>.
	hist, _, _ := glassbox(t, "history", "--no-trunc", "course")
	for _, line := range strings.Split(hist, "\n") {
		if strings.Contains(line, "ENV SERVER_PORT") || strings.Contains(line, "EXPOSE 8000") || strings.Contains(line, "WORKDIR /app") {
			if !strings.HasPrefix(line, "<missing>") || !strings.Contains(line, " 0 B ") {
				t.Errorf("config-only step not <missing> 0 B: %q", line)
			}
		}
	}
	if !strings.Contains(hist, "HEALTHCHECK --interval=5s --timeout=2s --start-period=5s --retries=3 CMD wget") {
		t.Errorf("history lacks the stored health check:\n%s", hist)
	}
}

// Two images FROM one base share its layer directories (the same inodes),
// and images shows the split; RUN rm deletes in the child only; RUN true
// adds an empty layer.
func TestSharedLayersAndWhiteouts(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	mk := func(df string) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644)
		return dir
	}
	if out, errs, code := glassbox(t, "build", "-t", "parent", mk("FROM busybox\nRUN echo data > /data\n")); code != 0 {
		t.Fatalf("build parent: %s%s", out, errs)
	}
	if out, errs, code := glassbox(t, "build", "-t", "child", mk("FROM parent\nRUN rm /data /bin/vi\nRUN true\n")); code != 0 {
		t.Fatalf("build child: %s%s", out, errs)
	}
	if out, _, _ := glassbox(t, "run", "child", "sh", "-c", "ls /data /bin/vi; echo rc=$?"); !strings.Contains(out, "rc=1") {
		t.Errorf("child still has /data or /bin/vi: %q", out)
	}
	if out, _, _ := glassbox(t, "run", "parent", "cat", "/data"); out != "data\n" {
		t.Errorf("parent lost /data: %q", out)
	}
	store := image.NewStore(roots)
	parent, err := store.Get("parent")
	if err != nil {
		t.Fatal(err)
	}
	child, err := store.Get("child")
	if err != nil {
		t.Fatal(err)
	}
	if len(child.Layers) != len(parent.Layers)+2 {
		t.Fatalf("child has %d layers, parent %d", len(child.Layers), len(parent.Layers))
	}
	for i, l := range parent.Layers {
		a, _ := os.Stat(l.Dir)
		b, _ := os.Stat(child.Layers[i].Dir)
		if !os.SameFile(a, b) {
			t.Errorf("layer %d: parent's %s and child's %s are not the same directory", i, l.Dir, child.Layers[i].Dir)
		}
	}
	empty := child.Layers[len(child.Layers)-1]
	if entries, _ := os.ReadDir(empty.Dir); len(entries) != 0 || empty.Digest != "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef" {
		t.Errorf("RUN true made a layer with %d entries (%s); want the empty layer", len(entries), empty.Digest)
	}
	var rows []struct {
		Repository string `json:"repository"`
		Shared     int64  `json:"shared_size"`
		Unique     int64  `json:"unique_size"`
		Size       int64  `json:"size"`
	}
	out, _, _ := glassbox(t, "images", "--json")
	json.Unmarshal([]byte(out), &rows)
	for _, r := range rows {
		if r.Repository == "child" && (r.Shared != parent.Size() || r.Unique != r.Size-r.Shared) {
			t.Errorf("child: shared %d unique %d size %d; want shared = the parent's %d", r.Shared, r.Unique, r.Size, parent.Size())
		}
	}
}

// A directory renamed by a RUN is a faithful layer: the sandbox's overlay
// is mounted with redirect_dir=off, so the rename is a copy and a whiteout
// in plain files, which the canonical tar and every lower stack carry.
func TestRenamedDirectoryLayer(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN mkdir -p /opt/x && echo hi > /opt/x/f\nRUN mv /opt/x /opt/y\n"), 0o644)
	if out, errs, code := glassbox(t, "build", "-q", "-t", "renamed", dir); code != 0 {
		t.Fatalf("build: %s%s", out, errs)
	}
	if out, _, _ := glassbox(t, "run", "renamed", "sh", "-c", "ls /opt; cat /opt/y/f"); out != "y\nhi\n" {
		t.Errorf("after the rename the sandbox sees %q, want only /opt/y with its file", out)
	}
}
