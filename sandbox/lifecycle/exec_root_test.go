package lifecycle_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// execIn runs glassbox exec with stdin and returns stdout, stderr, status.
func (c *cli) execIn(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.Bin, append([]string{"exec"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("glassbox exec %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// execOK runs glassbox exec and returns its trimmed output.
func (c *cli) execOK(args ...string) string {
	c.t.Helper()
	out, errs, code := c.execIn("", args...)
	if code != 0 {
		c.t.Fatalf("glassbox exec %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return strings.TrimSpace(out)
}

// cgroupProcs lists the sandbox's cgroup.procs (of its memory, or only,
// hierarchy).
func cgroupProcs(t *testing.T, sb *state.Sandbox) []int {
	t.Helper()
	dir, ok := sb.Cgroup.Dirs["memory"]
	if !ok {
		dir = sb.Cgroup.Dirs["unified"]
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		pids = append(pids, n)
	}
	slices.Sort(pids)
	return pids
}

func statusField(t *testing.T, status, key string) string {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in status:\n%s", key, status)
	return ""
}

// waitForProc waits until a process of the sandbox's cgroup runs comm.
func waitForProc(t *testing.T, sb *state.Sandbox, comm string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, pid := range cgroupProcs(t, sb) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if strings.TrimSpace(string(b)) == comm {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in the cgroup of %s: %v", comm, sb.Name, cgroupProcs(t, sb))
	return 0
}

// An exec'd process is inside the sandbox: its namespaces, its cgroup,
// its hostname, its capabilities, no_new_privs and seccomp filter, its
// environment and working directory — and its parent is outside (PPID 0).
func TestExecJoinsTheSandbox(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := newCLI(t)
	name := sandboxtest.UniqueName("sh1")
	c.Ok("run", "-d", "--name", name, "-e", "RUNVAR=run", "-w", "/tmp", "--hostname", "inside", "busybox", "sleep", "1000")
	sb := c.get(name)
	for _, ns := range []string{"pid", "net", "mnt", "uts", "ipc", "cgroup"} {
		host, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", sb.InitPID, ns))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.execOK(name, "readlink", "/proc/self/ns/"+ns); got != host {
			t.Errorf("exec'd %s namespace %s, the init's %s", ns, got, host)
		}
	}
	if got := c.execOK(name, "hostname"); got != "inside" {
		t.Errorf("hostname %q, want the sandbox's, inside", got)
	}
	mine, workload := c.execOK(name, "cat", "/proc/self/status"), c.execOK(name, "cat", "/proc/2/status")
	for _, key := range []string{"CapEff", "CapBnd", "CapPrm", "NoNewPrivs", "Seccomp"} {
		if a, b := statusField(t, mine, key), statusField(t, workload, key); a != b {
			t.Errorf("%s: exec'd %s, the workload %s", key, a, b)
		}
	}
	if statusField(t, mine, "NoNewPrivs") != "1" || statusField(t, mine, "Seccomp") != "2" {
		t.Errorf("exec'd process without no_new_privs or seccomp filter:\n%s", mine)
	}
	if got := statusField(t, mine, "PPid"); got != "0" {
		t.Errorf("PPid %s inside, want 0: its parent is outside the sandbox", got)
	}
	env := c.execOK("-e", "EXECVAR=exec", name, "env")
	for _, want := range []string{"RUNVAR=run", "EXECVAR=exec", "HOSTNAME=inside", "PATH=", "HOME=/root"} {
		if !strings.Contains(env, want) {
			t.Errorf("exec'd environment lacks %s:\n%s", want, env)
		}
	}
	if got := c.execOK(name, "pwd"); got != "/tmp" {
		t.Errorf("working directory %q, want the sandbox's /tmp", got)
	}
	if got := c.execOK("-w", "/etc", name, "pwd"); got != "/etc" {
		t.Errorf("-w /etc: working directory %q", got)
	}
	if got := c.execOK("-u", "nobody", name, "id"); got != "uid=65534(nobody) gid=65534(nogroup)" {
		t.Errorf("-u nobody: %q", got)
	}
	if got := c.execOK("-u", "1234:55", name, "sh", "-c", "id -u; id -g; echo $HOME"); got != "1234\n55\n/" {
		t.Errorf("-u 1234:55: %q", got)
	}

	// From the host: a process in the sandbox's cgroup, with a PID on each side.
	run := exec.Command(c.Bin, "exec", name, "sleep", "1000")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	pid := waitForProc(t, sb, "sleep")
	if pid == sb.WorkloadPID {
		pid = waitForProcOther(t, sb, "sleep", sb.WorkloadPID)
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	nspid := strings.Fields(statusField(t, string(st), "NSpid"))
	if len(nspid) != 2 || nspid[0] != strconv.Itoa(pid) {
		t.Errorf("exec'd sleep: NSpid %v, want two values, host %d first", nspid, pid)
	}
}

// waitForProcOther is waitForProc for a comm other than the process skip.
func waitForProcOther(t *testing.T, sb *state.Sandbox, comm string, skip int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, pid := range cgroupProcs(t, sb) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if pid != skip && strings.TrimSpace(string(b)) == comm {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no second %s in the cgroup of %s", comm, sb.Name)
	return 0
}

// The exit status is the command's, docker's 126 and 127 when it cannot
// run, 128+N for a signal; stdin is passed with -i only.
func TestExecExitStatusAndStdin(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("sh1")
	c.Ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"sh", "-c", "exit 7"}, 7, ""},
		{[]string{"nosuch"}, 127, `exec: "nosuch": executable file not found in $PATH`},
		{[]string{"/no/such"}, 127, `exec: "/no/such": no such file or directory`},
		{[]string{"/etc"}, 126, `exec: "/etc": permission denied`},
		{[]string{"/etc/passwd"}, 126, `exec: "/etc/passwd": permission denied`},
		{[]string{"sh", "-c", "kill -9 $$"}, 137, ""},
		{[]string{"-u", "nosuch", name, "id"}, 126, "unable to find user nosuch: no matching entries in passwd file"},
		{[]string{"-u", "0:nosuch", name, "id"}, 126, "unable to find group nosuch: no matching entries in group file"},
		{[]string{"-w", "/nonexistent", name, "pwd"}, 126, `chdir to cwd ("/nonexistent")`},
	} {
		args := tc.args
		if !strings.HasPrefix(args[0], "-") {
			args = append([]string{name}, args...)
		}
		_, errs, code := c.execIn("", args...)
		if code != tc.code || !strings.Contains(errs, tc.says) {
			t.Errorf("exec %v: exit %d, stderr %q; want %d saying %q", args, code, errs, tc.code, tc.says)
		}
	}
	if out, _, _ := c.execIn("hi\n", "-i", name, "cat"); out != "hi\n" {
		t.Errorf("echo hi | exec -i cat: %q", out)
	}
	if out, _, _ := c.execIn("hi\n", name, "cat"); out != "" {
		t.Errorf("exec without -i: cat read %q, want /dev/null's nothing", out)
	}
}

// Bad input and a sandbox that is not running get a clear error and leave
// nothing behind in the sandbox.
func TestExecBadInput(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("sh1")
	c.Ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
	done := sandboxtest.UniqueName("done")
	c.Ok("run", "-d", "--name", done, "busybox", "true")
	c.waitFor(done, "exited", func(sb *state.Sandbox) bool { return sb.Status == state.Exited })
	sb := c.get(name)
	before := cgroupProcs(t, sb)
	for _, tc := range []struct {
		says string
		args []string
	}{
		{"no such sandbox", []string{"nosuchbox", "true"}},
		{"exec needs a sandbox and a command", []string{name}},
		{"is exited, not running", []string{done, "true"}},
		{`invalid environment variable "=x"`, []string{"-e", "=x", name, "true"}},
		{`invalid environment variable "NOVALUE"`, []string{"-e", "NOVALUE", name, "true"}},
		{"needs to be an absolute path", []string{"-w", "rel", name, "true"}},
		{"the input device is not a TTY", []string{"-it", name, "sh"}},
		{"-d cannot go with -i or -t", []string{"-d", "-t", name, "sh"}},
		{"exec has no flag -z", []string{"-z", name, "true"}},
	} {
		_, errs, code := c.execIn("", tc.args...)
		if code == 0 || !strings.Contains(errs, tc.says) {
			t.Errorf("exec %v: exit %d, stderr %q; want a failure saying %q", tc.args, code, errs, tc.says)
		}
	}
	c.Ok("pause", name)
	_, errs, code := c.execIn("", name, "true")
	if code == 0 || !strings.Contains(errs, "it is paused; unpause it first") {
		t.Errorf("exec into a paused sandbox: exit %d, %q", code, errs)
	}
	c.Ok("unpause", name)
	if after := cgroupProcs(t, sb); !slices.Equal(before, after) {
		t.Errorf("bad exec left processes: %v, before %v", after, before)
	}
}

// An exec'd memory hog counts against the sandbox's --memory: the OOM
// killer ends it (137) inside the sandbox's cgroup.
func TestExecOOMKilledInTheSandboxCgroup(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := newCLI(t)
	name := sandboxtest.UniqueName("oom")
	c.Ok("run", "-d", "--name", name, "--memory", "32m", "busybox", "sleep", "1000")
	sb := c.get(name)
	oomBefore := oomKills(t, sb)
	// dd fills a 64 MiB buffer from /dev/zero: twice the limit.
	_, errs, code := c.execIn("", name, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
	if code != 137 {
		t.Fatalf("exec'd memory hog: exit %d (%s), want 137", code, errs)
	}
	if n := oomKills(t, sb); n <= oomBefore {
		t.Errorf("oom_kill of the sandbox's cgroup %d, was %d: the kill was not the sandbox's", n, oomBefore)
	}
	if c.get(name).Status != state.Running {
		t.Errorf("the sandbox stopped: the OOM killer took its workload rather than the hog")
	}
}

func oomKills(t *testing.T, sb *state.Sandbox) int {
	t.Helper()
	if d, ok := sb.Cgroup.Dirs["memory"]; ok {
		if b, err := os.ReadFile(filepath.Join(d, "memory.oom_control")); err == nil {
			return kv(string(b), "oom_kill")
		}
	}
	for _, d := range sb.Cgroup.Dirs {
		if b, err := os.ReadFile(filepath.Join(d, "memory.events")); err == nil {
			return kv(string(b), "oom_kill")
		}
	}
	t.Fatalf("no oom_kill counter in %v", sb.Cgroup.Dirs)
	return 0
}

func kv(s, key string) int {
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// The calculator's image has no shell; exec runs what it holds.
func TestExecCalculator(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("calc")
	c.Ok("run", "-d", "--name", name, "calculator")
	if got := c.execOK(name, "/app/calculator", "version"); !strings.HasPrefix(got, "calculator (glassbox)") {
		t.Errorf("exec calc /app/calculator version: %q", got)
	}
	_, errs, code := c.execIn("", name, "sh")
	if code != 127 || !strings.Contains(errs, `exec: "sh": executable file not found in $PATH`) {
		t.Errorf("exec calc sh: exit %d, %q; want 127: the image has no shell", code, errs)
	}
}

// Exec'd processes end with the sandbox: a stop ends the workload and an
// exec'd sleep, and its glassbox exec returns. -d leaves the command to
// the sandbox's init.
func TestExecEndsWithTheSandbox(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("sh1")
	c.Ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
	sb := c.get(name)
	c.Ok("exec", "-d", name, "sleep", "1001")
	detached := waitForProc(t, sb, "sleep")
	if detached == sb.WorkloadPID {
		detached = waitForProcOther(t, sb, "sleep", sb.WorkloadPID)
	}
	run := exec.Command(c.Bin, "exec", name, "sleep", "1002")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- run.Wait() }()
	var attached int
	deadline := time.Now().Add(10 * time.Second)
	for attached == 0 && time.Now().Before(deadline) {
		for _, pid := range cgroupProcs(t, sb) {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(b), "1002") {
				attached = pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if attached == 0 {
		t.Fatal("the exec'd sleep 1002 never showed in the sandbox's cgroup")
	}
	c.Ok("stop", "-t", "1", name)
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		run.Process.Kill()
		t.Fatal("glassbox exec still runs after the sandbox stopped")
	}
	for _, pid := range []int{sb.WorkloadPID, detached, attached, run.Process.Pid} {
		if alive(pid) {
			t.Errorf("process %d (%s) outlived the sandbox", pid, cmdline(pid))
		}
	}
}

// A hundred exec cycles leave no process, zombie or descriptor behind.
func TestExecCyclesLeaveNothing(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("sh1")
	c.Ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
	sb := c.get(name)
	fds := func(pid int) int {
		e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		return len(e)
	}
	procs, initFDs, supFDs := cgroupProcs(t, sb), fds(sb.InitPID), fds(sb.SupervisorPID)
	for i := 0; i < 100; i++ {
		if out := c.execOK(name, "echo", strconv.Itoa(i)); out != strconv.Itoa(i) {
			t.Fatalf("cycle %d: %q", i, out)
		}
	}
	if after := cgroupProcs(t, sb); !slices.Equal(after, procs) {
		t.Errorf("after 100 execs the cgroup holds %v, before %v", after, procs)
	}
	// Exec talks to neither, but a leak into them would show as growth.
	if n := fds(sb.InitPID); n > initFDs {
		t.Errorf("the init has %d descriptors, had %d", n, initFDs)
	}
	if n := fds(sb.SupervisorPID); n > supFDs {
		t.Errorf("the supervisor has %d descriptors, had %d", n, supFDs)
	}
	if ps := c.execOK(name, "ps", "-o", "stat,comm"); strings.Contains(ps, "\nZ") {
		t.Errorf("zombies in the sandbox:\n%s", ps)
	}
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "sandbox-exec\x00"+sb.ID) && e.Name() != self {
			t.Errorf("a joining process is left: %s %q", e.Name(), b)
		}
	}
}
