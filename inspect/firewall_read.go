//go:build linux

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

// firewall returns the reading of the host's firewall for the sandbox's
// network, read again once it is slowRefresh old; DroppedDelta then
// covers the time between the two readings.
func (in *Inspector) firewall(n state.Network, now time.Time) *Firewall {
	if in.fw != nil && in.fw.Bridge == n.Bridge && now.Sub(in.fwAt) < slowRefresh {
		return in.fw
	}
	prev, prevAt := in.fw, in.fwAt
	in.fw, in.fwAt = readFirewall(n.Bridge, n.Firewall), now
	if prev != nil {
		deltaFirewall(prev, in.fw, now.Sub(prevAt).Seconds())
	}
	return in.fw
}
