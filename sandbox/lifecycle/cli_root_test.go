package lifecycle_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/network"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// cli is the test kit's CLI, with what these tests read of ps and a
// clean-up that checks nothing of a sandbox is left on the host.
type cli struct {
	*sandboxtest.CLI
	t *testing.T
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{CLI: sandboxtest.NewCLI(t), t: t}
	t.Cleanup(c.removeAll)
	return c
}

// psRow is what these tests read of a row of `ps --json`.
type psRow struct {
	Name   string         `json:"name"`
	ID     string         `json:"id"`
	Record *state.Sandbox `json:"record"`
}

func (c *cli) ps() []psRow {
	c.t.Helper()
	var rows []psRow
	if err := json.Unmarshal([]byte(c.Ok("ps", "-a", "--json")), &rows); err != nil {
		c.t.Fatalf("ps --json: %v", err)
	}
	return rows
}

func (c *cli) get(name string) *state.Sandbox {
	c.t.Helper()
	for _, r := range c.ps() {
		if r.Name == name || r.ID == name {
			return r.Record
		}
	}
	c.t.Fatalf("%s is not in ps -a", name)
	return nil
}

// waitFor polls the record of name until cond holds (or fails after 20 s).
func (c *cli) waitFor(name, what string, cond func(*state.Sandbox) bool) *state.Sandbox {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var sb *state.Sandbox
		for _, r := range c.ps() {
			if r.Name == name || r.ID == name {
				sb = r.Record
			}
		}
		if sb != nil && cond(sb) {
			return sb
		}
		if time.Now().After(deadline) {
			if sb == nil {
				c.t.Fatalf("%s: never %s; it is not in ps -a", name, what)
			}
			c.t.Fatalf("%s: never %s; last record: status %s health %q exit %+v restarts %d", name, what, sb.Status, sb.Health, sb.Exit, sb.RestartCount)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeAll removes every sandbox of the test's root and checks that
// nothing of them is left on the host.
func (c *cli) removeAll() {
	var rows []psRow
	out, _, _ := c.Run("ps", "-a", "--json")
	json.Unmarshal([]byte(out), &rows)
	for _, r := range rows {
		c.Run("rm", "-f", r.ID)
		assertGone(c.t, c.Roots, r.Record)
	}
	c.Run("prune")
}

// assertGone checks that nothing of a sandbox is left: record, state dir,
// writable layer, cgroup, veth, supervisor and sandbox processes.
func assertGone(t *testing.T, roots state.Roots, sb *state.Sandbox) {
	t.Helper()
	for _, p := range []string{roots.SandboxDir(sb.ID), filepath.Join(roots.ContainersDir(), sb.ID)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left %s", sb.Name, p)
		}
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/glassbox/" + sb.ID)
	if _, err := os.Stat("/sys/fs/cgroup/glassbox/" + sb.ID); err == nil {
		cgs = append(cgs, "/sys/fs/cgroup/glassbox/"+sb.ID)
	}
	for _, cg := range cgs {
		t.Errorf("%s left its cgroup %s", sb.Name, cg)
	}
	if _, err := net.InterfaceByName("gb-" + sb.ID); err == nil {
		t.Errorf("%s left its veth gb-%s", sb.Name, sb.ID)
	}
	if tables, err := network.ForwardTables(); err != nil {
		t.Errorf("list port forwarding tables: %v", err)
	} else if _, ok := tables[sb.ID]; ok {
		t.Errorf("%s left its port forwarding table %s", sb.Name, state.ForwardTable(sb.ID))
	}
	for _, pid := range []int{sb.SupervisorPID, sb.InitPID, sb.WorkloadPID} {
		if pid > 0 && alive(pid) {
			t.Errorf("%s left process %d (%s)", sb.Name, pid, cmdline(pid))
		}
	}
}

func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

var client = &http.Client{Timeout: 5 * time.Second}

// calculate posts to /calculate through a published port.
func calculate(port int, timeout time.Duration) (map[string]any, error) {
	c := &http.Client{Timeout: timeout}
	resp, err := c.Post(fmt.Sprintf("http://127.0.0.1:%d/calculate", port), "application/json",
		strings.NewReader(`{"operation":"multiply","a":6,"b":7}`))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func getJSON(url string) (map[string]any, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out, err
}

// cpuUsage is the sandbox's cgroup CPU time in ns (v1 cpuacct.usage, v2
// cpu.stat usage_usec).
func cpuUsage(t *testing.T, sb *state.Sandbox) int64 {
	t.Helper()
	if d, ok := sb.Cgroup.Dirs["cpuacct"]; ok {
		b, err := os.ReadFile(filepath.Join(d, "cpuacct.usage"))
		if err == nil {
			n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			return n
		}
	}
	for _, d := range sb.Cgroup.Dirs {
		b, err := os.ReadFile(filepath.Join(d, "cpu.stat"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n * 1000
			}
		}
	}
	t.Fatalf("no CPU usage file in %v", sb.Cgroup.Dirs)
	return 0
}
