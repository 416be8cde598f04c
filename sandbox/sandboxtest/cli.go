package sandboxtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

// The test kit of the root integration tests that drive glassbox as a user
// does: a free port, the CLI on the test's own state root, a detached
// calculator sandbox to look at. (Binary builds the glassbox under test.)

// FreePort is a TCP port of 127.0.0.1 that is free now (the kernel's pick,
// so two tests never choose the same one).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var names atomic.Int64

// UniqueName is a sandbox name no other test running on this machine uses:
// prefix, this test process and a counter.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), names.Add(1))
}

// CLI runs the glassbox binary under test on the test's own state root.
type CLI struct {
	T     testing.TB
	Bin   string
	Roots state.Roots
}

// NewCLI is the CLI on a fresh state root (TempRoots), for a test that runs
// as root (RequireRoot). Every sandbox of that root is removed when the test
// ends, pass or fail.
func NewCLI(t testing.TB) *CLI {
	t.Helper()
	RequireRoot(t)
	c := &CLI{T: t, Bin: Binary(t), Roots: TempRoots(t)}
	t.Cleanup(c.removeAll)
	return c
}

// Run runs glassbox with args and returns its stdout, stderr and exit status.
func (c *CLI) Run(args ...string) (stdout, stderr string, code int) {
	c.T.Helper()
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+rootOf(c.Roots))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.T.Fatalf("glassbox %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// Ok runs glassbox and fails the test unless it succeeded; it returns stdout.
func (c *CLI) Ok(args ...string) string {
	c.T.Helper()
	out, errs, code := c.Run(args...)
	if code != 0 {
		c.T.Fatalf("glassbox %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// Fails runs glassbox and fails the test unless it failed saying want.
func (c *CLI) Fails(want string, args ...string) {
	c.T.Helper()
	out, errs, code := c.Run(args...)
	if code == 0 || !strings.Contains(errs, want) {
		c.T.Errorf("glassbox %s: exit %d, stderr %q; want a failure saying %q (stdout %q)", strings.Join(args, " "), code, errs, want, out)
	}
}

// Get is a sandbox's record as `glassbox ps -a` has it now (the engine
// reconciles it first).
func (c *CLI) Get(ref string) *state.Sandbox {
	c.T.Helper()
	var rows []struct {
		Name   string         `json:"name"`
		ID     string         `json:"id"`
		Record *state.Sandbox `json:"record"`
	}
	if err := json.Unmarshal([]byte(c.Ok("ps", "-a", "--json")), &rows); err != nil {
		c.T.Fatalf("ps --json: %v", err)
	}
	for _, r := range rows {
		if r.Name == ref || r.ID == ref {
			return r.Record
		}
	}
	return nil
}

// StartCalculator runs a detached calculator sandbox with a unique name and
// the given flags of `glassbox run` (say -p, --memory), and waits until its
// service answers /health. It is removed when the test ends.
func (c *CLI) StartCalculator(flags ...string) *state.Sandbox {
	c.T.Helper()
	name := UniqueName("calc")
	id := strings.TrimSpace(c.Ok(append([]string{"run", "-d", "--name", name}, flags...)...))
	c.T.Cleanup(func() { c.Run("rm", "-f", id) })
	sb := c.Get(id)
	if sb == nil || sb.Status != state.Running || sb.InitPID == 0 {
		c.T.Fatalf("sandbox %s: %+v", name, sb)
	}
	WaitServing(c.T, sb)
	return sb
}

// WaitServing waits until a sandbox's service answers /health: on its
// published port of the image's exposed one, else on its bridge address.
func WaitServing(t testing.TB, sb *state.Sandbox) {
	t.Helper()
	url := healthURL(sb)
	if url == "" {
		t.Fatalf("%s publishes no port and has no bridge address", sb.Name)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer %s: %v", sb.Name, url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthURL(sb *state.Sandbox) string {
	if addr := sb.ServiceAddr(); addr != "" {
		return "http://" + addr + "/health"
	}
	return ""
}

// removeAll removes every sandbox of the CLI's root.
func (c *CLI) removeAll() {
	out, _, _ := c.Run("ps", "-aq")
	for _, id := range strings.Fields(out) {
		c.Run("rm", "-f", id)
	}
}

// rootOf is the directory RootsAt placed both trees below.
func rootOf(r state.Roots) string { return filepath.Dir(r.Run) }
