package network

import (
	"fmt"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// On a host that does not forward, publishing a port turns forwarding on
// for the bridge alone, so that another sandbox reaches the port in the
// kernel; the sandboxes gain no route to anything beyond the bridge (a
// network behind another device of the host stays out of reach), and the
// guard goes with the bridge.
func TestForwardingStaysOnTheBridge(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	if hostForwards() {
		t.Skip("the host forwards IPv4 (ip_forward 1): glassbox leaves its choice and its firewall alone")
	}
	var bridge string
	t.Cleanup(func() {
		if bridge != "" && slices.Contains(guardedBridges(), bridge) {
			t.Errorf("the forwarding guard of %s outlived the bridge", bridge)
		}
	})
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	id := testID(700)
	_, n := attachedSandbox(t, roots, id, opts)
	bridge = n.Bridge
	if bridgeForwards(bridge) {
		t.Fatalf("a new bridge %s forwards before any port is published", bridge)
	}
	ports := []state.Port{{HostIP: n.Gateway, HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"}}
	hold(t, ports)
	if _, err := ForwardInKernel(roots, id, n, ports); err != nil {
		t.Fatalf("ForwardInKernel: %v", err)
	}
	t.Cleanup(func() { Unforward(id) })
	if !bridgeForwards(bridge) {
		t.Fatalf("forwarding is off on %s after publishing a port", bridge)
	}
	if !slices.Contains(guardedBridges(), bridge) {
		t.Fatalf("no forwarding guard for %s in table ip %s", bridge, state.HostTable)
	}
	for _, other := range []string{"all", "default", "lo"} {
		if sysctlOn(confDir + "/" + other + "/forwarding") {
			t.Errorf("net.ipv4.conf.%s.forwarding turned on", other)
		}
	}

	client := netnsProcess(t)
	cn, err := Attach(roots, testID(701), client, Bridge, opts...)
	if err != nil {
		t.Fatalf("attach the client: %v", err)
	}
	t.Cleanup(func() { Detach(roots, testID(701), cn) })
	c, err := dialIn(t, client, hostAddr(ports[0]))
	if a := ask(t, c, err); a != "sbx: hello\n" {
		t.Errorf("another sandbox → %s answered %q, want the sandbox's answer through the kernel's rule", hostAddr(ports[0]), a)
	}

	// A network behind another device of the host: a veth to a namespace
	// with an echo server, routed back to the bridge's subnet.
	outside := netnsProcess(t)
	hostEnd := fmt.Sprintf("gbtout%d", os.Getpid()%100000)
	la := netlink.NewLinkAttrs()
	la.Name = hostEnd
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "out0", PeerNamespace: netlink.NsPid(outside)}); err != nil {
		t.Fatalf("add veth %s: %v", hostEnd, err)
	}
	t.Cleanup(func() { deleteLink(t, hostEnd) })
	l, _ := netlink.LinkByName(hostEnd)
	must(t, netlink.AddrAdd(l, mustAddr("198.18.77.1/24")))
	must(t, netlink.LinkSetUp(l))
	// Its own device forwards too: the answers would come back, and only
	// the guard stands between the sandbox and that network.
	must(t, os.WriteFile(confDir+"/"+hostEnd+"/forwarding", []byte("1"), 0))
	h := netnsHandle(t, outside)
	peer, err := h.LinkByName("out0")
	if err != nil {
		t.Fatal(err)
	}
	must(t, h.AddrAdd(peer, mustAddr("198.18.77.2/24")))
	must(t, h.LinkSetUp(peer))
	must(t, h.RouteAdd(&netlink.Route{LinkIndex: peer.Attrs().Index, Gw: net.ParseIP("198.18.77.1")}))
	echoIn(t, outside, "198.18.77.2:8000", "outside")
	if a := dialAsk(t, "198.18.77.2:8000"); a != "outside: hello\n" {
		t.Fatalf("the host itself does not reach the outside network: %q", a)
	}

	before := forwardGuardDrops(t, bridge)
	inNetns(client, func() error {
		c, err := net.DialTimeout("tcp", "198.18.77.2:8000", 500*time.Millisecond)
		if err == nil {
			c.Close()
			t.Error("a sandbox reached a network behind another device of the host")
		}
		return nil
	})
	if d := forwardGuardDrops(t, bridge) - before; d == 0 {
		t.Error("the forwarding guard dropped nothing: the test shows nothing")
	}
}

func dialIn(t *testing.T, pid int, addr string) (net.Conn, error) {
	t.Helper()
	var c net.Conn
	err := inNetns(pid, func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 3*time.Second)
		return err
	})
	return c, err
}

func forwardGuardDrops(t *testing.T, bridge string) uint64 {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	r := forwardGuardRule(c, forwardGuardChainOf(&nftables.Table{Name: state.HostTable, Family: nftables.TableFamilyIPv4}), bridge)
	if r == nil {
		t.Fatalf("no forwarding guard for %s", bridge)
	}
	for _, e := range r.Exprs {
		if ctr, ok := e.(*expr.Counter); ok {
			return ctr.Packets
		}
	}
	t.Fatal("the forwarding guard has no counter")
	return 0
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustAddr(s string) *netlink.Addr {
	a, err := netlink.ParseAddr(s)
	if err != nil {
		panic(err)
	}
	return a
}
