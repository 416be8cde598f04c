package lifecycle_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/network"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// The whole life of the calculator, detached: run -d -p, a request through
// the published port, ps (running, healthy), pause (frozen: requests time
// out, CPU flat) and unpause, a graceful stop, logs, rm leaving nothing.
func TestCalculatorLifecycle(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := newCLI(t)
	port := sandboxtest.FreePort(t)
	name := sandboxtest.UniqueName("calc")
	out := c.Ok("run", "-d", "-p", fmt.Sprintf("%d:8000", port), "--name", name, "--memory", "256m", "--cpus", "0.5")
	id := strings.TrimSpace(out)
	if len(id) != 12 {
		t.Fatalf("run -d printed %q, want the 12-digit id", out)
	}
	sb := c.waitFor(name, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if sb.ID != id || sb.Status != state.Running || !sb.Detached {
		t.Fatalf("record: id %s status %s detached %v", sb.ID, sb.Status, sb.Detached)
	}

	res, err := calculate(port, 5*time.Second)
	if err != nil {
		t.Fatalf("calculate through 127.0.0.1:%d: %v", port, err)
	}
	if res["result"] != 42.0 || res["processed_by"] != sb.Hostname {
		t.Errorf("calculate = %v; want result 42 processed_by %q", res, sb.Hostname)
	}

	// The published port is the kernel's: a DNAT rule rewrote the
	// connection (the supervisor's proxy only holds the port).
	if len(sb.Network.Ports) != 1 || sb.Network.Ports[0].Via != network.ViaKernel {
		t.Errorf("ports %+v; want one, forwarded by the kernel", sb.Network.Ports)
	}
	if k, err := network.KernelForwardedConnections(sb.ID); err != nil || k == 0 {
		t.Errorf("kernel-forwarded connections: %d, %v; want at least the /calculate one", k, err)
	}

	ps := c.Ok("ps", "--no-trunc")
	for _, want := range []string{name, id, "calculator", "(healthy)", fmt.Sprintf("127.0.0.1:%d->8000/tcp", port), "memory 256 MiB, cpus 0.5"} {
		if !strings.Contains(ps, want) {
			t.Errorf("ps lacks %q:\n%s", want, ps)
		}
	}
	insp := c.Ok("inspect", name)
	for _, want := range []string{"health: healthy", fmt.Sprintf("supervisor: PID %d", sb.SupervisorPID), "restart policy: no"} {
		if !strings.Contains(insp, want) {
			t.Errorf("inspect lacks %q:\n%s", want, insp)
		}
	}

	// Pause: the cgroup is frozen.
	c.Ok("pause", name)
	if sb, ps := c.get(name), c.Ok("ps", "--no-trunc"); sb.Status != state.Paused || !strings.Contains(ps, "(Paused)") {
		t.Errorf("after pause: status %s; ps:\n%s", sb.Status, ps)
	}
	if _, err := calculate(port, 500*time.Millisecond); err == nil {
		t.Error("a paused calculator answered")
	}
	before := cpuUsage(t, sb)
	time.Sleep(300 * time.Millisecond)
	if after := cpuUsage(t, sb); after != before {
		t.Errorf("a paused sandbox used CPU: %d → %d ns", before, after)
	}
	c.Fails("already paused", "pause", name)
	c.Ok("unpause", name)
	if _, err := calculate(port, 5*time.Second); err != nil {
		t.Errorf("after unpause: %v", err)
	}
	c.Fails("not paused", "unpause", name)

	// A graceful stop: SIGTERM ends it, the calculator drains and exits 0.
	stop := c.Ok("stop", name)
	if !strings.Contains(stop, name+": stopped by SIGTERM after") || !strings.Contains(stop, ": Exited (0)") {
		t.Errorf("stop said %q", stop)
	}
	sb = c.get(name)
	if sb.Status != state.Exited || sb.Exit == nil || sb.Exit.Code != 0 {
		t.Errorf("after stop: %s %+v", sb.Status, sb.Exit)
	}
	if !strings.Contains(c.Ok("ps", "-a"), "Exited (0)") {
		t.Error("ps -a does not show Exited (0)")
	}
	if strings.Contains(c.Ok("ps"), name) {
		t.Error("ps without -a lists an exited sandbox")
	}
	if ids := strings.Fields(c.Ok("ps", "-q")); slices.Contains(ids, id) {
		t.Errorf("ps -q lists the exited sandbox: %q", ids)
	}
	if ids := strings.Fields(c.Ok("ps", "-aq")); !slices.Contains(ids, id) {
		t.Errorf("ps -aq lacks %s: %q", id, ids)
	}
	c.Fails("cannot pause", "pause", name)

	logs := c.Ok("logs", name)
	for _, want := range []string{`"msg":"draining"`, `"msg":"exited"`, "/calculate"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	tail := strings.Split(strings.TrimSpace(c.Ok("logs", "--tail", "2", "-t", name)), "\n")
	if len(tail) != 2 || !strings.HasPrefix(tail[0], time.Now().UTC().Format("2006-01-02T")) {
		t.Errorf("logs --tail 2 -t: %q", tail)
	}

	c.Ok("rm", name)
	if strings.Contains(c.Ok("ps", "-a"), name) {
		t.Error("rm left the sandbox in ps -a")
	}
	assertGone(t, c.Roots, sb)
	c.Fails("no such sandbox", "logs", name)
}

// A workload that does not end on SIGTERM within the grace period is
// SIGKILLed, and stop says so. The calculator waits for its in-flight
// requests before it exits (up to SHUTDOWN_TIMEOUT): a request whose body
// never finishes arriving keeps it from exiting.
func TestStopEscalatesToSIGKILL(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := newCLI(t)
	port := sandboxtest.FreePort(t)
	name := sandboxtest.UniqueName("stuck")
	c.Ok("run", "-d", "-p", fmt.Sprintf("%d:8000", port), "--name", name, "-e", "SHUTDOWN_TIMEOUT=1h")
	c.waitFor(name, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })

	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /calculate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"operation\":")
	time.Sleep(200 * time.Millisecond) // let the request reach the handler

	// logs -f follows until the sandbox has exited.
	follow := exec.Command(c.Bin, "logs", "-f", name)
	var followed bytes.Buffer
	follow.Stdout = &followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	followDone := make(chan error, 1)
	go func() { followDone <- follow.Wait() }()

	stop := c.Ok("stop", "-t", "1", name)
	if want := name + ": did not stop within 1s; killed with SIGKILL"; !strings.Contains(stop, want) {
		t.Errorf("stop said %q, want %q", stop, want)
	}
	sb := c.get(name)
	if sb.Status != state.Exited || sb.Exit == nil || sb.Exit.Code != 137 {
		t.Errorf("after stop: %s %+v; want exited 137", sb.Status, sb.Exit)
	}
	if logs := c.Ok("logs", name); !strings.Contains(logs, `"msg":"draining"`) {
		t.Errorf("the calculator did not get SIGTERM first:\n%s", logs)
	}
	select {
	case err := <-followDone:
		if err != nil || !strings.Contains(followed.String(), `"msg":"draining"`) {
			t.Errorf("logs -f: %v\n%s", err, followed.String())
		}
		// The SIGKILL is the supervisor's doing: an event, not output.
		if events := c.Ok("events", name); !strings.Contains(events, "no exit within 1s: sending SIGKILL") {
			t.Errorf("events do not tell the SIGKILL:\n%s", events)
		}
	case <-time.After(10 * time.Second):
		follow.Process.Kill()
		t.Error("logs -f did not end when the sandbox exited")
	}
}

// An OOM kill of a detached sandbox is recorded (exit 137, OOMKilled), and
// with --restart on-failure it comes back, counting its restarts.
func TestOOMKillAndRestartPolicy(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	c := newCLI(t)
	port := sandboxtest.FreePort(t)
	name := sandboxtest.UniqueName("oom")
	c.Ok("run", "-d", "-p", fmt.Sprintf("%d:8000", port), "--name", name, "--memory", "32m", "--restart", "on-failure:1")
	c.waitFor(name, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })

	stress := func() {
		resp, err := client.Post(fmt.Sprintf("http://127.0.0.1:%d/stress/memory", port), "application/json", strings.NewReader(`{"mb":64}`))
		if err == nil {
			resp.Body.Close()
		}
	}
	stress()
	sb := c.waitFor(name, "restarted", func(sb *state.Sandbox) bool {
		return sb.RestartCount == 1 && sb.Status == state.Running && sb.Health == state.HealthHealthy
	})
	if ps := c.Ok("ps", "--no-trunc"); !strings.Contains(ps, name) || !strings.Contains(ps, "1 (last after Exited (137, SIGKILL, OOMKilled))") {
		t.Errorf("ps does not show the restarted sandbox and the OOM kill it came back from:\n%s", ps)
	}
	if a := sb.RestartedAfter; a == nil || !a.OOMKilled || a.Code != 137 || sb.Exit != nil {
		t.Errorf("running again: exit %+v, restarted after %+v; want no exit and the OOM kill it came back from", sb.Exit, a)
	}
	if sb.Network.Ports[0].Via != network.ViaKernel {
		t.Errorf("after the restart the port goes via %q, want the kernel", sb.Network.Ports[0].Via)
	}
	if res, err := calculate(port, 5*time.Second); err != nil || res["processed_by"] != sb.Hostname {
		t.Errorf("the published port after the restart: %v %v", res, err)
	}
	events := c.Ok("events", name)
	if !strings.Contains(events, "OOMKilled)") || !strings.Contains(events, "restarting in") {
		t.Errorf("events do not tell the OOM kill and restart:\n%s", events)
	}
	if logs := c.Ok("logs", name); strings.Contains(logs, "glassbox: ") {
		t.Errorf("logs holds the supervisor's notes, which are events:\n%s", logs)
	}

	// The policy allows one restart: the second OOM kill is final.
	stress()
	sb = c.waitFor(name, "exited", func(sb *state.Sandbox) bool { return sb.Status == state.Exited })
	if sb.Exit == nil || !sb.Exit.OOMKilled || sb.Exit.Code != 137 || sb.RestartCount != 1 {
		t.Errorf("after the second OOM kill: exit %+v restarts %d", sb.Exit, sb.RestartCount)
	}
	ps := c.Ok("ps", "-a", "--no-trunc")
	if !strings.Contains(ps, "Exited (137, SIGKILL, OOMKilled)") {
		t.Errorf("ps -a does not show the OOM kill:\n%s", ps)
	}
}

// Two sandboxes at once: each has its own address, its own PID 1 (the
// calculator is PID 2 under glassbox's init in each) and its own port.
func TestTwoSandboxes(t *testing.T) {
	c := newCLI(t)
	ports := []int{sandboxtest.FreePort(t), sandboxtest.FreePort(t)}
	names := []string{sandboxtest.UniqueName("left"), sandboxtest.UniqueName("right")}
	for i := range names {
		c.Ok("run", "-d", "-p", fmt.Sprintf("%d:8000", ports[i]), "--name", names[i])
	}
	var ips, hosts []string
	for i, n := range names {
		sb := c.waitFor(n, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
		info, err := getJSON(fmt.Sprintf("http://127.0.0.1:%d/info", ports[i]))
		if err != nil {
			t.Fatalf("%s /info: %v", n, err)
		}
		if info["process_id"] != 2.0 || info["hostname"] != sb.Hostname {
			t.Errorf("%s /info: process_id %v hostname %v; want 2 and %s", n, info["process_id"], info["hostname"], sb.Hostname)
		}
		if sb.Network.IP == "" {
			t.Errorf("%s has no address", n)
		}
		ips = append(ips, sb.Network.IP)
		hosts = append(hosts, sb.Hostname)
	}
	if ips[0] == ips[1] || hosts[0] == hosts[1] {
		t.Errorf("the two sandboxes share an address or hostname: %v %v", ips, hosts)
	}
	// A paused sandbox stops too: it is thawed so that SIGTERM is acted on.
	c.Ok("pause", names[0])
	out := c.Ok("stop", "-t", "5", names[0], names[1])
	if strings.Count(out, "stopped by SIGTERM") != 2 {
		t.Errorf("stop of both (one paused): %q", out)
	}
	c.Ok("rm", names[0], names[1])
}

// Bad input: a clear error, and nothing created.
func TestBadInputCreatesNothing(t *testing.T) {
	c := newCLI(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	c.Fails("out of range", "run", "-d", "-p", "99999:1")
	c.Fails("port \"abc\"", "run", "-d", "-p", "abc")
	c.Fails("missing container port", "run", "-d", "-p", "8000:")
	c.Fails("already in use", "run", "-d", "-p", fmt.Sprintf("%d:8000", busyPort))
	c.Fails("restart policy", "run", "-d", "--restart", "sometimes")
	c.Fails("needs -d", "run", "--restart", "always")
	c.Fails("unknown network mode", "run", "-d", "--network", "wifi")
	c.Fails("invalid name", "run", "-d", "--name", "no/slash")
	for _, verb := range [][]string{{"stop"}, {"kill"}, {"pause"}, {"unpause"}, {"rm"}, {"logs"}, {"restart"}} {
		c.Fails("no such sandbox", append(verb, "nosuchsandbox")...)
	}
	c.Fails("unknown signal", "kill", "-s", "NOPE", "x")
	c.Fails("exclude each other", "ps", "-q", "--json")
	if rows := c.ps(); len(rows) != 0 {
		t.Errorf("bad input created sandboxes: %v", rows)
	}
	entries, _ := os.ReadDir(c.Roots.SandboxesDir())
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("bad input left a state dir %s", e.Name())
		}
	}
	// Each refused run -d hosted its supervisor, started before the request
	// was checked (lifecycle/hosted.go): the refusal ends it with the
	// process, which must not stay on as a supervisor of nothing.
	root := "GLASSBOX_ROOT=" + filepath.Dir(c.Roots.Run)
	var left []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if left = supervisorsOf(root); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("refused run -d left supervisors %v waiting", left)
	}

	// A name in use is refused, and the first sandbox is untouched.
	name := sandboxtest.UniqueName("dup")
	c.Ok("run", "-d", "--name", name)
	c.Fails("already in use", "run", "-d", "--name", name)
	if rows := c.ps(); len(rows) != 1 {
		t.Errorf("%d sandboxes after a refused duplicate", len(rows))
	}
	c.Fails("stop it first or use rm -f", "rm", name)
	c.Ok("rm", "-f", name)
}

// A SIGKILLed supervisor takes its workload with it, the next ps tells the
// truth, and rm or prune remove every resource.
func TestSupervisorKilled(t *testing.T) {
	c := newCLI(t)
	names := []string{sandboxtest.UniqueName("orphan"), sandboxtest.UniqueName("pruned")}
	var sbs []*state.Sandbox
	for _, n := range names {
		// With a published port: the crash leaves a forwarding table too.
		c.Ok("run", "-d", "--name", n, "-p", fmt.Sprintf("%d:8000", sandboxtest.FreePort(t)))
		sb := c.waitFor(n, "running", func(sb *state.Sandbox) bool { return sb.Status == state.Running && sb.InitPID > 0 })
		sbs = append(sbs, sb)
		if tables, _ := network.ForwardTables(); tables[sb.ID] != c.Roots.Run {
			t.Errorf("%s: no forwarding table of its state root before the crash (%v)", n, tables)
		}
		if err := syscall.Kill(sb.SupervisorPID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for _, sb := range sbs {
		deadline := time.Now().Add(5 * time.Second)
		for alive(sb.InitPID) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(sb.InitPID) {
			t.Errorf("%s: the sandbox's init %d outlived its supervisor", sb.Name, sb.InitPID)
		}
		// The init dies with the supervisor's thread that started it
		// (its parent-death signal); the kernel lets go of the lock when
		// the supervisor's last thread has exited, a moment later on a
		// busy machine. Until then ps and prune rightly leave it alone.
		store := state.NewStore(c.Roots)
		for time.Now().Before(deadline) {
			if l, err := store.TryLock(sb.ID); err == nil {
				l.Release()
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if ps := c.Ok("ps"); strings.Contains(ps, names[0]) || strings.Contains(ps, names[1]) {
		t.Errorf("ps lists sandboxes whose supervisor died:\n%s", ps)
	}
	sb := c.get(names[0])
	if sb.Status != state.Exited || sb.Exit == nil || !strings.Contains(sb.Exit.Reason, "supervisor") {
		t.Errorf("after the supervisor's death: %s %+v", sb.Status, sb.Exit)
	}
	c.Ok("rm", names[0])
	assertGone(t, c.Roots, sbs[0])
	out := c.Ok("prune")
	if !strings.Contains(out, names[1]) {
		t.Errorf("prune did not remove %s: %q", names[1], out)
	}
	assertGone(t, c.Roots, sbs[1])
}

// kill sends a signal; KILL ends the workload and the policy does not
// restart it. restart starts an exited sandbox again under the same name.
func TestKillAndRestart(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("kr")
	c.Ok("run", "-d", "--name", name, "--restart", "always")
	first := c.waitFor(name, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if out := c.Ok("kill", "-s", "9", name); !strings.Contains(out, "sent SIGKILL") {
		t.Errorf("kill said %q", out)
	}
	sb := c.waitFor(name, "exited", func(sb *state.Sandbox) bool { return sb.Status == state.Exited })
	if sb.Exit.Code != 137 || sb.RestartCount != 0 {
		t.Errorf("after kill: exit %+v restarts %d (a kill must not restart)", sb.Exit, sb.RestartCount)
	}
	c.Ok("restart", name)
	sb = c.waitFor(name, "healthy again", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if sb.ID != first.ID || sb.InitPID == first.InitPID {
		t.Errorf("restart: id %s→%s, init %d→%d; want the same id and a new init", first.ID, sb.ID, first.InitPID, sb.InitPID)
	}
	c.Ok("restart", name) // of a running one: stop, then start
	c.waitFor(name, "healthy after the second restart", func(sb *state.Sandbox) bool {
		return sb.Health == state.HealthHealthy && sb.Status == state.Running
	})
	c.Ok("rm", "-f", name)
	assertGone(t, c.Roots, sb)
}

// A foreground `glassbox run` is listed by ps and stopped by glassbox stop
// through that process (which forwards SIGTERM); a detached --rm sandbox
// removes itself when it exits.
func TestForegroundAndAutoRemove(t *testing.T) {
	c := newCLI(t)
	name := sandboxtest.UniqueName("fg")
	run := exec.Command(c.Bin, "run", "--name", name)
	var out bytes.Buffer
	run.Stdout = &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	exited := make(chan struct{})
	go func() { runDone <- run.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			run.Process.Kill()
			<-exited
		}
	}()
	sb := c.waitFor(name, "running", func(sb *state.Sandbox) bool { return sb.Status == state.Running })
	// Running is the workload's exec; the calculator handles SIGTERM once
	// it serves (before, the signal's default action ends it: exit 143).
	sandboxtest.WaitServing(t, sb)
	if sb.Detached || !strings.Contains(c.Ok("ps", "--no-trunc"), name) {
		t.Errorf("foreground sandbox: detached %v; ps:\n%s", sb.Detached, c.Ok("ps"))
	}
	c.Fails("foreground", "logs", name)
	if stop := c.Ok("stop", name); !strings.Contains(stop, name+": stopped by SIGTERM") {
		t.Errorf("stop of a foreground run said %q", stop)
	}
	select {
	case err := <-runDone:
		if err != nil {
			t.Errorf("glassbox run after stop: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("glassbox run did not end after stop")
	}
	if !strings.Contains(out.String(), `"msg":"draining"`) {
		t.Errorf("the calculator did not drain:\n%s", out.String())
	}
	assertGone(t, c.Roots, sb)

	rm := sandboxtest.UniqueName("autorm")
	c.Ok("run", "-d", "--rm", "--name", rm)
	sb = c.waitFor(rm, "running", func(sb *state.Sandbox) bool { return sb.Status == state.Running })
	sandboxtest.WaitServing(t, sb)
	c.Ok("stop", rm)
	if strings.Contains(c.Ok("ps", "-a"), rm) {
		t.Error("a --rm sandbox is still listed after it exited")
	}
	assertGone(t, c.Roots, sb)
}

// supervisorsOf lists the supervisors whose environment holds env (a
// GLASSBOX_ROOT=… of a test's own).
func supervisorsOf(env string) []int {
	return sandboxtest.SupervisorsWhere(func(pid int) bool {
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		return slices.Contains(strings.Split(string(environ), "\x00"), env)
	})
}
