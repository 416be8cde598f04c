package inspect

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

// rateFirewall fills cur's DroppedDelta from prev's counters; a reading
// both snapshots share keeps the delta it was read with.
func rateFirewall(prev, cur *Snapshot, dt float64) {
	if prev.Network.Firewall != cur.Network.Firewall {
		deltaFirewall(prev.Network.Firewall, cur.Network.Firewall, dt)
	}
}

// deltaFirewall fills c's DroppedDelta from p's counters, dt seconds older.
func deltaFirewall(p, c *Firewall, dt float64) {
	if p == nil || c == nil || p.Bridge != c.Bridge || c.Unmeasured != "" || p.Unmeasured != "" {
		return
	}
	if c.Dropped >= p.Dropped {
		c.DroppedDelta = c.Dropped - p.Dropped
		c.IntervalSeconds = dt
	}
}
