package sandbox_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// busyboxLayers are the built-in busybox image's layers, for tests that
// need a shell inside the sandbox. Without a static busybox on the host
// the test fails under the strict test mode (the README's test command,
// CI) and skips elsewhere.
func busyboxLayers(t *testing.T, roots state.Roots) []state.Layer {
	t.Helper()
	im, err := image.NewStore(roots).Get(image.Busybox)
	if errors.Is(err, image.ErrNoBusybox) {
		sandboxtest.Missing(t, "a static busybox (the built-in busybox image)", "apt-get install busybox-static")
	}
	if err != nil {
		t.Fatal(err)
	}
	return im.TopFirst()
}

// runShell runs a shell script in a busybox sandbox through the Go API and
// returns its output and exit.
func runShell(t *testing.T, cfg *sandbox.Config, script string) (string, *state.Exit) {
	t.Helper()
	cfg.Args = []string{"/bin/sh", "-c", script}
	cfg.InitBinary = sandboxtest.Binary(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp("", "glassbox-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	c, err := sandbox.Start(cfg, sandbox.Stdio{Out: out, Err: out})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer c.Destroy()
	exit, err := c.Wait()
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if err := c.Destroy(); err != nil {
		t.Errorf("destroy: %v", err)
	}
	b, _ := os.ReadFile(out.Name())
	return string(b), exit
}

func TestWorkloadCannotRemountOrWriteLayers(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	layers := busyboxLayers(t, roots)
	cfg := &sandbox.Config{
		Roots: roots, Image: "busybox", Layers: layers, Hostname: "shell",
		Resources: cgroup.Resources{MemoryBytes: 64 << 20},
	}
	out, exit := runShell(t, cfg, `
		busybox mount -o remount,rw / 2>/dev/null && echo remount=ok || echo remount=denied
		busybox mount -t tmpfs t /tmp 2>/dev/null && echo mount=ok || echo mount=denied
		echo new > /bin/written && echo write=ok
		echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=ok || echo procsys=denied
		echo timer_list=$(busybox wc -c < /proc/timer_list) acpi=$(busybox ls /proc/acpi | busybox wc -l)
		busybox touch /sys/x 2>/dev/null && echo sys=ok || echo sys=denied
		echo hostname=$(busybox hostname) etc=$(busybox cat /etc/hostname)
		echo pid=$$ devs=$(busybox ls /dev | busybox tr '\n' ' ')
		busybox grep -h -e CapEff -e CapInh -e CapAmb /proc/self/status
		echo cgroup_not_root=$(busybox grep -vc ':/$' /proc/self/cgroup)
	`)
	if exit.Code != 0 {
		t.Fatalf("script exit %+v; output:\n%s", exit, out)
	}
	for _, want := range []string{
		"remount=denied", "mount=denied", "write=ok", "procsys=denied", "timer_list=0 acpi=0", "sys=denied",
		"hostname=shell etc=shell", "pid=2 ", "CapEff:\t00000000a80425fb",
		// docker clears the inheritable set: an exec'd program cannot take
		// capabilities from it through a file's inheritable bits.
		"CapInh:\t0000000000000000", "CapAmb:\t0000000000000000", "cgroup_not_root=0",
		"null", "zero", "urandom", "pts", "shm", "ptmx", "stdout",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inside the sandbox: want %q in:\n%s", want, out)
		}
	}
	for _, l := range layers {
		if _, err := os.Stat(filepath.Join(l.Dir, "bin/written")); err == nil {
			t.Errorf("a write inside the sandbox changed the image layer %s", l.Dir)
		}
	}
	assertNothingLeft(t, roots)
}

func TestStartReportsOOMKill(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	c := startCalculator(t, roots, cgroup.Resources{MemoryBytes: 32 << 20})
	sb := c.State()
	post(t, sb.WorkloadPID, "/stress/memory", `{"mb":64}`)
	exit, err := c.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !exit.OOMKilled || exit.Code != 137 || exit.Signal != "SIGKILL" {
		t.Errorf("exit %+v, want an OOM kill with code 137", exit)
	}
	if n := oomKills(t, sb); n < 1 {
		t.Errorf("the cgroup's oom_kill counter is %d, want ≥ 1", n)
	}
	if err := c.Destroy(); err != nil {
		t.Error(err)
	}
	assertNothingLeft(t, roots, sb)
}

// oomKills reads the kernel's oom_kill counter of the sandbox's cgroup.
func oomKills(t *testing.T, sb *state.Sandbox) int {
	file := filepath.Join(sb.Cgroup.Dirs["memory"], "memory.oom_control")
	if sb.Cgroup.Mode == "v2" {
		file = filepath.Join(sb.Cgroup.Dirs["unified"], "memory.events")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatalf("no oom_kill in %s", file)
	return 0
}

// startCalculator starts the built-in image through the Go API.
func startCalculator(t *testing.T, roots state.Roots, res cgroup.Resources) *sandbox.Container {
	t.Helper()
	store := image.NewStore(roots)
	store.Self = sandboxtest.Binary(t)
	im, err := store.Get(image.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &sandbox.Config{
		Roots: roots, Image: im.Name, Layers: im.TopFirst(), Args: im.Argv(),
		Env: im.Config.Env, WorkDir: im.Config.WorkingDir, Resources: res,
		InitBinary: sandboxtest.Binary(t),
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := sandbox.Start(cfg, sandbox.Stdio{})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { c.Destroy() })
	return c
}

func TestCleanupFromTheRecordAlone(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	c := startCalculator(t, roots, cgroup.Resources{MemoryBytes: 64 << 20})
	// As crash recovery would: only the record on disk is known.
	sb, err := state.NewStore(roots).Load(c.State().ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.Cleanup(roots, sb); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	exit, _ := c.Wait()
	if exit == nil || exit.Signal != "SIGKILL" {
		t.Errorf("after Cleanup the workload ended with %+v, want SIGKILL", exit)
	}
	assertNothingLeft(t, roots, sb)
	if err := sandbox.Cleanup(roots, sb); err != nil {
		t.Errorf("a second Cleanup: %v", err)
	}
}

func TestFailedStartRollsBack(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	// A layer of the test's own on top of busybox, for a file that is no program.
	garbage := state.Layer{Digest: "test:garbage", Dir: filepath.Join(roots.Lib, "test-layers", "garbage"), CreatedBy: "test: a non-program"}
	if err := os.MkdirAll(filepath.Join(garbage.Dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	var seen *state.Sandbox
	cfg := &sandbox.Config{
		Roots: roots, Image: "busybox", Layers: append([]state.Layer{garbage}, busyboxLayers(t, roots)...),
		Args: []string{"/bin/sh", "-c", "sleep 100"}, InitBinary: sandboxtest.Binary(t),
		Network: sandbox.NetworkBridge,
		Hooks: sandbox.Hooks{OnCreated: func(sb *state.Sandbox) error {
			s := *sb
			seen = &s
			return errors.New("no bridge today")
		}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := sandbox.Start(cfg, sandbox.Stdio{})
	if err == nil || !strings.Contains(err.Error(), "no bridge today") {
		t.Fatalf("start: %v, want the hook's error", err)
	}
	if seen == nil || seen.InitPID == 0 || len(seen.Cgroup.Dirs) == 0 {
		t.Fatalf("the hook ran without an init in its cgroup: %+v", seen)
	}
	assertNothingLeft(t, roots, seen)

	// A command missing from the image is refused before anything exists.
	cfg.ID, cfg.Network, cfg.Hooks = "", sandbox.NetworkNone, sandbox.Hooks{}
	cfg.Args = []string{"/bin/no-such-command"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "no such file in the image") {
		t.Fatalf("validate a missing command: %v", err)
	}
	// One that the kernel refuses to exec fails inside, and is rolled back.
	if err := os.WriteFile(filepath.Join(garbage.Dir, "bin/garbage"), []byte("not a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.ID, cfg.Args = "", []string{"/bin/garbage"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.Start(cfg, sandbox.Stdio{}); err == nil || !strings.Contains(strings.ToLower(err.Error()), "exec format error") {
		t.Fatalf("start of a non-program: %v", err)
	}
	assertNothingLeft(t, roots)
}

func TestRunUserNamespace(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	// The sandbox's root is an unprivileged host user, which must be able
	// to reach the layers below the (private) temporary root.
	os.Chmod(filepath.Dir(roots.Lib), 0o755)
	r := startRun(t, roots, "--userns", "--memory", "64m")
	sb := r.running()
	uid := statusField(t, sb.WorkloadPID, "Uid")
	if !strings.HasPrefix(uid, fmt.Sprint(sandbox.UIDMapStart)) {
		t.Errorf("workload's host uid %q, want %d", uid, sandbox.UIDMapStart)
	}
	if nsInode(t, "self", "user") == nsInode(t, strconv.Itoa(sb.WorkloadPID), "user") {
		t.Error("no user namespace")
	}
	var in info
	getJSON(t, sb.WorkloadPID, "/info", &in)
	if in.UID != 0 || in.ProcessID != 2 || in.Cgroup.MemoryLimitBytes != 64<<20 {
		t.Errorf("/info: uid %d pid %d memory %d, want 0, 2, 64 MiB", in.UID, in.ProcessID, in.Cgroup.MemoryLimitBytes)
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(); code != 0 {
		t.Errorf("exit %d; stderr %s", code, r.stderr.String())
	}
	assertNothingLeft(t, roots, sb)
}

// KeepState: Destroy and CleanupResources release everything but the
// state directory and the writable layer, which stay for their owner (a
// supervisor restarting the sandbox, or `rm`): a file written before is
// there after the next start. Cleanup removes both.
func TestKeepState(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	cfg := &sandbox.Config{
		Roots: roots, Image: "busybox", Layers: busyboxLayers(t, roots),
		Args: []string{"/bin/sh", "-c", "echo run >> /runs; sleep 100"}, InitBinary: sandboxtest.Binary(t),
		Network: sandbox.NetworkNone, KeepState: true,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	store := state.NewStore(roots)
	for i, release := range []string{"Destroy", "CleanupResources"} {
		c, err := sandbox.Start(cfg, sandbox.Stdio{})
		if err != nil {
			t.Fatalf("start (before %s): %v", release, err)
		}
		sb := c.State()
		// Release only once the workload has written: Start returns
		// before the shell has run its first command.
		waitForRuns(t, filepath.Join(sb.UpperDir, "runs"), i+1)
		if release == "Destroy" {
			err = c.Destroy()
		} else {
			err = sandbox.CleanupResources(roots, sb)
			c.Wait()
			c.Destroy()
		}
		if err != nil {
			t.Fatalf("%s: %v", release, err)
		}
		if _, err := store.Load(sb.ID); err != nil {
			t.Errorf("after %s the record is gone: %v", release, err)
		}
		if _, err := os.Stat(filepath.Join(sb.UpperDir, "runs")); err != nil {
			t.Errorf("after %s the writable layer lost what the workload wrote: %v", release, err)
		}
		for _, d := range []string{sb.WorkDir, sb.RootFS} {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("after %s %s is still there", release, d)
			}
		}
		for _, d := range sb.Cgroup.Dirs {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("after %s the cgroup %s is still there", release, d)
			}
		}
	}
	// The same id starts again on its kept record: the name is its own.
	c, err := sandbox.Start(cfg, sandbox.Stdio{})
	if err != nil {
		t.Fatalf("a second start on the kept record: %v", err)
	}
	sb := c.State()
	waitForRuns(t, filepath.Join(sb.UpperDir, "runs"), 3)
	c.Destroy()
	if err := sandbox.Cleanup(roots, sb); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, roots, sb)
}

// waitForRuns waits until the file holds n lines "run": one per start of
// the workload, the earlier ones kept in the writable layer.
func waitForRuns(t *testing.T, path string, n int) {
	t.Helper()
	want := strings.Repeat("run\n", n)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("start %d: %s holds %q, want %q: the writable layer did not keep what earlier starts wrote", n, path, b, want)
		}
	}
}
