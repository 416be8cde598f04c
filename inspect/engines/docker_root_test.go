package engines_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"glassbox/inspect"
	"glassbox/inspect/engines"
	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
	"glassbox/ui"
)

// dockerCalculatorImage builds, in the test's dockerd, an image of
// glassbox's own calculator the way the course's Dockerfile would (the
// binary carried busybox-style, its shared libraries) plus a static busybox
// for a memory hog to docker exec: FROM scratch, three COPY layers.
func dockerCalculatorImage(t *testing.T, d *sandboxtest.Docker, bin string) string {
	t.Helper()
	ctx := tempDir(t)
	root := filepath.Join(ctx, "base")
	libs, err := image.SharedLibraries(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		copyFile(t, l, filepath.Join(root, l))
	}
	for _, dir := range []string{"tmp", "proc", "sys", "dev", "etc"} {
		os.MkdirAll(filepath.Join(root, dir), 0o755)
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		sandboxtest.Missing(t, "busybox", "apt-get install busybox-static")
	}
	copyFile(t, bb, filepath.Join(ctx, "busybox"))
	copyFile(t, bin, filepath.Join(ctx, "calculator"))
	df := `FROM scratch
COPY base/ /
COPY calculator /app/calculator
COPY busybox /bin/busybox
ENV SERVER_PORT=8000 WORKER_COUNT=4
WORKDIR /app
EXPOSE 8000
CMD ["/app/calculator"]
`
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := d.Command("build", "-q", "-t", "gbcalc", ctx)
	cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	return "gbcalc"
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// dockerInspect is the part of `docker inspect` the test compares with.
type dockerInspect struct {
	State struct {
		Pid int `json:"Pid"`
	} `json:"State"`
	Image      string `json:"Image"`
	HostConfig struct {
		Memory   int64 `json:"Memory"`
		NanoCpus int64 `json:"NanoCpus"`
	} `json:"HostConfig"`
	NetworkSettings struct {
		Ports map[string][]struct{ HostIp, HostPort string } `json:"Ports"`
	} `json:"NetworkSettings"`
	GraphDriver struct {
		Data map[string]string `json:"Data"`
	} `json:"GraphDriver"`
}

// The course's calculator under docker (docker run -d -p … --memory 256m
// --cpus 0.5) beside the same calculator under glassbox: ps --engines lists
// both; inspect docker:dcalc agrees with docker inspect (PID, limits,
// ports) and with /proc (namespace inodes); its layers are docker's
// overlay2 directories in order, mapped to the image's layers; top --once
// renders the two side by side; an OOM kill inside it (docker exec of a
// memory hog) is an OOM event in glassbox.
func TestDockerCalculator(t *testing.T) {
	sandboxtest.RequireRoot(t)
	notInVM(t, "a dockerd with an image build")
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	d := sandboxtest.Dockerd(t)
	t.Setenv("DOCKER_HOST", d.Host) // glassbox finds docker where its clients do
	img := dockerCalculatorImage(t, d, bin)
	port := sandboxtest.FreePort(t)
	d.Run(t, "run", "-d", "--name", "dcalc", "-p", fmt.Sprintf("127.0.0.1:%d:8000", port), "--memory", "256m", "--cpus", "0.5", img)
	eventually(t, 20*time.Second, func() error {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	gbName := fmt.Sprintf("gcalc-%d", os.Getpid())
	gbID := strings.TrimSpace(must(t, bin, "run", "-d", "--name", gbName, "-p", fmt.Sprintf("127.0.0.1:%d:8000", sandboxtest.FreePort(t)), "--memory", "256m", "--cpus", "0.5", "calculator"))
	t.Cleanup(func() { run(t, bin, "rm", "-f", gbID) })

	ps := must(t, bin, "ps", "--engines", "--no-trunc")
	if !psHas(ps, "docker", "docker:dcalc") || !psHas(ps, "glassbox", gbName) {
		t.Errorf("ps --engines does not list docker:dcalc and %s:\n%s", gbName, ps)
	}

	var di []dockerInspect
	if err := json.Unmarshal([]byte(d.Run(t, "inspect", "dcalc")), &di); err != nil || len(di) != 1 {
		t.Fatalf("docker inspect: %v", err)
	}
	want := di[0]
	s := snapshotJSON(t, must(t, bin, "inspect", "--json", "--interval", "0", "docker:dcalc"))
	c := s.Container
	if c == nil || c.Engine != "docker" || c.Name != "dcalc" {
		t.Fatalf("inspect docker:dcalc: container %+v", c)
	}
	if s.PID != want.State.Pid || c.PID != want.State.Pid {
		t.Errorf("PID %d (container %d), docker inspect says %d", s.PID, c.PID, want.State.Pid)
	}
	if c.Limits.MemoryBytes != want.HostConfig.Memory || c.Limits.CPUs != float64(want.HostConfig.NanoCpus)/1e9 {
		t.Errorf("limits %+v, docker inspect says memory %d, nano CPUs %d", c.Limits, want.HostConfig.Memory, want.HostConfig.NanoCpus)
	}
	if m := s.Cgroup.Memory.Limit; !m.Valid || m.Value != 256<<20 {
		t.Errorf("the kernel's memory limit %+v, want 256 MiB", m)
	}
	if q := s.Cgroup.CPU; !q.QuotaUS.Valid || float64(q.QuotaUS.Value)/float64(q.PeriodUS.Value) != 0.5 {
		t.Errorf("the kernel's CPU quota %+v / %+v, want half a core", q.QuotaUS, q.PeriodUS)
	}
	binds := want.NetworkSettings.Ports["8000/tcp"]
	if len(binds) != 1 || len(c.Ports) != 1 || c.Ports[0].HostIP != binds[0].HostIp || strconv.Itoa(c.Ports[0].HostPort) != binds[0].HostPort || c.Ports[0].ContainerPort != 8000 {
		t.Errorf("ports %+v, docker inspect says %+v", c.Ports, binds)
	}
	if len(s.Network.Ports) != 1 || s.Network.Ports[0].HostPort != port {
		t.Errorf("the snapshot's published ports %+v, want %d", s.Network.Ports, port)
	}
	for _, n := range s.Namespaces {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", want.State.Pid, n.Kind))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(link, fmt.Sprintf(":[%d]", n.Inode)) {
			t.Errorf("namespace %s: inode %d, /proc says %s", n.Kind, n.Inode, link)
		}
	}
	// Layers: the root overlay's lower directories are docker's, in the
	// order docker inspect lists them (its init layer, then the image's
	// top-most first), each mapped to the image's layer (diff id).
	lower := strings.Split(want.GraphDriver.Data["LowerDir"], ":")
	if s.Filesystem.RootType != "overlay" || len(s.Filesystem.Lowers) != len(lower) {
		t.Fatalf("root %s with %d lowers, docker says %d: %v", s.Filesystem.RootType, len(s.Filesystem.Lowers), len(lower), lower)
	}
	var imgJSON []struct {
		RootFS struct{ Layers []string } `json:"RootFS"`
	}
	if err := json.Unmarshal([]byte(d.Run(t, "image", "inspect", want.Image)), &imgJSON); err != nil || len(imgJSON) != 1 {
		t.Fatalf("docker image inspect: %v", err)
	}
	diffs := slices.Clone(imgJSON[0].RootFS.Layers)
	slices.Reverse(diffs)
	if len(diffs) != 3 || len(lower) != 4 {
		t.Fatalf("image layers %v, lowers %v: want 3 and the init layer", diffs, lower)
	}
	for i, l := range s.Filesystem.Lowers {
		dir := l.Dir
		if l.Resolved != "" {
			dir = l.Resolved
		}
		if dir != lower[i] {
			t.Errorf("lower %d is %s (%s), docker says %s", i, l.Dir, l.Resolved, lower[i])
		}
		if i > 0 && l.Digest != diffs[i-1] {
			t.Errorf("lower %d's layer %q, the image's is %q", i, l.Digest, diffs[i-1])
		}
	}
	if !strings.Contains(s.Filesystem.Lowers[1].CreatedBy, "COPY") {
		t.Errorf("the top image layer was made by %q", s.Filesystem.Lowers[1].CreatedBy)
	}
	text := must(t, bin, "inspect", "--interval", "0", "docker:dcalc")
	for _, w := range []string{"Container docker:dcalc", "image gbcalc", "memory 256 MiB, cpus 0.5", shortDiff(diffs[0]), lower[0]} {
		if !strings.Contains(text, w) {
			t.Errorf("inspect docker:dcalc lacks %q:\n%s", w, text)
		}
	}

	frame := must(t, bin, "top", "--once", "docker:dcalc", gbName)
	if testing.Verbose() {
		t.Logf("inspect docker:dcalc:\n%s\ntop --once docker:dcalc %s:\n%s", text, gbName, frame)
	}
	for _, w := range []string{"docker:dcalc", gbName, "read-only"} {
		if !strings.Contains(frame, w) {
			t.Errorf("top --once docker:dcalc %s lacks %q:\n%s", gbName, w, frame)
		}
	}

	// An OOM kill inside it: glassbox's watch on its memory cgroup sees it,
	// and the UI's events say so.
	fs, err := inspect.Host()
	if err != nil {
		t.Fatal(err)
	}
	found := engines.Discover(context.Background(), engines.Host())
	dc, err := engines.Find(found, "docker:dcalc")
	if err != nil {
		t.Fatal(err)
	}
	in, err := inspect.ForContainer(fs, dc)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	before, err := in.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events, err := in.WatchOOM(wctx)
	if err != nil {
		t.Fatal(err)
	}
	// dd's buffer is one block: reading 400 MiB of zeros into it touches
	// more pages than the 256 MiB limit allows, at memset's speed.
	out, _ := d.Command("exec", "dcalc", "/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=400M", "count=1").CombinedOutput()
	var ev inspect.OOMEvent
	select {
	case ev = <-events:
	case <-wctx.Done():
		t.Fatalf("no OOM event within 60 s; docker exec said %s", out)
	}
	if !ev.Killed || ev.OOMKills < 1 || ev.Source == "" {
		t.Errorf("OOM event %+v", ev)
	}
	after, _ := in.Snapshot()
	before.Sandbox, after.Sandbox = dc.Record(), dc.Record() // as the UI's live source gives them
	r := lipgloss.NewRenderer(os.Stdout)
	r.SetColorProfile(termenv.Ascii)
	screen := ui.Frame(ui.NewStyles(r), [][]*inspect.Snapshot{{before}, {after}}, 140)
	if !strings.Contains(screen, "OOM killer killed") {
		t.Errorf("the UI's frame shows no OOM event:\n%s", screen)
	}
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port)); err != nil {
		t.Errorf("the calculator in docker after the hog's OOM kill: %v", err)
	} else {
		resp.Body.Close()
	}

	// Stopped by docker: listed with -a, inspected from docker's words.
	d.Run(t, "stop", "-t", "2", "dcalc")
	if ps := must(t, bin, "ps", "--engines"); psHas(ps, "docker", "docker:dcalc") {
		t.Errorf("a stopped container without -a:\n%s", ps)
	}
	if ps := must(t, bin, "ps", "-a", "--engines", "--no-trunc"); !psHas(ps, "docker", "docker:dcalc") {
		t.Errorf("ps -a --engines lacks the stopped docker:dcalc:\n%s", ps)
	}
	if text := must(t, bin, "inspect", "docker:dcalc"); !strings.Contains(text, "It is exited") || !strings.Contains(text, "memory 256 MiB, cpus 0.5") {
		t.Errorf("inspect of the stopped docker:dcalc:\n%s", text)
	}
}

func shortDiff(d string) string { return strings.TrimPrefix(d, "sha256:")[:12] }
