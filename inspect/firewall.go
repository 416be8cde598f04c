package inspect

import (
	"bytes"
	"fmt"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"

	"glassbox/sandbox/state"
)

// Firewall is what the host's firewall does to the traffic between the
// sandboxes on a sandbox's bridge. The runtime counts those packets twice
// at the forward hook, in glassbox's own nftables table: before every
// filter (priority -300) and after them all (300). The difference is what
// the filters in between dropped — dockerd's FORWARD policy, a firewall's
// chain — whoever they belong to.
type Firewall struct {
	Bridge string `json:"bridge"`
	// Seen and Passed count the packets between sandboxes on Bridge since
	// its counters were set up, before and after the host's filters.
	Seen    uint64 `json:"seen"`
	Passed  uint64 `json:"passed"`
	Dropped uint64 `json:"dropped"` // Seen - Passed
	// DroppedDelta is what was dropped since the previous snapshot (Rate);
	// IntervalSeconds is 0 when there was none.
	DroppedDelta    uint64  `json:"dropped_delta"`
	IntervalSeconds float64 `json:"interval_seconds"`
	// ForwardPolicy is the policy of iptables' FORWARD chain, when iptables
	// keeps its rules in nftables (iptables-nft, Debian's default): "DROP"
	// once dockerd has run; "" when it cannot be read.
	ForwardPolicy string `json:"forward_policy,omitempty"`
	// RuleInPlace: glassbox's chain GLASSBOX-FORWARD holds the rule that
	// accepts Bridge's traffic, and FORWARD jumps to it (iptables-nft only;
	// false when it cannot be read).
	RuleInPlace bool `json:"rule_in_place"`
	// Note is what the runtime could not set up when the sandbox attached
	// (its record's Network.Firewall).
	Note string `json:"note,omitempty"`
	// Unmeasured says why the counters could not be read (no nftables).
	Unmeasured string `json:"unmeasured,omitempty"`
	Source     string `json:"source"`
}

// iptablesForwardChain is glassbox's chain in iptables' filter table
// (sandbox/network's ForwardChain, which inspect does not import).
const iptablesForwardChain = "GLASSBOX-FORWARD"

// readFirewall reads bridge's counters and what iptables-nft shows of the
// FORWARD chain. It changes nothing.
func readFirewall(bridge, note string) *Firewall {
	fw := &Firewall{Bridge: bridge, Note: note, Source: "nft list table ip " + state.HostTable}
	c, err := nftables.New(nftables.WithSockOptions(func(c *netlink.Conn) error {
		return c.SetDeadline(time.Now().Add(2 * time.Second))
	}))
	if err != nil {
		fw.Unmeasured = err.Error()
		return fw
	}
	t := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	found := 0
	for _, name := range []string{state.ForwardSeenChain, state.ForwardPassedChain} {
		rules, err := c.GetRules(t, &nftables.Chain{Name: name, Table: t})
		if err != nil {
			fw.Unmeasured = fmt.Sprintf("nftables: %v", err)
			return fw
		}
		for _, r := range rules {
			s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			if b, ok := state.BridgeOfCounter(s); !ok || b != bridge {
				continue
			}
			found++
			for _, e := range r.Exprs {
				if ctr, ok := e.(*expr.Counter); ok {
					if name == state.ForwardSeenChain {
						fw.Seen += ctr.Packets
					} else {
						fw.Passed += ctr.Packets
					}
				}
			}
		}
	}
	if found < 2 {
		fw.Unmeasured = "no packet counters for " + bridge + " in table ip " + state.HostTable
	}
	if fw.Seen > fw.Passed {
		fw.Dropped = fw.Seen - fw.Passed
	}
	fw.ForwardPolicy, fw.RuleInPlace = readIptablesNft(c, bridge)
	return fw
}

// readIptablesNft reads, from the nftables table that iptables-nft keeps
// its filter rules in, FORWARD's policy and whether glassbox's rule for
// bridge is reached from it.
func readIptablesNft(c *nftables.Conn, bridge string) (policy string, inPlace bool) {
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return "", false
	}
	var forward, ours *nftables.Chain
	for _, ch := range chains {
		if ch.Table.Name != "filter" {
			continue
		}
		switch ch.Name {
		case "FORWARD":
			forward = ch
		case iptablesForwardChain:
			ours = ch
		}
	}
	if forward == nil {
		return "", false
	}
	if forward.Policy != nil {
		policy = "ACCEPT"
		if *forward.Policy == nftables.ChainPolicyDrop {
			policy = "DROP"
		}
	}
	if ours == nil {
		return policy, false
	}
	jumps := false
	rules, _ := c.GetRules(forward.Table, forward)
	for _, r := range rules {
		for _, e := range r.Exprs {
			if v, ok := e.(*expr.Verdict); ok && v.Kind == expr.VerdictJump && v.Chain == iptablesForwardChain {
				jumps = true
			}
		}
	}
	rules, _ = c.GetRules(ours.Table, ours)
	for _, r := range rules {
		for _, e := range r.Exprs {
			// -i BR is the interface's name, NUL-terminated, compared.
			if cmp, ok := e.(*expr.Cmp); ok && bytes.Equal(bytes.TrimRight(cmp.Data, "\x00"), []byte(bridge)) {
				return policy, jumps
			}
		}
	}
	return policy, false
}

// rateFirewall fills cur's DroppedDelta from prev's counters.
func rateFirewall(prev, cur *Snapshot, dt float64) {
	p, c := prev.Network.Firewall, cur.Network.Firewall
	if p == nil || c == nil || p.Bridge != c.Bridge || c.Unmeasured != "" || p.Unmeasured != "" {
		return
	}
	if c.Dropped >= p.Dropped {
		c.DroppedDelta = c.Dropped - p.Dropped
		c.IntervalSeconds = dt
	}
}
