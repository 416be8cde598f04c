package network

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"

	"glassbox/sandbox/state"
)

// Sandboxes reaching each other's published ports in the kernel.
//
// A sandbox that connects to a port published on the bridge's address (or
// on 0.0.0.0) sends its packets to the host; the prerouting DNAT rule
// rewrites them to the other sandbox, and the kernel must then route them
// back out of the bridge. IPv4 forwards a packet only when forwarding is on
// for the device it came in on (net.ipv4.conf.DEV.forwarding: route.c
// refuses the route with EHOSTUNREACH otherwise; ip-sysctl.rst: "whether
// packets received on this interface can be forwarded"), whatever the
// other devices' setting. net.ipv4.ip_forward only writes the same value
// into every device's.
//
// So where the host does not forward (ip_forward 0), glassbox turns
// forwarding on for its bridge alone, and only after it has added, to its
// own table, a rule that drops every packet from the bridge that would be
// forwarded to any other device:
//
//	chain forward_seen (filter, hook forward, priority raw)
//	  iifname BRIDGE oifname BRIDGE counter accept   (counters.go)
//	  iifname BRIDGE oifname != BRIDGE counter drop
//
// The guard shares the chain that counts the bridge's packets before every
// filter rather than hooking a chain of its own: each base chain on the
// forward hook is one more walk for every packet a sandbox sends another,
// and the counter rule's accept (which ends that chain's walk only) spares
// those packets the guard's compare. An older glassbox kept the rule in a
// chain forward_guard (priority filter); such a rule is still recognised,
// and removed when the guard is made again or the bridge goes.
//
// The sandboxes gain no route to the outside world or to the host's other
// networks: what they reach is what they reached before (the host, and
// each other on the bridge), plus the ports published to them. A drop in
// any base chain is final, whatever another table accepts. The setting
// goes with the bridge (its conf directory is the device's), the rule
// with RemoveBridge and ForgetGoneBridges. Where the host forwards
// already, its choice and its firewall stand, as before, and nothing is
// added. Writing ip_forward (dockerd does at start, its test kit when it
// puts the host back) rewrites every device's setting, the bridge's too:
// after a 1 → 0 the next published port turns the bridge's back on, and
// until then the sandboxes' connections to published ports are forwarded
// only where br_netfilter carries them (it DNATs within a bridge without
// IP forwarding).

const (
	legacyForwardGuardChain = "forward_guard"
	confDir                 = "/proc/sys/net/ipv4/conf"
)

func forwardGuardComment(bridge string) string {
	return "glassbox: " + bridge + " forwards only between its sandboxes (published ports)"
}

func bridgeOfForwardGuard(comment string) (string, bool) {
	s, ok := strings.CutPrefix(comment, "glassbox: ")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(s, " forwards only between its sandboxes (published ports)")
}

func sysctlOn(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// hostForwards: the host routes IPv4 between its devices (ip_forward).
func hostForwards() bool { return sysctlOn(filepath.Join(confDir, "all", "forwarding")) }

// bridgeForwards says whether the kernel routes packets that arrive on
// bridge on to another address (its forwarding setting).
func bridgeForwards(bridge string) bool {
	return sysctlOn(filepath.Join(confDir, bridge, "forwarding"))
}

// forwardBetweenSandboxes makes bridge forward its sandboxes' packets to
// each other, and says whether it does. Where the host forwards, it
// reports the bridge's own setting and changes nothing. Otherwise it makes
// sure the guard rule is there before forwarding is on; when the rule
// cannot be ensured, forwarding is turned off again (it may be glassbox's
// own from an earlier start, with the rule flushed since).
func forwardBetweenSandboxes(bridge string) (bool, error) {
	if hostForwards() {
		return bridgeForwards(bridge), nil
	}
	f := filepath.Join(confDir, bridge, "forwarding")
	if _, err := os.Stat(f); err != nil {
		return false, fmt.Errorf("forwarding on %s: %w", bridge, err) // no such bridge: nothing to guard
	}
	added, err := ensureForwardGuard(bridge)
	if err != nil {
		if bridgeForwards(bridge) {
			os.WriteFile(f, []byte("0"), 0)
		}
		return false, err
	}
	if bridgeForwards(bridge) {
		return true, nil
	}
	if err := os.WriteFile(f, []byte("1"), 0); err != nil {
		if added {
			forgetForwardGuard(bridge)
		}
		return false, fmt.Errorf("turn on forwarding for %s: %w", bridge, err)
	}
	return true, nil
}

// forwardGuardChainOf is the chain the guard rule lives in: the counters'
// forward_seen.
func forwardGuardChainOf(t *nftables.Table) *nftables.Chain {
	seen, _ := counterChains(t)
	return seen
}

// legacyForwardGuardChainOf is where an older glassbox put the rule.
func legacyForwardGuardChainOf(t *nftables.Table) *nftables.Chain {
	policy := nftables.ChainPolicyAccept
	return &nftables.Chain{Name: legacyForwardGuardChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &policy}
}

// dropLegacyGuard queues the deletion of an older glassbox's guard rule
// for bridge, and of its chain once no rule is left in it, on c.
func dropLegacyGuard(c *nftables.Conn, t *nftables.Table, bridge string) bool {
	ch := legacyForwardGuardChainOf(t)
	r := forwardGuardRule(c, ch, bridge)
	if r == nil || c.DelRule(r) != nil {
		return false
	}
	if rules, err := c.GetRules(t, ch); err == nil && len(rules) == 1 {
		c.DelChain(ch) // the last bridge's: no hook left behind
	}
	return true
}

func forwardGuardRule(c *nftables.Conn, ch *nftables.Chain, bridge string) *nftables.Rule {
	rules, err := c.GetRules(ch.Table, ch)
	if err != nil {
		return nil
	}
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
			if b, ok := bridgeOfForwardGuard(s); ok && b == bridge {
				return r
			}
		}
	}
	return nil
}

// ensureForwardGuard adds bridge's guard rule if it is not there, and
// says whether it did.
func ensureForwardGuard(bridge string) (bool, error) {
	if err := NftablesError(); err != nil {
		return false, err
	}
	c, err := nftConn()
	if err != nil {
		return false, fmt.Errorf("guard forwarding on %s: %w", bridge, err)
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	ch := forwardGuardChainOf(t)
	if forwardGuardRule(c, ch, bridge) != nil {
		return false, nil
	}
	c.AddTable(t)
	c.AddChain(ch)
	// Appended: after the bridge's counter rule, which countBridge puts
	// first. The rule compares oifname all the same, so that its meaning
	// does not hang on the order.
	c.AddRule(&nftables.Rule{Table: t, Chain: ch,
		Exprs: concat(matchIfname(expr.MetaKeyIIFNAME, bridge, true),
			matchIfname(expr.MetaKeyOIFNAME, bridge, false),
			[]expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}}),
		UserData: userdata.AppendString(nil, userdata.TypeComment, forwardGuardComment(bridge)),
	})
	// An older glassbox's rule goes in the same transaction: the bridge is
	// never without a guard, and never with two.
	dropLegacyGuard(c, t, bridge)
	if err := c.Flush(); err != nil {
		return false, fmt.Errorf("guard forwarding on %s (nftables): %w", bridge, err)
	}
	return true, nil
}

// forgetForwardGuard deletes bridge's guard rule. The bridge is gone by
// then, or is going: the rule must not outlive its forwarding setting.
func forgetForwardGuard(bridge string) error {
	if !nftablesWorks() {
		return nil
	}
	c, err := nftConn()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	found := dropLegacyGuard(c, t, bridge)
	if r := forwardGuardRule(c, forwardGuardChainOf(t), bridge); r != nil {
		if err := c.DelRule(r); err != nil {
			return err
		}
		found = true
	}
	if !found {
		return nil
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove the forwarding guard of %s (nftables): %w", bridge, err)
	}
	return nil
}

// guardedBridges lists the bridges that have a guard rule.
func guardedBridges() []string {
	if !nftablesWorks() {
		return nil
	}
	c, err := nftConn()
	if err != nil {
		return nil
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	var out []string
	for _, ch := range []*nftables.Chain{forwardGuardChainOf(t), legacyForwardGuardChainOf(t)} {
		rules, err := c.GetRules(t, ch)
		if err != nil {
			continue
		}
		for _, r := range rules {
			if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
				if b, ok := bridgeOfForwardGuard(s); ok && !slices.Contains(out, b) {
					out = append(out, b)
				}
			}
		}
	}
	return out
}
