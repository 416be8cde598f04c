package lifecycle_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"glassbox/sandbox/network"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// Issue 16, docker on the same machine: two sandboxes on glassbox0 reach
// each other by address without dockerd, with it, and after it restarts;
// inspect counts what the host's firewall dropped, and says why when it
// drops some.
func TestSandboxesReachEachOtherWithDockerd(t *testing.T) {
	sandboxtest.HostOnly(t, "the host's firewall beside dockerd, which takes minutes to start under emulation")
	c := newCLI(t)
	server, client := sandboxtest.UniqueName("server"), sandboxtest.UniqueName("client")
	c.Ok("run", "-d", "--name", server, "busybox", "sh", "-c", "while true; do echo hello | nc -l -p 8080; done")
	c.Ok("run", "-d", "--name", client, "busybox", "sleep", "600")
	ip := c.waitFor(server, "running", func(sb *state.Sandbox) bool { return sb.Status == state.Running }).Network.IP
	bridge := c.get(server).Network.Bridge
	reach := func(when string) {
		t.Helper()
		for try := 0; ; try++ { // the server's nc restarts between answers
			out, _, _ := c.Run("exec", client, "nc", "-w", "3", ip, "8080")
			if strings.TrimSpace(out) == "hello" {
				return
			}
			if try == 3 {
				t.Errorf("%s: %s does not reach %s at %s (got %q)", when, client, server, ip, out)
				return
			}
		}
	}
	reach("without dockerd")
	d := sandboxtest.Dockerd(t)
	reach("with dockerd running")
	// The counters are the bridge's, since glassbox began counting on it:
	// earlier drops (another test's) may be in them, but none now.
	if out := c.Ok("inspect", client); !strings.Contains(out, "sandbox to sandbox on "+bridge) ||
		!strings.Contains(out, "none dropped") && !strings.Contains(out, "the drops were earlier") {
		t.Errorf("inspect does not say the host's filters let the traffic through:\n%s", out)
	}
	d.Restart(t)
	reach("after dockerd restarted")

	// The host's firewall drops it once glassbox's rule is gone (as after
	// a firewall reload), and inspect says so, and why. The bridge is the
	// machine's glassbox0: a sandbox another test starts meanwhile would
	// put the rule back, so the rule stays away under glassbox's own
	// iptables lock, which every start takes before it adds the rule.
	withoutAcceptRule(t, bridge, func() {
		if out, _, _ := c.Run("exec", client, "nc", "-w", "2", ip, "8080"); strings.TrimSpace(out) == "hello" {
			t.Fatal("reached the server with dockerd's FORWARD policy DROP and no rule of glassbox's: the test shows nothing")
		}
		out := c.Ok("inspect", client)
		if !strings.Contains(out, "the host's filters dropped") || !strings.Contains(out, "FORWARD policy is DROP") {
			t.Errorf("inspect does not say the host's firewall drops sandbox traffic, and why:\n%s", out)
		}
	})
	// The next sandbox started on the bridge puts the rule back.
	c.Ok("run", "-d", "--name", sandboxtest.UniqueName("third"), "busybox", "sleep", "600")
	reach("after the next start")
}

// withoutAcceptRule runs fn with glassbox's accept rule for bridge deleted
// from the host's iptables, holding the lock glassbox takes to add it, and
// lets the next start put it back.
func withoutAcceptRule(t *testing.T, bridge string, fn func()) {
	t.Helper()
	lock, err := os.OpenFile(network.IptablesLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	rules, err := exec.Command("iptables", "-S", network.ForwardChain).Output()
	if err != nil {
		t.Fatalf("iptables -S %s: %v", network.ForwardChain, err)
	}
	// Deleted by its number in the chain: the comment comes quoted in
	// iptables -S's output.
	number := 0
	for _, rule := range strings.Split(string(rules), "\n") {
		if !strings.HasPrefix(rule, "-A ") {
			continue
		}
		number++
		if strings.HasPrefix(rule, "-A "+network.ForwardChain+" -i "+bridge+" -o "+bridge+" ") {
			if out, err := exec.Command("iptables", "-w", "-D", network.ForwardChain, strconv.Itoa(number)).CombinedOutput(); err != nil {
				t.Fatalf("delete the accept rule of %s: %v: %s", bridge, err, out)
			}
			fn()
			return
		}
	}
	t.Fatalf("no accept rule for %s in %s:\n%s", bridge, network.ForwardChain, rules)
}
