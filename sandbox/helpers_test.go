package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// cliRun is a `glassbox run` started by a test.
type cliRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	roots  state.Roots
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// startRun starts `glassbox run args...` on the test's state root.
func startRun(t *testing.T, roots state.Roots, args ...string) *cliRun {
	t.Helper()
	r := &cliRun{t: t, roots: roots, done: make(chan struct{})}
	r.cmd = exec.Command(sandboxtest.Binary(t), append([]string{"run"}, args...)...)
	r.cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+filepath.Dir(roots.Lib))
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start glassbox run: %v", err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Signal(syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

// wait waits for glassbox run to end and returns its exit status.
func (r *cliRun) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("glassbox run did not end; stderr: %s", r.stderr.String())
	}
	return r.cmd.ProcessState.ExitCode()
}

// runningWait bounds how long a test waits for a glassbox run to start.
const runningWait = 90 * time.Second

// running waits until the run's sandbox is recorded as running.
func (r *cliRun) running() *state.Sandbox {
	r.t.Helper()
	store := state.NewStore(r.roots)
	// Generous: the first run of a test root builds the calculator image,
	// which under the cgroup v2 VM's emulation alone takes 15-20 s.
	deadline := time.Now().Add(runningWait)
	for time.Now().Before(deadline) {
		all, _ := store.List()
		for _, sb := range all {
			if sb.Status == state.Running && sb.SupervisorPID == r.cmd.Process.Pid {
				return sb
			}
		}
		select {
		case <-r.done:
			r.t.Fatalf("glassbox run ended (%v) before the sandbox ran; stderr: %s", r.err, r.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	r.t.Fatalf("sandbox not running after %s; stderr: %s", runningWait, r.stderr.String())
	return nil
}

// dialInNetns connects to addr from inside the network namespace of pid:
// on a locked OS thread that enters it and leaves again.
func dialInNetns(pid int, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("setns: %w", err)
	}
	conn, dialErr := net.DialTimeout("tcp", addr, 2*time.Second)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		panic("cannot return to the test's network namespace: " + err.Error())
	}
	return conn, dialErr
}

// client is an HTTP client whose connections are made inside pid's netns.
func client(pid int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
				return dialInNetns(pid, addr)
			},
		},
	}
}

// getJSON asks the calculator inside the sandbox, retrying while it starts.
func getJSON(t *testing.T, pid int, path string, v any) {
	t.Helper()
	var lastErr error
	for deadline := time.Now().Add(startWait); time.Now().Before(deadline); {
		resp, err := client(pid).Get("http://127.0.0.1:8000" + path)
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
			}
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: decode: %v", path, err)
			}
			return
		}
		lastErr = err
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GET %s inside the sandbox: %v", path, lastErr)
}

// startWait bounds how long a test waits for the calculator to listen: a
// few ms here, seconds under emulation (the cgroup v2 VM).
const startWait = 30 * time.Second

// post sends a request to the calculator inside the sandbox, retrying while
// it does not listen yet (a refused connection would leave the caller
// waiting for an effect that never comes).
func post(t *testing.T, pid int, path, body string) {
	t.Helper()
	for deadline := time.Now().Add(startWait); ; time.Sleep(10 * time.Millisecond) {
		resp, err := client(pid).Post("http://127.0.0.1:8000"+path, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		// An OOM kill may cut the answer: the caller checks the outcome.
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return
		}
	}
}

// nsInode reads the inode of /proc/<pid>/ns/<kind>.
func nsInode(t *testing.T, pid, kind string) string {
	t.Helper()
	link, err := os.Readlink("/proc/" + pid + "/ns/" + kind)
	if err != nil {
		t.Fatalf("read namespace %s of %s: %v", kind, pid, err)
	}
	return link
}

// nspid reads the NSpid line of /proc/<pid>/status: the PID in each
// namespace, outermost first.
func nspid(t *testing.T, pid int) []int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("read status of %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			var out []int
			for _, f := range strings.Fields(rest) {
				n, _ := strconv.Atoi(f)
				out = append(out, n)
			}
			return out
		}
	}
	t.Fatalf("no NSpid in /proc/%d/status", pid)
	return nil
}

// assertNothingLeft fails if the sandbox left a record, a writable layer, a
// cgroup, a mount or a process.
func assertNothingLeft(t *testing.T, roots state.Roots, sbs ...*state.Sandbox) {
	t.Helper()
	for _, dir := range []string{roots.SandboxesDir(), roots.ContainersDir()} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				t.Errorf("left behind: %s/%s", dir, e.Name())
			}
		}
	}
	for _, sb := range sbs {
		if sb == nil {
			continue
		}
		for _, d := range sb.Cgroup.Dirs {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("left behind: cgroup %s", d)
			}
		}
		for _, pid := range []int{sb.InitPID, sb.WorkloadPID} {
			if pid > 0 && unix.Kill(pid, 0) == nil && parentIsNotUs(pid) {
				t.Errorf("left behind: process %d", pid)
			}
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if root := filepath.Dir(roots.Lib); strings.Contains(string(mi), root) {
		t.Errorf("left behind: a mount below %s", root)
	}
}

// parentIsNotUs is true for a PID that is not a recycled one of ours.
func parentIsNotUs(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.Contains(string(b), "glassbox")
}

// execAs prepares the binary to run as another user.
func execAs(bin string, uid uint32, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	return cmd
}

// hostOnly skips a test inside CI's cgroup v2 VM (GLASSBOX_VM=1), where
// this package's root tests must fit in one binary's 6 minutes under
// software emulation (measured there: 83 s for the bad-input table, 34 s
// for the refused security options). It is for tests that no cgroup,
// namespace or mount difference touches; the host's run covers them.
func hostOnly(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("GLASSBOX_VM") == "1" {
		t.Skip("inside the cgroup v2 VM (emulated, slow): " + why + "; the host's run covers this test")
	}
}
