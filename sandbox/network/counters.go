package network

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"

	"glassbox/sandbox/state"
)

// Whether the host's firewall drops traffic between sandboxes is measured,
// not guessed: two chains of glassbox's own table count each bridge's
// sandbox-to-sandbox packets at the forward hook, one before every filter
// (priority -300) and one after them (priority 300). Every packet that a
// filter between the two drops — iptables' FORWARD policy, a firewall's
// nftables chain — is counted by the first and not by the second. The
// forward hook sees bridged packets only when br_netfilter hands them to
// IP's hooks (bridge-nf-call-iptables), which is exactly when IP's filters
// can drop them; otherwise both counters stay at 0.
var (
	seenPriority   = nftables.ChainPriorityRef(-300)
	passedPriority = nftables.ChainPriorityRef(300)
)

func counterChains(t *nftables.Table) (seen, passed *nftables.Chain) {
	policy := nftables.ChainPolicyAccept
	seen = &nftables.Chain{Name: state.ForwardSeenChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: seenPriority, Policy: &policy}
	passed = &nftables.Chain{Name: state.ForwardPassedChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: passedPriority, Policy: &policy}
	return seen, passed
}

// countBridge adds bridge's counter rules if they are not there.
func countBridge(bridge string) error {
	if err := NftablesError(); err != nil {
		return err
	}
	c, err := nftConn()
	if err != nil {
		return fmt.Errorf("count packets on %s: %w", bridge, err)
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	seen, passed := counterChains(t)
	if hasCounter(c, seen, bridge) && hasCounter(c, passed, bridge) {
		return nil
	}
	c.AddTable(t)
	for _, ch := range []*nftables.Chain{seen, passed} {
		c.AddChain(ch)
		if hasCounter(c, ch, bridge) {
			continue
		}
		// First in the chain, and ending its walk (an accept in one base
		// chain does not skip the others): a packet between sandboxes
		// is spared the rules below it, the forwarding guard's among
		// them (hairpin.go).
		c.InsertRule(&nftables.Rule{Table: t, Chain: ch,
			Exprs: concat(matchIfname(expr.MetaKeyIIFNAME, bridge, true),
				matchIfname(expr.MetaKeyOIFNAME, bridge, true),
				[]expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}}),
			UserData: userdata.AppendString(nil, userdata.TypeComment, state.BridgeCounterComment(bridge)),
		})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("count packets on %s (nftables): %w", bridge, err)
	}
	return nil
}

func hasCounter(c *nftables.Conn, ch *nftables.Chain, bridge string) bool {
	return counterRule(c, ch, bridge) != nil
}

func counterRule(c *nftables.Conn, ch *nftables.Chain, bridge string) *nftables.Rule {
	rules, err := c.GetRules(ch.Table, ch)
	if err != nil {
		return nil
	}
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
			if b, ok := state.BridgeOfCounter(s); ok && b == bridge {
				return r
			}
		}
	}
	return nil
}

// forgetCounters deletes bridge's counter rules.
func forgetCounters(bridge string) error {
	if !nftablesWorks() {
		return nil
	}
	c, err := nftConn()
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	seen, passed := counterChains(t)
	n := 0
	for _, ch := range []*nftables.Chain{seen, passed} {
		if r := counterRule(c, ch, bridge); r != nil {
			if err := c.DelRule(r); err != nil {
				return err
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove the packet counters of %s (nftables): %w", bridge, err)
	}
	return nil
}

// countedBridges lists the bridges that have counters.
func countedBridges() []string {
	if !nftablesWorks() {
		return nil
	}
	c, err := nftConn()
	if err != nil {
		return nil
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	seen, _ := counterChains(t)
	rules, err := c.GetRules(t, seen)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
			if b, ok := state.BridgeOfCounter(s); ok {
				out = append(out, b)
			}
		}
	}
	return out
}
