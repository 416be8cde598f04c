package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// vethPrefix starts the name of every sandbox's host-side veth end.
const vethPrefix = "gb-"

// HostIf is the name of sandbox id's host-side veth end.
func HostIf(id string) string { return vethPrefix + id }

// SandboxIf is the name of the veth end inside the sandbox.
const SandboxIf = "eth0"

// Attach connects the network namespace of process pid (the sandbox's
// init, already in its own namespace and not yet running the workload) the
// way mode says, and returns what to record in the sandbox's state:
//
//   - Host: nothing to do;
//   - None: loopback up;
//   - Bridge: loopback up, a veth pair gb-<id> ↔ eth0, eth0 with an address
//     leased for id, a default route via the bridge's gateway.
//
// On failure nothing is left behind: no veth, no lease. opts override the
// default Config (glassbox0, $GLASSBOX_SUBNET or 10.123.0.0/24).
func Attach(roots state.Roots, id string, pid int, mode Mode, opts ...Option) (state.Network, error) {
	switch mode {
	case Host:
		return state.Network{Mode: string(Host)}, nil
	case None, Bridge:
	default:
		return state.Network{}, fmt.Errorf("unknown network mode %q: use bridge, none or host", mode)
	}
	cfg, err := DefaultConfig()
	if err != nil {
		return state.Network{}, err
	}
	for _, o := range opts {
		o(&cfg)
	}
	if mode == Bridge {
		if err := cfg.Validate(); err != nil {
			return state.Network{}, err
		}
		if len(id) == 0 || len(id) > 12 || !isLowerHex(id) {
			return state.Network{}, fmt.Errorf("sandbox id %q: want up to 12 lowercase hex digits", id)
		}
	}
	ns, err := sandboxNetns(pid)
	if err != nil {
		return state.Network{}, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return state.Network{}, fmt.Errorf("open netlink in the network namespace of pid %d: %w", pid, err)
	}
	defer h.Close()
	if err := loopbackUp(h); err != nil {
		return state.Network{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	if mode == None {
		return state.Network{Mode: string(None)}, nil
	}
	return attachBridge(roots, cfg, id, ns, h)
}

// sandboxNetns opens pid's network namespace and makes sure it is not ours:
// a sandbox that forgot CLONE_NEWNET would otherwise get its eth0 here.
func sandboxNetns(pid int) (netns.NsHandle, error) {
	if pid <= 0 {
		return -1, fmt.Errorf("no sandbox process (pid %d) to attach", pid)
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return -1, fmt.Errorf("open the network namespace of pid %d: %w", pid, err)
	}
	self, err := netns.GetFromPid(os.Getpid())
	if err != nil {
		ns.Close()
		return -1, fmt.Errorf("open our own network namespace: %w", err)
	}
	defer self.Close()
	if ns.Equal(self) {
		ns.Close()
		return -1, fmt.Errorf("pid %d shares glassbox's network namespace: it needs its own (CLONE_NEWNET) for networking other than host", pid)
	}
	return ns, nil
}

func loopbackUp(h *netlink.Handle) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find loopback: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	return nil
}

// maxClaimRetries bounds how often an address is picked again after
// another state root was found holding it (see claims).
const maxClaimRetries = 8

func attachBridge(roots state.Roots, cfg Config, id string, ns netns.NsHandle, h *netlink.Handle) (_ state.Network, err error) {
	lock, err := lockBridge(roots, cfg.Bridge)
	if err != nil {
		return state.Network{}, err
	}
	defer lock.unlock()
	br, err := ensureBridge(cfg)
	if err != nil {
		return state.Network{}, err
	}
	// The host's firewall is readied (an iptables-save, and a change only
	// when something is missing: a fork and exec of ≈ 2 ms of CPU) while
	// the veth is made; it is done before Attach returns, on every path,
	// so the workload never runs before the rule is in place.
	firewall := make(chan string, 1)
	go func() { firewall <- hostFirewall(cfg.Bridge) }()
	var firewallNote string
	firewallDone := false
	awaitFirewall := func() string {
		if !firewallDone {
			firewallNote, firewallDone = <-firewall, true
		}
		return firewallNote
	}
	defer awaitFirewall()
	hostIf := HostIf(id)
	if _, err := netlink.LinkByName(hostIf); err == nil {
		return state.Network{}, fmt.Errorf("sandbox %s is already attached: %s exists", id, hostIf)
	}

	// Rollback: everything below is undone if a later step fails.
	leased := false
	var veth netlink.Link
	defer func() {
		if err == nil {
			return
		}
		if veth != nil {
			netlink.LinkDel(veth) // deleting one end deletes the pair
		}
		if leased {
			releaseLocked(roots, cfg.Bridge, id)
		}
	}()

	taken, err := claims(cfg.Bridge, hostIf)
	if err != nil {
		return state.Network{}, err
	}
	ip, err := allocateLocked(roots, cfg, id, taken)
	if err != nil {
		return state.Network{}, err
	}
	leased = true

	v := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:        hostIf,
			MasterIndex: br.Index,
		},
		PeerName:         SandboxIf,
		PeerHardwareAddr: macFor(ip),
		// The peer is born in the sandbox's namespace: no temporary name
		// on the host, no rename, no moment where two hosts' eth0 clash.
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(v); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return state.Network{}, fmt.Errorf("create veth %s ↔ %s: the sandbox already has an %s, or %s exists: %w", hostIf, SandboxIf, SandboxIf, hostIf, err)
		}
		return state.Network{}, fmt.Errorf("create veth %s ↔ %s: %w", hostIf, SandboxIf, err)
	}
	if veth, err = netlink.LinkByName(hostIf); err != nil {
		return state.Network{}, fmt.Errorf("look up %s: %w", hostIf, err)
	}
	// The kernel ignores an alias given at creation: it is set apart.
	if err := netlink.LinkSetAlias(veth, claimAlias(roots, cfg.Bridge, id, ip)); err != nil {
		return state.Network{}, fmt.Errorf("label %s: %w", hostIf, err)
	}
	// The lease file only orders sandboxes of one state root. Another root
	// (a test's temporary one, say) on the same bridge writes its claim in
	// its veth's alias too; whoever sees a clash after writing its own
	// claim moves, so of two clashing claims the later one always does.
	for try := 0; ; try++ {
		others, err := claims(cfg.Bridge, hostIf)
		if err != nil {
			return state.Network{}, err
		}
		if !others[ip] {
			break
		}
		if try == maxClaimRetries {
			return state.Network{}, fmt.Errorf("address %s on %s is claimed by another glassbox state root; gave up after %d tries", ip, cfg.Bridge, try)
		}
		for a := range others {
			taken[a] = true
		}
		if ip, err = allocateLocked(roots, cfg, id, taken); err != nil {
			return state.Network{}, err
		}
		if err := netlink.LinkSetAlias(veth, claimAlias(roots, cfg.Bridge, id, ip)); err != nil {
			return state.Network{}, fmt.Errorf("label %s: %w", hostIf, err)
		}
		if err := h.LinkSetHardwareAddr(mustLink(h, SandboxIf), macFor(ip)); err != nil {
			return state.Network{}, fmt.Errorf("set the MAC of %s: %w", SandboxIf, err)
		}
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		return state.Network{}, fmt.Errorf("bring up %s: %w", hostIf, err)
	}
	if err := configureSandboxIf(h, cfg, ip); err != nil {
		return state.Network{}, err
	}
	return state.Network{
		Mode:     string(Bridge),
		IP:       ip.String(),
		Gateway:  cfg.Gateway().String(),
		Bridge:   cfg.Bridge,
		HostIf:   hostIf,
		Firewall: awaitFirewall(),
	}, nil
}

func mustLink(h *netlink.Handle, name string) netlink.Link {
	l, err := h.LinkByName(name)
	if err != nil {
		return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name}}
	}
	return l
}

// configureSandboxIf gives eth0 its address, brings it up and routes
// everything via the gateway.
func configureSandboxIf(h *netlink.Handle, cfg Config, ip netip.Addr) error {
	eth, err := h.LinkByName(SandboxIf)
	if err != nil {
		return fmt.Errorf("find %s in the sandbox: %w", SandboxIf, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(cfg.Subnet.Bits(), 32)}}
	if err := h.AddrAdd(eth, addr); err != nil {
		return fmt.Errorf("add %s to %s in the sandbox: %w", addr.IPNet, SandboxIf, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("bring up %s in the sandbox: %w", SandboxIf, err)
	}
	route := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: cfg.Gateway().AsSlice()}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("add default route via %s in the sandbox: %w", cfg.Gateway(), err)
	}
	return nil
}

// claimAlias is the label on a veth's host end: who it belongs to and which
// address it holds. `ip -d link show gb-<id>` prints it.
func claimAlias(roots state.Roots, bridge, id string, ip netip.Addr) string {
	return fmt.Sprintf("glassbox sandbox=%s ip=%s bridge=%s root=%s", id, ip, bridge, roots.Run)
}

type claim struct {
	ID, Bridge, Root string
	IP               netip.Addr
}

func parseClaim(alias string) (claim, bool) {
	fields := strings.Fields(alias)
	if len(fields) < 2 || fields[0] != "glassbox" {
		return claim{}, false
	}
	var c claim
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "sandbox":
			c.ID = v
		case "bridge":
			c.Bridge = v
		case "root":
			c.Root = v
		case "ip":
			c.IP, _ = netip.ParseAddr(v)
		}
	}
	return c, c.ID != "" && c.IP.IsValid()
}

// claims returns the addresses the host's veths on bridge claim, but the
// one named except.
func claims(bridge, except string) (map[netip.Addr]bool, error) {
	links, err := listLinks()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	out := map[netip.Addr]bool{}
	for _, l := range links {
		a := l.Attrs()
		if a.Name == except || !strings.HasPrefix(a.Name, vethPrefix) {
			continue
		}
		if c, ok := parseClaim(a.Alias); ok && c.Bridge == bridge {
			out[c.IP] = true
		}
	}
	return out, nil
}

// Detach undoes Attach: it deletes the sandbox's port forwarding table
// and its veth pair (deleting the host end deletes both), and releases its
// address. It is idempotent, and
// does nothing for host and none, whose namespace goes with the sandbox.
func Detach(roots state.Roots, id string, n state.Network) error {
	if n.Mode != string(Bridge) {
		return nil
	}
	hostIf := n.HostIf
	if hostIf == "" {
		hostIf = HostIf(id)
	}
	// A table or veth of this id that names another state root belongs to
	// a sandbox of that root (ids are per root; these names are not): left
	// alone, as Forget leaves them.
	var errs []error
	if root := forwardRoot(id); root == "" || root == roots.Run {
		if err := Unforward(id); err != nil {
			errs = append(errs, err)
		}
	}
	if l, err := netlink.LinkByName(hostIf); err == nil {
		if c, ok := parseClaim(l.Attrs().Alias); !ok || c.Root == roots.Run {
			if err := netlink.LinkDel(l); err != nil && !isNotFound(err) && !errors.Is(err, unix.ENODEV) {
				errs = append(errs, fmt.Errorf("delete %s: %w", hostIf, err))
			}
		}
	} else if !isNotFound(err) {
		errs = append(errs, fmt.Errorf("look up %s: %w", hostIf, err))
	}
	bridge := n.Bridge
	if bridge == "" {
		bridge = DefaultBridge
	}
	if err := release(roots, bridge, id); err != nil {
		errs = append(errs, fmt.Errorf("release the address of %s: %w", id, err))
	}
	return errors.Join(errs...)
}

// isLowerHex says whether s is all lower-case hex digits (a loop, not a
// package-level regexp, which every start of the binary would compile).
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
