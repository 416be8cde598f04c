package sandbox_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// info is the part of the calculator's GET /info the tests check.
type info struct {
	Hostname  string `json:"hostname"`
	ProcessID int    `json:"process_id"`
	UID       int    `json:"uid"`
	Cgroup    struct {
		Path             string  `json:"path"`
		MemoryLimitBytes int64   `json:"memory_limit_bytes"`
		CPUs             float64 `json:"cpus"`
	} `json:"cgroup"`
	Namespaces map[string]uint64 `json:"namespaces"`
}

func TestRunIsolatesTheCalculator(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	r := startRun(t, roots, "--memory", "64m", "--cpus", "0.5", "--hostname", "calc-test", "--name", "calc")
	sb := r.running()

	if sb.Name != "calc" || sb.Hostname != "calc-test" || sb.Limits.MemoryBytes != 64<<20 || sb.Limits.CPUQuotaUS != 50000 {
		t.Errorf("record: name %q hostname %q limits %+v", sb.Name, sb.Hostname, sb.Limits)
	}
	w := strconv.Itoa(sb.WorkloadPID)
	for _, kind := range []string{"pid", "mnt", "uts", "ipc", "net", "cgroup", "time"} {
		host, inside := nsInode(t, "self", kind), nsInode(t, w, kind)
		if host == inside {
			t.Errorf("namespace %s: the workload shares the host's %s", kind, host)
		}
	}
	if got := nspid(t, sb.InitPID); len(got) != 2 || got[1] != 1 || got[0] == 1 {
		t.Errorf("init NSpid = %v, want [host-pid 1]", got)
	}
	if got := nspid(t, sb.WorkloadPID); len(got) != 2 || got[1] != 2 || got[0] == 2 {
		t.Errorf("workload NSpid = %v, want [host-pid 2]", got)
	}
	// The cgroup namespace was created after the move into the cgroup: the
	// workload sees its own cgroup as the root.
	var in info
	getJSON(t, sb.WorkloadPID, "/info", &in)
	if in.ProcessID != 2 || in.Hostname != "calc-test" {
		t.Errorf("/info: process_id %d hostname %q, want 2 and calc-test", in.ProcessID, in.Hostname)
	}
	if in.Cgroup.Path != "/" || in.Cgroup.MemoryLimitBytes != 64<<20 || in.Cgroup.CPUs != 0.5 {
		t.Errorf("/info cgroup: %+v, want path / with 64 MiB and 0.5 CPUs", in.Cgroup)
	}
	hostCg, _ := os.ReadFile("/proc/" + w + "/cgroup")
	if !strings.Contains(string(hostCg), sb.Cgroup.Path) {
		t.Errorf("the workload is not in %s: %s", sb.Cgroup.Path, hostCg)
	}
	for _, d := range sb.Cgroup.Dirs {
		procs, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if !strings.Contains(string(procs), w) {
			t.Errorf("%s/cgroup.procs lacks the workload %s: %q", d, w, procs)
		}
	}
	caps := statusField(t, sb.WorkloadPID, "CapBnd")
	if caps != "00000000a80425fb" {
		t.Errorf("workload's bounding set %s, want the container default 00000000a80425fb", caps)
	}
	if statusField(t, sb.WorkloadPID, "NoNewPrivs") != "1" {
		t.Error("no_new_privs is not set")
	}

	// SIGTERM to glassbox run reaches the calculator, which drains and exits 0.
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0; stderr: %s", code, r.stderr.String())
	}
	if !strings.Contains(r.stdout.String(), `"msg":"exited","status":0`) {
		t.Errorf("the calculator did not shut down gracefully; stdout: %s", r.stdout.String())
	}
	assertNothingLeft(t, roots, sb)
}

func statusField(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestRunWithoutInit(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	r := startRun(t, roots, "--init=false")
	sb := r.running()
	if sb.WorkloadPID != sb.InitPID {
		t.Errorf("workload %d is not the sandbox's PID 1 %d", sb.WorkloadPID, sb.InitPID)
	}
	var in info
	getJSON(t, sb.WorkloadPID, "/info", &in)
	if in.ProcessID != 1 {
		t.Errorf("/info process_id %d, want 1", in.ProcessID)
	}
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(); code != 0 {
		t.Errorf("exit status %d after SIGINT, want 0; stderr: %s", code, r.stderr.String())
	}
	assertNothingLeft(t, roots, sb)
}

func TestRunOOMKill(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	r := startRun(t, roots, "--memory", "32m")
	sb := r.running()
	post(t, sb.WorkloadPID, "/stress/memory", `{"mb":64}`)
	if code := r.wait(); code != 137 {
		t.Errorf("exit status %d, want 137; stderr: %s", code, r.stderr.String())
	}
	want := "glassbox: killed by the OOM killer: memory limit 32 MiB reached"
	if !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", r.stderr.String(), want)
	}
	assertNothingLeft(t, roots, sb)
}

func TestRunWorkloadSIGKILL(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	r := startRun(t, roots)
	sb := r.running()
	syscall.Kill(sb.WorkloadPID, syscall.SIGKILL)
	if code := r.wait(); code != 137 {
		t.Errorf("exit status %d, want 137; stderr: %s", code, r.stderr.String())
	}
	if strings.Contains(r.stderr.String(), "OOM") {
		t.Errorf("a plain SIGKILL reported as an OOM kill: %s", r.stderr.String())
	}
	assertNothingLeft(t, roots, sb)
}

func TestRunExitStatusAndSharedLayers(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	a := startRun(t, roots)
	b := startRun(t, roots)
	sa, sbb := a.running(), b.running()
	la, lb := overlayOptions(t, sa.WorkloadPID), overlayOptions(t, sbb.WorkloadPID)
	var want []string
	for _, l := range sa.Layers {
		want = append(want, l.Dir)
	}
	if la["lowerdir"] != strings.Join(want, ":") {
		t.Errorf("lowerdir %q, want the image's layers top-most first %q", la["lowerdir"], strings.Join(want, ":"))
	}
	if la["lowerdir"] != lb["lowerdir"] || la["upperdir"] == lb["upperdir"] {
		t.Errorf("two sandboxes: lowerdirs %q / %q (want shared), upperdirs %q / %q (want own)",
			la["lowerdir"], lb["lowerdir"], la["upperdir"], lb["upperdir"])
	}
	if la["upperdir"] != sa.UpperDir {
		t.Errorf("upperdir %q, record says %q", la["upperdir"], sa.UpperDir)
	}
	// A file written inside (through the sandbox's own root) lands in its
	// upper dir only; a changed image file is copied up, the layer stays.
	root := "/proc/" + strconv.Itoa(sa.WorkloadPID) + "/root"
	if err := os.WriteFile(root+"/app/written-inside", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(sa.UpperDir, "app/written-inside")); err != nil {
		t.Errorf("the file is not in the upper dir: %v", err)
	}
	for _, l := range sa.Layers {
		if _, err := os.Stat(filepath.Join(l.Dir, "app/written-inside")); err == nil {
			t.Errorf("the file landed in layer %s", l.Dir)
		}
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(sbb.WorkloadPID) + "/root/app/written-inside"); err == nil {
		t.Error("the other sandbox sees the file")
	}
	// The calculator handles SIGTERM from before it listens: once it answers,
	// a SIGTERM is a graceful stop, not a kill.
	for _, pid := range []int{sa.WorkloadPID, sbb.WorkloadPID} {
		var h map[string]any
		getJSON(t, pid, "/health", &h)
	}
	for _, r := range []*cliRun{a, b} {
		r.cmd.Process.Signal(syscall.SIGTERM)
		if code := r.wait(); code != 0 {
			t.Errorf("exit %d; stderr %s", code, r.stderr.String())
		}
	}
	assertNothingLeft(t, roots, sa, sbb)
}

// overlayOptions reads the super options of the overlay mounted at the
// root of pid's mount namespace.
func overlayOptions(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[4] != "/" {
			continue
		}
		sep := 0
		for i, x := range f {
			if x == "-" {
				sep = i
			}
		}
		if f[sep+1] != "overlay" {
			t.Fatalf("root mount is %s, want overlay: %s", f[sep+1], line)
		}
		opts := map[string]string{}
		for _, o := range strings.Split(f[sep+3], ",") {
			k, v, _ := strings.Cut(o, "=")
			opts[k] = v
		}
		return opts
	}
	t.Fatalf("no root mount in %d's mountinfo", pid)
	return nil
}

func TestRunBadInput(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "flag validation, before anything exists")
	roots := sandboxtest.TempRoots(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"nosuchimage"}, "unknown image"},
		{[]string{"--memory", "abc"}, `run -m abc: memory "abc": invalid size`},
		{[]string{"--memory", "-5m"}, `run -m -5m: memory "-5m": invalid size`},
		{[]string{"--memory", "0"}, "run -m 0: 0 is no limit"},
		{[]string{"--memory", "4m"}, "below the minimum"},
		{[]string{"--cpus", "0"}, "run --cpus 0: must be more than 0"},
		{[]string{"--cpus", "-1"}, "run --cpus -1: must be more than 0"},
		{[]string{"--pids-limit", "0"}, "run --pids-limit 0: must be more than 0"},
		{[]string{"--restart", "always"}, "needs -d"},
		{[]string{"--stop-timeout", "3s"}, "needs -d"},
		{[]string{"--cpus", "64"}, "more than the"},
		{[]string{"-e", "NOEQUALS"}, "invalid environment variable"},
		{[]string{"-e", "=value"}, "empty name"},
		{[]string{"--name", "bad/name"}, "invalid name"},
		{[]string{"--hostname", "bad_host!"}, "invalid hostname"},
		{[]string{"--workdir", "relative"}, "absolute"},
		{[]string{"--network", "bogus"}, "unknown network mode"},
		{[]string{"calculator", "/no/such/command"}, "no such file"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := startRun(t, roots, c.args...)
			code := r.wait()
			if code == 0 || !strings.Contains(r.stderr.String(), c.want) {
				t.Errorf("exit %d, stderr %q; want an error with %q", code, r.stderr.String(), c.want)
			}
			assertNothingLeft(t, roots)
		})
	}
}

func TestRunNameMustBeUnique(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	a := startRun(t, roots, "--name", "twin")
	sa := a.running()
	b := startRun(t, roots, "--name", "twin")
	if code := b.wait(); code == 0 || !strings.Contains(b.stderr.String(), "already in use") {
		t.Errorf("second --name twin: exit %d, stderr %q", code, b.stderr.String())
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	a.wait()
	assertNothingLeft(t, roots, sa)
}

func TestRunNeedsRoot(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	// A copy of the binary that the user nobody may execute.
	dir, err := os.MkdirTemp("", "glassbox-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "glassbox")
	data, err := os.ReadFile(sandboxtest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := execAs(bin, 65534, "run")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(string(out), "glassbox: run needs root: glassbox creates and reads namespaces, cgroups, mounts") {
		t.Errorf("as nobody: exit %d, output %q", cmd.ProcessState.ExitCode(), out)
	}
	assertNothingLeft(t, roots)
}
