package state

import (
	"net"
	"strconv"
)

// Names and addresses on the host. Everything glassbox creates there says
// so (see DESIGN.md, "Names on the host"), and what reads the host (inspect,
// the leak check) finds it by these names.

// DefaultHostIP is where a published port listens unless the user names
// another address. Docker's default is 0.0.0.0, which publishes a sandbox
// to the whole network (and past the firewall); glassbox only publishes to
// this machine unless told otherwise.
const DefaultHostIP = "127.0.0.1"

// ServiceAddr is where the sandbox's service answers from the host, as
// host:port: the host end of the published port of the image's first
// exposed port (the only published port, for a record that does not say
// what the image exposes), else the sandbox's own address on the bridge.
// A port published on every address is reached on DefaultHostIP. "" when
// there is neither.
func (sb *Sandbox) ServiceAddr() string {
	port := 0
	if len(sb.Expose) > 0 {
		port = sb.Expose[0]
	}
	for _, p := range sb.Network.Ports {
		if p.ContainerPort == port || (port == 0 && len(sb.Network.Ports) == 1) {
			host := p.HostIP
			if host == "" || host == "0.0.0.0" {
				host = DefaultHostIP
			}
			return net.JoinHostPort(host, strconv.Itoa(p.HostPort))
		}
	}
	if sb.Network.IP != "" && port != 0 {
		return net.JoinHostPort(sb.Network.IP, strconv.Itoa(port))
	}
	return ""
}

// ForwardTablePrefix names the nftables tables (family ip) that hold each
// sandbox's port forwarding: glassbox-<id>.
const ForwardTablePrefix = "glassbox-"

// ForwardTable is the nftables table of sandbox id's port forwarding:
// `nft list table ip glassbox-<id>` shows it.
func ForwardTable(id string) string { return ForwardTablePrefix + id }

// HostTable is glassbox's own nftables table (family ip), which stays with
// the bridges: the localnet guard, and the counters of the packets between
// sandboxes on each bridge, taken before and after the host's firewall
// (ForwardSeenChain, ForwardPassedChain): the two differ by what the
// firewall dropped. `nft list table ip glassbox` shows them.
const (
	HostTable          = "glassbox"
	ForwardSeenChain   = "forward_seen"
	ForwardPassedChain = "forward_passed"
)

// IptablesChain is glassbox's chain in the host's iptables filter table,
// which FORWARD jumps to: one rule per bridge that lets its sandboxes'
// traffic through (sandbox/network's firewall.go). `iptables -S
// GLASSBOX-FORWARD` shows it. IptablesLock is the lock whoever changes it
// holds (iptables -w serialises each command, not check-then-change).
const (
	IptablesChain = "GLASSBOX-FORWARD"
	IptablesLock  = "/run/glassbox-iptables.lock"
)

// BridgeCounterComment is the comment on a bridge's counter rule in both
// chains; BridgeOfCounter reads the bridge back from it.
func BridgeCounterComment(bridge string) string {
	return "glassbox: packets between sandboxes on " + bridge
}

// BridgeOfCounter is the bridge a counter rule's comment names.
func BridgeOfCounter(comment string) (string, bool) {
	const prefix = "glassbox: packets between sandboxes on "
	if len(comment) <= len(prefix) || comment[:len(prefix)] != prefix {
		return "", false
	}
	return comment[len(prefix):], true
}
