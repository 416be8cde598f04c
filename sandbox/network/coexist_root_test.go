package network

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// dialWithin connects from pid's network namespace, giving up after d: a
// dropped SYN would otherwise keep retrying for minutes.
func dialWithin(pid int, addr string, d time.Duration) (net.Conn, error) {
	var c net.Conn
	err := inNetns(pid, func() (err error) {
		c, err = net.DialTimeout("tcp", addr, d)
		return err
	})
	return c, err
}

// reach says whether sandbox from reaches the echo server of sandbox to.
func reach(from int, to state.Network, name string) error {
	c, err := dialWithin(from, net.JoinHostPort(to.IP, "7000"), 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "hello\n")
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if want := name + ": hello\n"; got != want {
		return fmt.Errorf("answer %q, want %q", got, want)
	}
	return nil
}

// bridgeCounters reads bridge's packet counters from glassbox's table, as
// `nft -j` prints them: packets seen before the host's filters, and after.
func bridgeCounters(t *testing.T, bridge string) (seen, passed uint64) {
	t.Helper()
	for _, chain := range []string{state.ForwardSeenChain, state.ForwardPassedChain} {
		out, err := exec.Command("nft", "-j", "list", "chain", "ip", state.HostTable, chain).Output()
		if err != nil {
			t.Fatalf("nft list chain ip %s %s: %v", state.HostTable, chain, err)
		}
		var doc struct {
			Nftables []struct {
				Rule *struct {
					Comment string           `json:"comment"`
					Expr    []map[string]any `json:"expr"`
				} `json:"rule"`
			} `json:"nftables"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		var n uint64
		found := false
		for _, o := range doc.Nftables {
			if o.Rule == nil || o.Rule.Comment != state.BridgeCounterComment(bridge) {
				continue
			}
			found = true
			for _, e := range o.Rule.Expr {
				if c, ok := e["counter"].(map[string]any); ok {
					n += uint64(c["packets"].(float64))
				}
			}
		}
		if !found {
			t.Fatalf("no counter for %s in chain %s", bridge, chain)
		}
		if chain == state.ForwardSeenChain {
			seen = n
		} else {
			passed = n
		}
	}
	return seen, passed
}

// Two sandboxes on a bridge reach each other by address with dockerd
// running (FORWARD policy DROP, br_netfilter calling iptables) and without,
// whichever started first and across a restart of dockerd; the counters
// show what the host's firewall drops when glassbox's rule is missing; and
// removing the bridge removes what glassbox added to iptables.
func TestSandboxesReachEachOtherBesideDocker(t *testing.T) {
	sandboxtest.HostOnly(t, "the host's firewall beside dockerd, which takes minutes to start under emulation")
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	pids := []int{netnsProcess(t), netnsProcess(t)}
	nets := make([]state.Network, 2)
	for i := range pids {
		id := testID(700 + i)
		n, err := Attach(roots, id, pids[i], Bridge, opts...)
		if err != nil {
			t.Fatalf("attach %s: %v", id, err)
		}
		if n.Firewall != "" {
			t.Errorf("attach noted a firewall problem: %s", n.Firewall)
		}
		t.Cleanup(func() { Detach(roots, id, n) })
		nets[i] = n
		echoIn(t, pids[i], ":7000", fmt.Sprintf("sandbox%d", i))
	}
	both := func(when string) {
		t.Helper()
		if err := reach(pids[0], nets[1], "sandbox1"); err != nil {
			t.Errorf("%s: sandbox 0 → sandbox 1: %v", when, err)
		}
		if err := reach(pids[1], nets[0], "sandbox0"); err != nil {
			t.Errorf("%s: sandbox 1 → sandbox 0: %v", when, err)
		}
	}
	both("without dockerd")

	// glassbox set its bridge up first; dockerd comes, as on a host where
	// docker is started after glassbox.
	d := sandboxtest.Dockerd(t)
	both("dockerd started after the bridge")
	d.Restart(t)
	both("after a restart of dockerd")

	// The test proves something: without glassbox's rule, dockerd's
	// FORWARD policy drops the traffic, and the counters show it.
	if err := ForgetBridge(cfg.Bridge); err != nil {
		t.Fatal(err)
	}
	seen0, passed0 := bridgeCounters(t, cfg.Bridge)
	if err := reach(pids[0], nets[1], "sandbox1"); err == nil {
		t.Fatal("sandbox 0 reached sandbox 1 with dockerd's FORWARD policy DROP and no rule of glassbox's: the test shows nothing")
	}
	seen, passed := bridgeCounters(t, cfg.Bridge)
	if seen-seen0 == 0 || passed-passed0 != 0 {
		t.Errorf("while the firewall dropped the traffic, the counters went from %d/%d to %d/%d (seen/passed): want seen up, passed still", seen0, passed0, seen, passed)
	}
	t.Logf("dropped by the host's firewall: %d packets (seen %d, passed %d)", (seen-seen0)-(passed-passed0), seen, passed)

	// A sandbox attached with dockerd running puts the rule back.
	third := netnsProcess(t)
	n3, err := Attach(roots, testID(702), third, Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Detach(roots, testID(702), n3) })
	both("a sandbox attached with dockerd running")
	if s, p := bridgeCounters(t, cfg.Bridge); s-seen != p-passed {
		t.Errorf("with the rule back, %d packets seen and %d passed: the firewall still drops some", s-seen, p-passed)
	}
}

// Removing a bridge removes its iptables rule, and glassbox's chain and
// FORWARD's jump with the last bridge; its packet counters go too.
func TestRemoveBridgeCleansTheFirewall(t *testing.T) {
	sandboxtest.RequireRoot(t)
	if _, err := exec.LookPath("iptables"); err != nil {
		sandboxtest.Missing(t, "iptables", "apt-get install iptables")
	}
	sandboxtest.WithoutDockerd(t) // whose clean-up would put iptables back meanwhile
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	n, err := Attach(roots, testID(710), netnsProcess(t), Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := readForward()
	if err != nil || !fw.jump || !fw.bridges[cfg.Bridge] {
		t.Fatalf("after attach: %+v, %v; want the jump and a rule for %s", fw, err, cfg.Bridge)
	}
	bridgeCounters(t, cfg.Bridge) // they exist
	if err := Detach(roots, testID(710), n); err != nil {
		t.Fatal(err)
	}
	if err := RemoveBridge(cfg.Bridge); err != nil {
		t.Fatal(err)
	}
	fw, err = readForward()
	if err != nil || fw.bridges[cfg.Bridge] {
		t.Errorf("after RemoveBridge: %+v, %v; want no rule for %s", fw, err, cfg.Bridge)
	}
	if len(fw.bridges) == 0 && (fw.chain || fw.jump) {
		t.Errorf("no bridge left, yet %s (chain %v, jump %v) stays", ForwardChain, fw.chain, fw.jump)
	}
	out, _ := exec.Command("nft", "list", "table", "ip", state.HostTable).Output()
	if strings.Contains(string(out), state.BridgeCounterComment(cfg.Bridge)) {
		t.Errorf("the counters of %s outlive it:\n%s", cfg.Bridge, out)
	}
}
