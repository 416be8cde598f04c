package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ensureBridge makes sure cfg's bridge exists, carries the gateway address
// and is up. It is idempotent, and safe when another glassbox (even one
// with another state root, holding another lock) creates it at the same
// moment: "already exists" from the kernel is taken as success and the
// result is checked, not assumed.
func ensureBridge(cfg Config) (*netlink.Bridge, error) {
	gw := cfg.Gateway()
	link, err := netlink.LinkByName(cfg.Bridge)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("look up bridge %s: %w", cfg.Bridge, err)
	}
	if link == nil {
		if err := checkClash(cfg, -1); err != nil {
			// Another glassbox may have made the bridge since the lookup:
			// its gateway address is no clash. Anything else is.
			if link, _ = netlink.LinkByName(cfg.Bridge); link == nil {
				return nil, err
			}
		}
	}
	if link == nil {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{
			Name: cfg.Bridge,
			// A fixed MAC: otherwise the bridge takes the lowest of its
			// ports' and changes it as sandboxes come and go, which
			// invalidates every neighbour's ARP entry for the gateway.
			HardwareAddr: macFor(gw),
		}}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("create bridge %s: %w", cfg.Bridge, err)
		}
		if link, err = netlink.LinkByName(cfg.Bridge); err != nil {
			return nil, fmt.Errorf("look up bridge %s: %w", cfg.Bridge, err)
		}
		// Set apart: the kernel ignores an alias given at creation.
		netlink.LinkSetAlias(link, "glassbox bridge subnet="+cfg.Subnet.String())
	}
	br, ok := link.(*netlink.Bridge)
	if !ok {
		return nil, fmt.Errorf("%s exists but is a %s link, not a bridge; remove it or choose another bridge", cfg.Bridge, link.Type())
	}
	addrs, err := listAddrs(br)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", cfg.Bridge, err)
	}
	var has bool
	for _, a := range addrs {
		p, ok := prefixOf(a.IPNet)
		if !ok || !p.Addr().Is4() {
			continue
		}
		if p.Addr() == gw && p.Bits() == cfg.Subnet.Bits() {
			has = true
			continue
		}
		return nil, fmt.Errorf("bridge %s already has %s, not the gateway %s/%d of subnet %s: set %s to the subnet it was made with, or remove the bridge (ip link del %s) once no sandbox uses it",
			cfg.Bridge, p, gw, cfg.Subnet.Bits(), cfg.Subnet, SubnetEnv, cfg.Bridge)
	}
	if !has {
		if err := checkClash(cfg, br.Index); err != nil {
			return nil, err
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: gw.AsSlice(), Mask: net.CIDRMask(cfg.Subnet.Bits(), 32)}}
		if err := netlink.AddrAdd(br, addr); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("add gateway %s to %s: %w", addr.IPNet, cfg.Bridge, err)
		}
	}
	if br.OperState != netlink.OperUp || br.Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("bring up %s: %w", cfg.Bridge, err)
		}
	}
	return br, nil
}

// checkClash refuses a subnet that overlaps an address or a route the host
// already has (other than on the bridge itself, ifindex own): traffic for
// it would go to one of the two, and which one is up to the kernel. All
// routing tables are looked at, so a VPN's policy routes count too; default
// routes (0.0.0.0/0) overlap everything and are ignored.
func checkClash(cfg Config, own int) error {
	addrs, err := listAddrs(nil)
	if err != nil {
		return fmt.Errorf("list the host's addresses: %w", err)
	}
	for _, a := range addrs {
		p, ok := prefixOf(a.IPNet)
		if !ok || a.LinkIndex == own || !p.Addr().Is4() {
			continue
		}
		if p.Masked().Overlaps(cfg.Subnet) {
			return fmt.Errorf("subnet %s clashes with address %s on %s: choose another with %s=<cidr>",
				cfg.Subnet, p, linkName(a.LinkIndex), SubnetEnv)
		}
	}
	routes, err := listRoutes()
	if err != nil {
		return fmt.Errorf("list the host's routes: %w", err)
	}
	for _, r := range routes {
		p, ok := prefixOf(r.Dst)
		if !ok || p.Bits() == 0 || r.LinkIndex == own || !p.Addr().Is4() {
			continue
		}
		if p.Overlaps(cfg.Subnet) {
			where := linkName(r.LinkIndex)
			if r.Gw != nil {
				where = "via " + r.Gw.String() + " " + where
			}
			return fmt.Errorf("subnet %s clashes with the host's route to %s (%s, table %d): choose another with %s=<cidr>",
				cfg.Subnet, p, strings.TrimSpace(where), r.Table, SubnetEnv)
		}
	}
	return nil
}

// CheckSubnet says whether cfg's subnet can be used on this host: it is
// valid, and it clashes with nothing but cfg's own bridge.
func CheckSubnet(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	own := -1
	if l, err := netlink.LinkByName(cfg.Bridge); err == nil {
		own = l.Attrs().Index
	}
	return checkClash(cfg, own)
}

// The dump calls below can be interrupted by a concurrent change (another
// glassbox adding a veth); the kernel then says so and the dump is retried.
const dumpRetries = 5

func listAddrs(link netlink.Link) ([]netlink.Addr, error) {
	var err error
	for range dumpRetries {
		var addrs []netlink.Addr
		if addrs, err = netlink.AddrList(link, netlink.FAMILY_V4); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return addrs, err
		}
	}
	return nil, err
}

func listRoutes() ([]netlink.Route, error) {
	var err error
	for range dumpRetries {
		var rs []netlink.Route
		rs, err = netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return rs, err
		}
	}
	return nil, err
}

func listLinks() ([]netlink.Link, error) {
	var err error
	for range dumpRetries {
		var ls []netlink.Link
		if ls, err = netlink.LinkList(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return ls, err
		}
	}
	return nil, err
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func linkName(index int) string {
	if l, err := netlink.LinkByIndex(index); err == nil {
		return "dev " + l.Attrs().Name
	}
	return fmt.Sprintf("ifindex %d", index)
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}
