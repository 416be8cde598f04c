package network

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// TestSubnetClash: a subnet the host already uses, by an address or by a
// route, is refused with the culprit named, and nothing is created.
func TestSubnetClash(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	// This kernel has no dummy links; a bare bridge carries the address.
	const culprit = "gbtestclash"
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: culprit}}); err != nil {
		t.Fatalf("add %s: %v", culprit, err)
	}
	t.Cleanup(func() { deleteLink(t, culprit) })
	link, err := netlink.LinkByName(culprit)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}
	// An address inside the subnet, on a narrower prefix.
	inside := cfg.Subnet.Addr().As4()
	inside[3] = 77
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(inside[:]), Mask: net.CIDRMask(28, 32)}}
	if err := netlink.AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}

	err = CheckSubnet(cfg)
	if err == nil || !strings.Contains(err.Error(), "clashes with address") || !strings.Contains(err.Error(), culprit) || !strings.Contains(err.Error(), SubnetEnv) {
		t.Errorf("CheckSubnet with an address in the subnet: %v", err)
	}
	pid := netnsProcess(t)
	if _, err := Attach(roots, testID(10), pid, Bridge, opts...); err == nil || !strings.Contains(err.Error(), "clashes") {
		t.Errorf("attach on a clashing subnet: %v", err)
	}
	if _, err := netlink.LinkByName(cfg.Bridge); err == nil {
		t.Errorf("bridge %s was created on a clashing subnet", cfg.Bridge)
	}
	if slices.Contains(sandboxLinks(t), HostIf(testID(10))) {
		t.Errorf("veth left after a refused attach")
	}

	// A route into the subnet (a VPN's, say) clashes too.
	if err := netlink.AddrDel(link, addr); err != nil {
		t.Fatal(err)
	}
	if err := CheckSubnet(cfg); err != nil {
		t.Fatalf("subnet still refused with the address gone: %v", err)
	}
	wider := netip.PrefixFrom(cfg.Subnet.Addr(), 23).Masked()
	route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: &net.IPNet{IP: wider.Addr().AsSlice(), Mask: net.CIDRMask(23, 32)}}
	if err := netlink.RouteAdd(route); err != nil {
		t.Fatal(err)
	}
	err = CheckSubnet(cfg)
	if err == nil || !strings.Contains(err.Error(), "clashes with the host's route to "+wider.String()) {
		t.Errorf("CheckSubnet with a route over the subnet: %v", err)
	}
	netlink.RouteDel(route)
}

// TestBridgeWithOtherSubnet: an existing bridge made with another subnet is
// not silently given a second one.
func TestBridgeWithOtherSubnet(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	pid := netnsProcess(t)
	n, err := Attach(roots, testID(11), pid, Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, testID(11), n)
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	other := netip.PrefixFrom(cfg.Subnet.Addr(), 25)
	if _, err := Attach(roots, testID(12), netnsProcess(t), Bridge, WithBridge(cfg.Bridge), WithSubnet(other)); err == nil || !strings.Contains(err.Error(), "already has") {
		t.Errorf("attach with another subnet to %s: %v", cfg.Bridge, err)
	}
	if _, err := Attach(roots, testID(11), netnsProcess(t), Bridge, opts...); err == nil || !strings.Contains(err.Error(), "already attached") {
		t.Errorf("attach the same id twice: %v", err)
	}
}

// TestForgetRemovesStaleVeths: a sandbox whose record is gone but whose
// namespace lives on (its glassbox crashed) is among the Leftovers of its
// root, and Forget takes its veth and lease.
func TestForgetRemovesStaleVeths(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	live, stale := testID(13), testID(14)
	nl, err := Attach(roots, live, netnsProcess(t), Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, live, nl)
	ns, err := Attach(roots, stale, netnsProcess(t), Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, stale, ns)
	// Another state root's sandbox on the same bridge is not ours to judge.
	otherRoots := sandboxtest.TempRoots(t)
	other := testID(15)
	no, err := Attach(otherRoots, other, netnsProcess(t), Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(otherRoots, other, no)
	if no.IP == nl.IP || no.IP == ns.IP {
		t.Errorf("two state roots on one bridge share %s", no.IP)
	}

	if ids, err := Leftovers(roots); err != nil || !slices.Equal(ids, []string{live, stale}) {
		t.Errorf("Leftovers = %v, %v; want %s and %s, not the other root's %s", ids, err, live, stale, other)
	}
	if err := Forget(roots, stale); err != nil {
		t.Fatal(err)
	}
	// Another root's sandbox with the id is not this root's to forget.
	if err := Forget(roots, other); err != nil {
		t.Fatal(err)
	}
	links := sandboxLinks(t)
	if slices.Contains(links, HostIf(stale)) || !slices.Contains(links, HostIf(live)) || !slices.Contains(links, HostIf(other)) {
		t.Errorf("links after Forget: %v; want %s gone, %s and %s kept", links, HostIf(stale), HostIf(live), HostIf(other))
	}
	ls, _ := Leases(roots, nl.Bridge)
	if len(ls) != 1 || ls[0].ID != live {
		t.Errorf("leases after Forget: %v", ls)
	}
}

// TestAttachConcurrentRoots: sandboxes of three state roots (three lease
// files, three locks) attach to one bridge at the same moment; the claims
// on the veths keep their addresses apart.
func TestAttachConcurrentRoots(t *testing.T) {
	sandboxtest.RequireRoot(t)
	opts := testBridge(t)
	type result struct {
		id  string
		n   state.Network
		err error
	}
	const rootsN, each = 3, 3
	results := make(chan result, rootsN*each)
	var wg sync.WaitGroup
	for r := range rootsN {
		roots := state.RootsAt(t.TempDir())
		for i := range each {
			id := testID(600 + r*10 + i)
			pid := netnsProcess(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := Attach(roots, id, pid, Bridge, opts...)
				if err == nil {
					t.Cleanup(func() { Detach(roots, id, n) })
				}
				results <- result{id, n, err}
			}()
		}
	}
	wg.Wait()
	close(results)
	seen := map[string]string{}
	for r := range results {
		if r.err != nil {
			t.Errorf("attach %s: %v", r.id, r.err)
			continue
		}
		if other, ok := seen[r.n.IP]; ok {
			t.Errorf("%s given to both %s and %s", r.n.IP, other, r.id)
		}
		seen[r.n.IP] = r.id
	}
}
