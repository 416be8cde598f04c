//go:build linux

package inspect

import (
	"bytes"
	"fmt"
	"time"

	"glassbox/sandbox/state"
)

// readFirewall reads bridge's counters and what iptables-nft shows of the
// FORWARD chain; when keep is not nil, the ruleset has not changed since
// keep was read (nft.generation), and its reading of iptables-nft stands:
// three dumps of the five spared. It changes nothing. The rules are asked of nfnetlink
// directly and read where they lie (netlink.go): google/nftables builds
// every expression of every chain of the table iptables-nft fills, a
// thousand objects a reading once dockerd has run. It asks on nf, or
// says why it could not when nf is nil (openErr); the error is a dump's.
//
// refs, when not nil, is set to the counter rules read (their chains and
// handles), for readCounters.
func readFirewall(nf *nft, openErr error, bridge, note string, keep *Firewall, refs *[]ruleRef) (*Firewall, error) {
	fw := &Firewall{Bridge: bridge, Note: note, Source: "nft list table ip " + state.HostTable}
	if openErr != nil {
		fw.Unmeasured = fmt.Sprintf("nftables: %v", openErr)
		return fw, nil
	}
	found := 0
	if refs != nil {
		*refs = (*refs)[:0]
	}
	for _, name := range []string{state.ForwardSeenChain, state.ForwardPassedChain} {
		err := nf.rules(state.HostTable, name, func(r nftRule) {
			if b, ok := state.BridgeOfCounter(string(r.comment)); !ok || b != bridge {
				return
			}
			found++
			if refs != nil {
				*refs = append(*refs, ruleRef{chain: name, handle: r.handle})
			}
			if name == state.ForwardSeenChain {
				fw.Seen += r.packets
			} else {
				fw.Passed += r.packets
			}
		})
		if err != nil {
			fw.Unmeasured = fmt.Sprintf("nftables: %v", err)
			return fw, err
		}
	}
	if found < 2 {
		fw.Unmeasured = "no packet counters for " + bridge + " in table ip " + state.HostTable
	}
	if fw.Seen > fw.Passed {
		fw.Dropped = fw.Seen - fw.Passed
	}
	if keep != nil {
		fw.ForwardPolicy, fw.RuleInPlace = keep.ForwardPolicy, keep.RuleInPlace
		return fw, nil
	}
	fw.ForwardPolicy, fw.RuleInPlace = readIptablesNft(nf, bridge)
	return fw, nil
}

// readIptablesNft reads, from the nftables table that iptables-nft keeps
// its filter rules in, FORWARD's policy and whether glassbox's rule for
// bridge is reached from it.
func readIptablesNft(nf *nft, bridge string) (policy string, inPlace bool) {
	forward, ours := false, false
	err := nf.chains("filter", func(name []byte, pol int32, hasPolicy bool) {
		switch string(name) {
		case "FORWARD":
			forward = true
			if hasPolicy {
				policy = "ACCEPT"
				if pol == nfDrop {
					policy = "DROP"
				}
			}
		case state.IptablesChain:
			ours = true
		}
	})
	if err != nil || !forward || !ours {
		return policy, false
	}
	jumps := false
	nf.rules("filter", "FORWARD", func(r nftRule) {
		jumps = jumps || string(r.jump) == state.IptablesChain
	})
	matches := false
	nf.rules("filter", state.IptablesChain, func(r nftRule) {
		// -i BR is the interface's name, NUL-terminated, compared.
		for _, v := range r.cmps {
			matches = matches || string(bytes.TrimRight(v, "\x00")) == bridge
		}
	})
	return policy, jumps && matches
}

// readCounters reads again, by their handles, the counter rules refs that
// the reading prev found at generation gen, and the generation after them,
// in one write and its answers. While the generation is still gen, no
// rule of any table was added, changed or removed since prev: refs are all
// of bridge's counters, and prev's reading of iptables-nft stands. ok is
// false when that cannot be told (the generation moved, a rule is gone or
// is not bridge's, an error): the chains are then read whole.
func readCounters(nf *nft, table string, refs []ruleRef, gen uint32, prev *Firewall, note string) (fw *Firewall, ok bool) {
	fw = &Firewall{Bridge: prev.Bridge, Note: note, Source: prev.Source,
		ForwardPolicy: prev.ForwardPolicy, RuleInPlace: prev.RuleInPlace}
	ok = true
	now, err := nf.rulesByHandle(table, refs, func(i int, r nftRule) {
		if b, isCounter := state.BridgeOfCounter(string(r.comment)); !isCounter || b != prev.Bridge {
			ok = false
		}
		if refs[i].chain == state.ForwardSeenChain {
			fw.Seen += r.packets
		} else {
			fw.Passed += r.packets
		}
	})
	if err != nil || now != gen || !ok {
		return nil, false
	}
	if fw.Seen > fw.Passed {
		fw.Dropped = fw.Seen - fw.Passed
	}
	return fw, true
}

// firewall returns the reading of the host's firewall for the sandbox's
// network, read again once it is slowRefresh old; DroppedDelta then
// covers the time between the two readings. While the ruleset's
// generation stays what it was at the last whole reading, only the
// bridge's two counter rules are asked for (readCounters): two system
// calls instead of eight.
func (in *Inspector) firewall(n state.Network, now time.Time) *Firewall {
	if in.fw != nil && in.fw.Bridge == n.Bridge && now.Sub(in.fwAt) < slowRefresh {
		return in.fw
	}
	prev, prevAt := in.fw, in.fwAt
	if in.nf != nil && prev != nil && prev.Bridge == n.Bridge && prev.Unmeasured == "" && in.fwGenOK && len(in.fwRefs) > 0 {
		if fw, ok := readCounters(in.nf, state.HostTable, in.fwRefs, in.fwGen, prev, n.Firewall); ok {
			in.fw, in.fwAt = fw, now
			deltaFirewall(prev, fw, now.Sub(prevAt).Seconds())
			return fw
		}
	}
	// The nfnetlink socket is opened at the first reading and kept until
	// Close: a reading is then its dumps alone, three system calls fewer
	// (a tenth of a full re-read's). After a failed dump it is opened
	// afresh.
	var err error
	if in.nf == nil {
		in.nf, err = openNFT()
	}
	// The generation is asked before the dumps: a change made while they
	// run moves it, and the next reading reads everything again.
	var keep *Firewall
	var gen uint32
	genErr := err
	if in.nf != nil {
		gen, genErr = in.nf.generation()
	}
	if prev != nil && prev.Bridge == n.Bridge && prev.Unmeasured == "" && genErr == nil && in.fwGenOK && gen == in.fwGen {
		keep = prev
	}
	in.fw, err = readFirewall(in.nf, err, n.Bridge, n.Firewall, keep, &in.fwRefs)
	in.fwAt = now
	in.fwGen, in.fwGenOK = gen, genErr == nil && err == nil
	if err != nil {
		in.nf.close()
		in.nf = nil
	}
	if prev != nil {
		deltaFirewall(prev, in.fw, now.Sub(prevAt).Seconds())
	}
	return in.fw
}
