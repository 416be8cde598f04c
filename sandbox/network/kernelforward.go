package network

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// How a published port reaches its sandbox (state.Port.Via).
const (
	// ViaKernel: a DNAT rule in the sandbox's nftables table rewrites each
	// new connection's destination; the kernel then routes it to the
	// sandbox like any packet, and no process copies the bytes.
	ViaKernel = state.ViaKernel
	// ViaProxy: the supervisor accepts the connection and copies it to the
	// sandbox (Proxy).
	ViaProxy = state.ViaProxy
)

// guardTable holds the one rule that makes route_localnet safe (see
// allowLoopbackSources). Like the bridge it stays when the last sandbox
// has gone.
const (
	guardTable = "glassbox"
	guardChain = "localnet_guard"
)

var loopbackNet = netip.MustParsePrefix("127.0.0.0/8")

// ForwardInKernel publishes the sandbox's ports with nftables: for every
// port whose host address is IPv4 it adds, to a table of the sandbox's own,
//
//	chain output      (nat, hook output, priority dstnat)
//	  ip daddr HOST_IP tcp dport HOST_PORT counter dnat to IP:CONTAINER_PORT
//	  (fib daddr type local … when HOST_IP is 0.0.0.0)
//	chain prerouting  (nat, hook prerouting, priority dstnat)
//	  iifname BRIDGE ip daddr HOST_IP tcp dport HOST_PORT counter dnat to IP:CONTAINER_PORT
//	chain postrouting (nat, hook postrouting, priority srcnat)
//	  oifname BRIDGE ip saddr 127.0.0.0/8 ip daddr IP counter masquerade
//	  oifname BRIDGE ip daddr IP ct status dnat fib saddr type != local counter masquerade
//
// The output rules see connections made on this host; the prerouting ones
// connections from the sandboxes on the bridge (another sandbox, or this
// one, reaching the port at the bridge's address). What arrives from other
// machines still goes to the supervisor's listener and its proxy. A
// connection to 127.0.0.1 keeps its loopback source after the DNAT, which
// the kernel refuses to route off the loopback device unless
// route_localnet is set on the bridge; masquerade then gives it the
// bridge's address, which the sandbox can answer. A sandbox's connection
// rewritten to another sandbox on the same bridge is masqueraded too:
// otherwise the answer would go straight back over the bridge from an
// address the client never called.
//
// A connection from a sandbox that the prerouting rule rewrites is routed
// back out of the bridge: the kernel does that only where the bridge
// forwards (net.ipv4.conf.BRIDGE.forwarding). Where the host does not
// forward, glassbox turns it on for the bridge alone, behind a rule that
// keeps it to the bridge (hairpin.go); where that fails, the prerouting
// rules are left out and the proxy carries the sandboxes' connections, as
// it carries the other machines'.
//
// It returns ports with Via set: IPv6 host addresses stay with the proxy.
// An error means nothing was installed (and the proxy carries every port).
func ForwardInKernel(roots state.Roots, id string, n state.Network, ports []state.Port) ([]state.Port, error) {
	out := make([]state.Port, len(ports))
	copy(out, ports)
	for i := range out {
		out[i].Via = ViaProxy
	}
	if n.Mode != string(Bridge) {
		return out, fmt.Errorf("kernel forwarding needs the bridge network, not %q", n.Mode)
	}
	target, err := netip.ParseAddr(n.IP)
	if err != nil || !target.Is4() {
		return out, fmt.Errorf("kernel forwarding: sandbox address %q is not IPv4", n.IP)
	}
	bridge := n.Bridge
	if bridge == "" {
		bridge = DefaultBridge
	}
	var fwd []int
	loopback := false
	for i, p := range ports {
		a, err := netip.ParseAddr(p.HostIP)
		if err != nil || !a.Is4() {
			continue
		}
		fwd = append(fwd, i)
		loopback = loopback || a.IsLoopback() || a.IsUnspecified()
	}
	if len(fwd) == 0 {
		return out, nil
	}
	if err := NftablesError(); err != nil {
		return withProxyReason(out, fwd, ProxyNoNftables), err
	}
	if loopback {
		if err := allowLoopbackSources(bridge); err != nil {
			return withProxyReason(out, fwd, ProxyKernelFailed), err
		}
	}

	c, err := nftConn()
	if err != nil {
		return withProxyReason(out, fwd, ProxyKernelFailed), fmt.Errorf("kernel forwarding: %w", err)
	}
	t := c.AddTable(&nftables.Table{Name: state.ForwardTable(id), Family: nftables.TableFamilyIPv4})
	c.FlushTable(t) // a restart reuses the table: no rule twice
	output := c.AddChain(&nftables.Chain{Name: "output", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	var pre *nftables.Chain
	// Where the bridge cannot forward (hairpin.go), the sandboxes'
	// connections are left to the proxy.
	if ok, _ := forwardBetweenSandboxes(bridge); ok {
		pre = c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	}
	for _, i := range fwd {
		p := ports[i]
		host := netip.MustParseAddr(p.HostIP)
		to := netip.AddrPortFrom(target, uint16(p.ContainerPort))
		dst := matchLocalDaddr()
		if !host.IsUnspecified() {
			dst = matchIPv4(ipv4DaddrOffset, netip.PrefixFrom(host, 32))
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: output,
			Exprs:    concat(dst, matchTCPDport(p.HostPort), []expr.Any{&expr.Counter{}}, dnatTo(to)),
			UserData: ruleComment(roots, id, fmt.Sprintf("%s -> %s", hostAddr(p), to)),
		})
		// A sandbox cannot reach the host's loopback (the guard drops it).
		if pre != nil && !host.IsLoopback() {
			c.AddRule(&nftables.Rule{Table: t, Chain: pre,
				Exprs: concat(matchIfname(expr.MetaKeyIIFNAME, bridge, true), dst, matchTCPDport(p.HostPort),
					[]expr.Any{&expr.Counter{}}, dnatTo(to)),
				UserData: ruleComment(roots, id, fmt.Sprintf("sandboxes on %s: %s -> %s", bridge, hostAddr(p), to)),
			})
		}
		out[i].Via = ViaKernel
	}
	if pre != nil {
		c.AddRule(&nftables.Rule{Table: t, Chain: post,
			Exprs: concat(matchIfname(expr.MetaKeyOIFNAME, bridge, true),
				matchIPv4(ipv4DaddrOffset, netip.PrefixFrom(target, 32)),
				matchDNATed(), matchLocalSaddr(false),
				[]expr.Any{&expr.Counter{}, &expr.Masq{}}),
			UserData: ruleComment(roots, id, "sandboxes reach "+target.String()+" through a published port from the bridge's address"),
		})
	}
	if loopback {
		c.AddRule(&nftables.Rule{Table: t, Chain: post,
			Exprs: concat(matchIfname(expr.MetaKeyOIFNAME, bridge, true),
				matchIPv4(ipv4SaddrOffset, loopbackNet),
				matchIPv4(ipv4DaddrOffset, netip.PrefixFrom(target, 32)),
				[]expr.Any{&expr.Counter{}, &expr.Masq{}}),
			UserData: ruleComment(roots, id, "loopback clients reach "+target.String()+" from the bridge's address"),
		})
	}
	if err := c.Flush(); err != nil {
		for i := range out {
			out[i].Via = ViaProxy
		}
		return withProxyReason(out, fwd, ProxyKernelFailed), fmt.Errorf("kernel forwarding (nftables): %w", err)
	}
	return out, nil
}

// Why the proxy carries a port that could be forwarded in the kernel
// (state.Port.ProxyReason).
const (
	ProxyNoNftables   = "nftables unavailable"
	ProxyKernelFailed = "the nftables rules could not be added"
)

func withProxyReason(ports []state.Port, which []int, why string) []state.Port {
	for _, i := range which {
		ports[i].Via, ports[i].ProxyReason = ViaProxy, why
	}
	return ports
}

// allowLoopbackSources sets route_localnet on the bridge, after making sure
// the guard rule is in place. route_localnet also lets the kernel accept
// packets addressed to 127.0.0.0/8 that arrive on the bridge, which would
// hand the host's loopback-only services to any sandbox that sends them
// such a packet; the guard drops every packet for 127.0.0.0/8 that did not
// come in on lo, before connection tracking (raw priority) — the answers
// to forwarded connections still carry the bridge's address then, and are
// only rewritten back to 127.0.0.1 later.
func allowLoopbackSources(bridge string) error {
	c, err := nftConn()
	if err != nil {
		return fmt.Errorf("kernel forwarding: %w", err)
	}
	if !guardPresent(c) {
		if err := addGuard(c); err != nil {
			return err
		}
	}
	f := filepath.Join("/proc/sys/net/ipv4/conf", bridge, "route_localnet")
	if err := os.WriteFile(f, []byte("1"), 0); err != nil {
		return fmt.Errorf("kernel forwarding: %w", err)
	}
	return nil
}

const guardComment = "glassbox: route_localnet is on for its bridges; only lo may carry packets for 127.0.0.0/8"

// guardPresent: the guard is there as addGuard leaves it. It is left alone
// then, so that its drop counter keeps counting.
func guardPresent(c *nftables.Conn) bool {
	t := &nftables.Table{Name: guardTable, Family: nftables.TableFamilyIPv4}
	rules, err := c.GetRules(t, &nftables.Chain{Name: guardChain, Table: t})
	if err != nil || len(rules) != 1 {
		return false
	}
	s, ok := userdata.GetString(rules[0].UserData, userdata.TypeComment)
	return ok && s == guardComment
}

func addGuard(c *nftables.Conn) error {
	t := c.AddTable(&nftables.Table{Name: guardTable, Family: nftables.TableFamilyIPv4})
	ch := c.AddChain(&nftables.Chain{Name: guardChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw})
	c.FlushChain(ch) // the batch is atomic: the rule is never missing, never twice
	c.AddRule(&nftables.Rule{Table: t, Chain: ch,
		Exprs: concat(matchIfname(expr.MetaKeyIIFNAME, "lo", false),
			matchIPv4(ipv4DaddrOffset, loopbackNet),
			[]expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}}),
		UserData: userdata.AppendString(nil, userdata.TypeComment, guardComment),
	})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("kernel forwarding (nftables guard): %w", err)
	}
	return nil
}

// ruleComment tags a rule with its sandbox and state root, so that
// Reconcile can tell its own stale tables from another state root's.
func ruleComment(roots state.Roots, id, what string) []byte {
	return userdata.AppendString(nil, userdata.TypeComment,
		fmt.Sprintf("%s | glassbox sandbox %s, state root %s", what, id, roots.Run))
}

func commentRoot(ud []byte) (string, bool) {
	s, ok := userdata.GetString(ud, userdata.TypeComment)
	if !ok {
		return "", false
	}
	const key = ", state root "
	i := strings.LastIndex(s, key)
	if i < 0 {
		return "", false
	}
	return s[i+len(key):], true
}

// Unforward deletes the sandbox's forwarding table. It is idempotent.
// route_localnet and the guard stay, like the bridge.
func Unforward(id string) error {
	if !nftablesWorks() {
		return nil // there can be no table to remove
	}
	c, err := nftConn()
	if err != nil {
		return fmt.Errorf("remove port forwarding: %w", err)
	}
	c.DelTable(&nftables.Table{Name: state.ForwardTable(id), Family: nftables.TableFamilyIPv4})
	if err := c.Flush(); err != nil && !isNoTable(err) {
		return fmt.Errorf("remove port forwarding (nftables table %s): %w", state.ForwardTable(id), err)
	}
	return nil
}

// isNoTable: deleting a table that is not there (or an nf_tables that is
// not in the kernel at all) leaves nothing to do.
func isNoTable(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT)
}

// forwardRoot is the state root the rules of sandbox id's forwarding table
// name: "" when it has no table, or rules that do not say.
func forwardRoot(id string) string {
	c, err := nftables.New()
	if err != nil {
		return ""
	}
	t := &nftables.Table{Name: state.ForwardTable(id), Family: nftables.TableFamilyIPv4}
	rules, err := c.GetRules(t, &nftables.Chain{Name: "output", Table: t})
	if err != nil {
		return ""
	}
	for _, r := range rules {
		if root, ok := commentRoot(r.UserData); ok {
			return root
		}
	}
	return ""
}

// ForwardTables lists the sandbox ids that have a forwarding table on this
// host, with the state root their rules name ("" when unreadable).
func ForwardTables() (map[string]string, error) {
	if !nftablesWorks() {
		return map[string]string{}, nil
	}
	c, err := nftConn()
	if err != nil {
		return nil, err
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		if isNoTable(err) {
			return map[string]string{}, nil
		}
		return nil, err
	}
	out := map[string]string{}
	for _, t := range tables {
		id, ok := strings.CutPrefix(t.Name, state.ForwardTablePrefix)
		if !ok {
			continue
		}
		out[id] = ""
		rules, err := c.GetRules(t, &nftables.Chain{Name: "output", Table: t})
		if err != nil {
			continue
		}
		for _, r := range rules {
			if root, ok := commentRoot(r.UserData); ok {
				out[id] = root
				break
			}
		}
	}
	return out, nil
}

// KernelForwardedConnections counts the connections the sandbox's DNAT
// rules have rewritten so far. NAT rules see only the first packet of a
// connection (conntrack remembers the rest), so the rules' packet counters
// count connections.
func KernelForwardedConnections(id string) (uint64, error) {
	c, err := nftConn()
	if err != nil {
		return 0, err
	}
	t := &nftables.Table{Name: state.ForwardTable(id), Family: nftables.TableFamilyIPv4}
	var n uint64
	for _, chain := range []string{"output", "prerouting"} {
		rules, err := c.GetRules(t, &nftables.Chain{Name: chain, Table: t})
		if chain == "prerouting" && errors.Is(err, unix.ENOENT) {
			break // the bridge did not forward when the rules were made
		}
		if err != nil {
			return 0, fmt.Errorf("read the rules of table %s: %w", state.ForwardTable(id), err)
		}
		for _, r := range rules {
			for _, e := range r.Exprs {
				if ctr, ok := e.(*expr.Counter); ok {
					n += ctr.Packets
				}
			}
		}
	}
	return n, nil
}
