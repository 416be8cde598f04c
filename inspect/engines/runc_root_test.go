package engines_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/sandboxtest"
)

// startRunc starts a bundle with `runc run -d` (or crun's: the runtime's
// default state root, where a user's `runc run` puts it) and removes the
// container at cleanup.
func startRunc(t *testing.T, runtime string) (id, bundle string, pid int) {
	t.Helper()
	need(t, runtime)
	id = testID(runtime)
	rootfs := busyboxRoot(t)
	bundle = filepath.Dir(rootfs)
	spec := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal": false, "user": map[string]int{"uid": 0, "gid": 0}, "cwd": "/",
			"args": []string{"/bin/sleep", "600"},
			"env":  []string{"PATH=/bin"},
		},
		"root":     map[string]any{"path": "rootfs", "readonly": true},
		"hostname": "runc-test",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "mode=755"}},
		},
		"linux": map[string]any{
			"cgroupsPath": "/" + id,
			"namespaces":  []map[string]string{{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}},
			"resources": map[string]any{
				"memory": map[string]any{"limit": 64 << 20},
				"cpu":    map[string]any{"quota": 50000, "period": 100000},
				"pids":   map[string]any{"limit": 50},
			},
		},
	}
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(bundle, "init.pid")
	cmd := []string{"run", "-d", "--pid-file", pidFile, "--bundle", bundle, id}
	t.Cleanup(func() {
		run(t, runtime, "kill", id, "KILL")
		for range 50 {
			if _, _, err := run(t, runtime, "delete", "-f", id); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	startDetached(t, filepath.Join(bundle, runtime+".log"), runtime, cmd...)
	pb, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ = strconv.Atoi(strings.TrimSpace(string(pb)))
	return id, bundle, pid
}

// A bundle started with runc run -d: ps --engines lists it; inspect runc:ID
// shows every cgroup path with its controllers, the limits the spec asked
// for and the kernel holds, and the bundle's root directory; top renders it.
func TestRuncContainer(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	testRuntime(t, "runc")
}

// crun (podman's default runtime) keeps a state file of its own; it
// refuses hybrid cgroups, so it runs on v2 (CI's VM) and v1 only.
func TestCrunContainer(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	if fs, err := inspect.Host(); err == nil && fs.Mode == inspect.ModeHybrid {
		t.Skip("crun does not run containers on hybrid cgroups (\"cgroups in hybrid mode not supported\"); the cgroup v2 VM runs this test")
	}
	testRuntime(t, "crun")
}

func testRuntime(t *testing.T, runtime string) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	id, bundle, pid := startRunc(t, runtime)
	ref := runtime + ":" + id

	ps := must(t, bin, "ps", "--engines", "--no-trunc")
	if !strings.Contains(ps, "ENGINE") || !psHas(ps, runtime, ref) {
		t.Errorf("ps --engines does not list %s:\n%s", ref, ps)
	}

	s := snapshotJSON(t, must(t, bin, "inspect", "--json", "--interval", "0", ref))
	c := s.Container
	if c == nil || c.Engine != runtime || c.ID != id || s.PID != pid || c.PID != pid {
		t.Fatalf("inspect %s: container %+v, PID %d (runc says %d)", ref, c, s.PID, pid)
	}
	if c.Bundle != bundle || c.RootFS != filepath.Join(bundle, "rootfs") {
		t.Errorf("bundle %q rootfs %q, want %q and its rootfs", c.Bundle, c.RootFS, bundle)
	}
	if s.Filesystem.RootHostDir != filepath.Join(bundle, "rootfs") || s.Filesystem.RootType == "" || s.Filesystem.RootSource == "" {
		t.Errorf("root filesystem: %s %s directory %q (%q on the host), want the bundle's rootfs", s.Filesystem.RootType, s.Filesystem.RootSource, s.Filesystem.RootDir, s.Filesystem.RootHostDir)
	}
	if l := c.Limits; l.MemoryBytes != 64<<20 || l.CPUs != 0.5 || l.PidsLimit != 50 {
		t.Errorf("limits asked for: %+v", l)
	}
	m := s.Cgroup.Memory.Limit
	if !m.Valid || m.Value != 64<<20 || m.Source == "" {
		t.Errorf("the kernel's memory limit: %+v", m)
	}
	if q := s.Cgroup.CPU.QuotaUS; !q.Valid || q.Value != 50000 {
		t.Errorf("the kernel's CPU quota: %+v", q)
	}
	if p := s.Cgroup.Pids.Limit; !p.Valid || p.Value != 50 {
		t.Errorf("the kernel's pids limit: %+v", p)
	}
	// Every controller's path, as /proc/PID/cgroup gives it.
	want := procCgroupPaths(t, pid)
	for ctl, path := range want {
		if got := s.Cgroup.Paths[ctl]; got != path {
			t.Errorf("cgroup path for %s: %q, /proc/%d/cgroup says %q", ctl, got, pid, path)
		}
	}
	text := must(t, bin, "inspect", "--interval", "0", ref)
	for _, w := range []string{
		"Container " + ref, "bundle " + bundle, filepath.Join(bundle, "rootfs"),
		"memory 64 MiB, cpus 0.5, pids 50", "/" + id + " for ",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("inspect %s lacks %q:\n%s", ref, w, text)
		}
	}
	for ctl := range want {
		if !strings.Contains(text, ctl) {
			t.Errorf("inspect %s does not name the %s controller:\n%s", ref, ctl, text)
		}
	}

	// --pid of its first process finds the container it is.
	if s := snapshotJSON(t, must(t, bin, "inspect", "--json", "--interval", "0", "--pid", strconv.Itoa(pid))); s.Container == nil || s.Container.Ref() != ref {
		t.Errorf("inspect --pid %d: container %+v, want %s", pid, s.Container, ref)
	}

	frame := must(t, bin, "top", "--once", ref)
	for _, w := range []string{ref, "read-only", "no layers", "directory ", "rootfs", "bundle "} {
		if !strings.Contains(frame, w) {
			t.Errorf("top --once %s lacks %q:\n%s", ref, w, frame)
		}
	}

	// Nothing glassbox does changes it (the same on any cgroup version:
	// left to the host's run, not the emulated VM's).
	if os.Getenv("GLASSBOX_VM") == "1" {
		return
	}
	serveSnapshots(t, bin, ref, pid)
	for _, verb := range []string{"stop", "kill", "rm", "pause", "restart"} {
		_, stderr, err := run(t, bin, verb, ref)
		if err == nil || !strings.Contains(stderr, "only reads other engines' containers") {
			t.Errorf("glassbox %s %s: %v %s", verb, ref, err, stderr)
		}
	}
	if st := must(t, runtime, "state", id); !strings.Contains(st, `"status": "running"`) {
		t.Errorf("after glassbox's refusals %s says:\n%s", runtime, st)
	}
}

// psHas says whether a ps table has a line for ref under engine.
func psHas(table, engine, ref string) bool {
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == engine && f[1] == ref {
			return true
		}
	}
	return false
}

// serveSnapshots runs glassbox serve --engines and asks it for the
// container's snapshot, the way a dashboard asks a node; then stops it.
func serveSnapshots(t *testing.T, bin, ref string, pid int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := exec.Command(bin, "serve", "--listen", addr, "--engines")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		if err := srv.Wait(); err != nil {
			t.Errorf("glassbox serve after SIGTERM: %v", err)
		}
	}()
	var snaps []inspect.Snapshot
	eventually(t, 10*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/snapshots?ref=" + url.QueryEscape(ref))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /snapshots: %s", resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(&snaps)
	})
	if len(snaps) != 1 || snaps[0].PID != pid || snaps[0].Container == nil || snaps[0].Container.Ref() != ref || !snaps[0].Cgroup.Memory.Usage.Valid {
		t.Errorf("served %+v", snaps)
	}
	resp, err := http.Post("http://"+addr+"/snapshots", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /snapshots: %s", resp.Status)
	}
}
