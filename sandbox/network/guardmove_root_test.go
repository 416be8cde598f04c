package network

import (
	"slices"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// An older glassbox kept a bridge's forwarding guard in a base chain of
// its own (forward_guard). Making the guard again moves it into
// forward_seen, after the bridge's counter rule, and leaves no such chain
// behind; removing the bridge removes a guard wherever it is.
func TestForwardGuardMovesIntoTheCounterChain(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	if hostForwards() {
		t.Skip("the host forwards IPv4 (ip_forward 1): glassbox adds no guard")
	}
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	_, n := attachedSandbox(t, roots, testID(720), opts)
	bridge := n.Bridge
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tbl := &nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}
	legacy := legacyForwardGuardChainOf(tbl)
	c.AddChain(legacy)
	c.AddRule(&nftables.Rule{Table: tbl, Chain: legacy,
		Exprs: concat(matchIfname(expr.MetaKeyIIFNAME, bridge, true),
			matchIfname(expr.MetaKeyOIFNAME, bridge, false),
			[]expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}}),
		UserData: userdata.AppendString(nil, userdata.TypeComment, forwardGuardComment(bridge)),
	})
	must(t, c.Flush())
	t.Cleanup(func() { forgetForwardGuard(bridge) })
	if !slices.Contains(guardedBridges(), bridge) {
		t.Fatalf("an older glassbox's guard for %s is not recognised", bridge)
	}

	if _, err := forwardBetweenSandboxes(bridge); err != nil {
		t.Fatalf("forward between sandboxes: %v", err)
	}
	if forwardGuardRule(c, legacy, bridge) != nil {
		t.Errorf("the older guard of %s is still in chain %s", bridge, legacyForwardGuardChain)
	}
	rules, err := c.GetRules(tbl, forwardGuardChainOf(tbl))
	if err != nil {
		t.Fatal(err)
	}
	counter, guard := -1, -1
	for i, r := range rules {
		s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
		if b, ok := state.BridgeOfCounter(s); ok && b == bridge {
			counter = i
		}
		if b, ok := bridgeOfForwardGuard(s); ok && b == bridge {
			guard = i
		}
	}
	if counter < 0 || guard < 0 || counter > guard {
		t.Errorf("chain %s: the counter of %s at %d, its guard at %d; want both, the counter first", state.ForwardSeenChain, bridge, counter, guard)
	}
	if others := guardedElsewhere(c, tbl, legacy); !others {
		if _, err := c.ListChain(tbl, legacyForwardGuardChain); err == nil {
			t.Errorf("chain %s outlived its last rule", legacyForwardGuardChain)
		}
	}

	if err := forgetForwardGuard(bridge); err != nil {
		t.Fatalf("forget the guard: %v", err)
	}
	if slices.Contains(guardedBridges(), bridge) {
		t.Errorf("the guard of %s outlived forgetForwardGuard", bridge)
	}
}

// guardedElsewhere: chain ch holds rules (another bridge's, an older
// glassbox's on this host) that keep it.
func guardedElsewhere(c *nftables.Conn, tbl *nftables.Table, ch *nftables.Chain) bool {
	rules, err := c.GetRules(tbl, ch)
	return err == nil && len(rules) > 0
}
