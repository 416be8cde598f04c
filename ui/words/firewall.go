package words

import (
	"fmt"

	"glassbox/inspect"
)

// Firewall words what the host's firewall does to the traffic between the
// sandboxes on a bridge (inspect.Firewall): one line, and one more that
// says why when it drops some. Nil gives none.
func Firewall(fw *inspect.Firewall) []string {
	if fw == nil {
		return nil
	}
	var lines []string
	head := "firewall, sandbox to sandbox on " + fw.Bridge + ": "
	switch {
	case fw.Unmeasured != "":
		lines = append(lines, head+"not measured ("+fw.Unmeasured+")")
	case fw.Dropped == 0:
		lines = append(lines, head+fmt.Sprintf("%d packets, none dropped by the host's filters", fw.Seen))
	default:
		l := head + fmt.Sprintf("the host's filters dropped %d of %d packets since glassbox began counting", fw.Dropped, fw.Seen)
		if fw.IntervalSeconds >= 0.1 {
			l += fmt.Sprintf(", %d in the last %.1f s", fw.DroppedDelta, fw.IntervalSeconds)
		}
		lines = append(lines, l, "  "+firewallWhy(fw))
	}
	if fw.Note != "" {
		lines = append(lines, "  when it attached: "+fw.Note)
	}
	return lines
}

// firewallWhy says who drops sandbox traffic, as far as can be told.
func firewallWhy(fw *inspect.Firewall) string {
	switch {
	case fw.ForwardPolicy == "DROP" && !fw.RuleInPlace:
		return "iptables' FORWARD policy is DROP (dockerd sets it) and glassbox's rule for " + fw.Bridge +
			" in chain GLASSBOX-FORWARD is missing (a firewall reload?): the next sandbox started on " + fw.Bridge +
			" puts it back (iptables -S GLASSBOX-FORWARD)"
	case fw.RuleInPlace && fw.DroppedDelta == 0:
		return "glassbox's rule for " + fw.Bridge + " is in place and nothing was dropped just now: the drops were earlier (while the rule was missing, or another filter dropped)"
	case fw.RuleInPlace:
		return "glassbox's rule for " + fw.Bridge + " is in place, yet another filter drops the traffic: a rule above it in iptables' FORWARD chain " +
			"(DOCKER-USER comes first: iptables -S DOCKER-USER) or a chain on the forward hook with policy drop (nft list ruleset)"
	}
	return "a filter on the host's forward path drops it (iptables -S FORWARD, nft list ruleset); with br_netfilter, bridged traffic goes through them"
}

// FirewallAlarm is the UI's warning while the host's firewall is dropping
// sandbox traffic (since the previous refresh); "" otherwise.
func FirewallAlarm(fw *inspect.Firewall) string {
	if fw == nil || fw.DroppedDelta == 0 {
		return ""
	}
	return fmt.Sprintf("the host's firewall dropped %d %s between sandboxes on %s", fw.DroppedDelta, plural(int(fw.DroppedDelta), "packet"), fw.Bridge)
}
