package network

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netlink"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// attachedSandbox is a stand-in sandbox on the test's own bridge that
// answers "<name>: <line>" on port 8000.
func attachedSandbox(t *testing.T, roots state.Roots, id string, opts []Option) (pid int, n state.Network) {
	t.Helper()
	pid = netnsProcess(t)
	n, err := Attach(roots, id, pid, Bridge, opts...)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	t.Cleanup(func() {
		if err := Detach(roots, id, n); err != nil {
			t.Errorf("detach: %v", err)
		}
	})
	echoIn(t, pid, net.JoinHostPort(n.IP, "8000"), "sbx")
	return pid, n
}

// hold binds the published ports the way the supervisor does, and never
// accepts: a connection the kernel did not rewrite lands in this backlog
// and gets no answer.
func hold(t *testing.T, ports []state.Port) {
	t.Helper()
	ls, err := Listen(ports)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAll(ls) })
}

func dialAsk(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	return ask(t, c, nil)
}

func TestForwardInKernel(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	id := testID(600)
	_, n := attachedSandbox(t, roots, id, opts)

	ports := []state.Port{
		{HostIP: "127.0.0.1", HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"},
		{HostIP: "0.0.0.0", HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"},
		{HostIP: n.Gateway, HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"},
		{HostIP: "::1", HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"},
	}
	hold(t, ports)
	got, err := ForwardInKernel(roots, id, n, ports)
	if err != nil {
		t.Fatalf("ForwardInKernel: %v", err)
	}
	for i, want := range []string{ViaKernel, ViaKernel, ViaKernel, ViaProxy} {
		if got[i].Via != want {
			t.Errorf("%s: via %q, want %q", hostAddr(ports[i]), got[i].Via, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join("/proc/sys/net/ipv4/conf", n.Bridge, "route_localnet")); strings.TrimSpace(string(b)) != "1" {
		t.Errorf("route_localnet on %s is %q, want 1", n.Bridge, b)
	}
	if !guardInPlace(t) {
		t.Error("no guard rule in table ip glassbox")
	}
	if tables, _ := ForwardTables(); tables[id] != roots.Run {
		t.Errorf("ForwardTables()[%s] = %q, want the state root %s", id, tables[id], roots.Run)
	}

	// Every IPv4 form reaches the sandbox, though nothing accepts on the
	// host: 127.0.0.1, the wildcard (by a loopback and a bridge address),
	// and a named host address.
	wild := strconv.Itoa(ports[1].HostPort)
	for _, addr := range []string{
		hostAddr(ports[0]),
		net.JoinHostPort("127.0.0.1", wild),
		net.JoinHostPort(n.Gateway, wild),
		hostAddr(ports[2]),
	} {
		if a := dialAsk(t, addr); a != "sbx: hello\n" {
			t.Errorf("%s answered %q", addr, a)
		}
	}
	if k, err := KernelForwardedConnections(id); err != nil || k != 4 {
		t.Errorf("KernelForwardedConnections = %d, %v; want 4", k, err)
	}

	// Another sandbox on the bridge reaches the ports published on the
	// wildcard and on the bridge's address at the bridge's address: in
	// the kernel where the bridge forwards (and masqueraded, or the answer
	// would come from an address it never called), else through the
	// proxy — here the held listener, which never answers.
	client := netnsProcess(t)
	cn, err := Attach(roots, testID(601), client, Bridge, opts...)
	if err != nil {
		t.Fatalf("attach the client: %v", err)
	}
	t.Cleanup(func() { Detach(roots, testID(601), cn) })
	forwards := bridgeForwards(n.Bridge)
	for _, addr := range []string{net.JoinHostPort(n.Gateway, wild), hostAddr(ports[2])} {
		c, err := DialInNetns(client, addr)
		if err != nil {
			t.Fatalf("another sandbox → %s: %v", addr, err)
		}
		if forwards {
			if a := ask(t, c, nil); a != "sbx: hello\n" {
				t.Errorf("another sandbox → %s answered %q, want the sandbox's answer through the kernel's rule", addr, a)
			}
			continue
		}
		c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		c.Write([]byte("hello\n"))
		if b, err := c.Read(make([]byte, 64)); err == nil {
			t.Errorf("another sandbox → %s: %d bytes answered on a bridge that does not forward: want the proxy's listener", addr, b)
		}
		c.Close()
	}
	if forwards {
		// Both were masqueraded (where br_netfilter hands bridged answers to
		// conntrack the connection would work without, but not elsewhere).
		if m := masqueraded(t, id, "sandboxes reach"); m != 2 {
			t.Errorf("the sandboxes' masquerade rule counted %d connections, want 2", m)
		}
	}
	want := uint64(4)
	if forwards {
		want = 6
	}
	if k, err := KernelForwardedConnections(id); err != nil || k != want {
		t.Errorf("after the other sandbox's connections KernelForwardedConnections = %d, %v; want %d (bridge forwards: %v)", k, err, want, forwards)
	}

	// A second call (a restart) replaces the rules rather than adding to them.
	if _, err := ForwardInKernel(roots, id, n, ports); err != nil {
		t.Fatal(err)
	}
	if r := ruleCount(t, id); r != 3 {
		t.Errorf("after a second ForwardInKernel, %d DNAT rules; want 3", r)
	}

	if err := Unforward(id); err != nil {
		t.Fatal(err)
	}
	if err := Unforward(id); err != nil {
		t.Errorf("a second Unforward: %v", err)
	}
	if tables, _ := ForwardTables(); tables[id] != "" {
		t.Errorf("table %s is still there after Unforward", state.ForwardTable(id))
	}
	// Now the held listener gets the connection, and nobody answers.
	c, err := net.DialTimeout("tcp", hostAddr(ports[0]), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	c.Write([]byte("hello\n"))
	if b, err := c.Read(make([]byte, 64)); err == nil {
		t.Errorf("after Unforward the sandbox still answered (%d bytes)", b)
	}
}

func TestForwardInKernelRefusals(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	ports := []state.Port{{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: 8000, Proto: "tcp"}}
	for _, n := range []state.Network{
		{Mode: "host"},
		{Mode: "none"},
		{Mode: "bridge", IP: ""},
		{Mode: "bridge", IP: "fd00::2"},
	} {
		got, err := ForwardInKernel(roots, testID(601), n, ports)
		if err == nil || got[0].Via != ViaProxy {
			t.Errorf("%+v: err %v, via %q; want an error and the proxy", n, err, got[0].Via)
		}
	}
	if tables, _ := ForwardTables(); tables[testID(601)] != "" {
		t.Error("a refused ForwardInKernel left a table")
	}
}

// TestLocalnetGuard: route_localnet on the bridge would let a sandbox
// reach the host's loopback-only services by sending packets for
// 127.0.0.1 to the gateway. The sandbox here does exactly that (it
// routes 127.0.0.1 via the bridge), and the guard must drop it.
func TestLocalnetGuard(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	id := testID(602)
	pid, n := attachedSandbox(t, roots, id, opts)
	ports := []state.Port{{HostIP: "127.0.0.1", HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"}}
	hold(t, ports)
	if _, err := ForwardInKernel(roots, id, n, ports); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unforward(id) })

	secret, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer secret.Close()
	go func() {
		for {
			c, err := secret.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host secret\n"))
			c.Close()
		}
	}()

	// Inside: 127.0.0.1 no longer local, routed to the gateway instead.
	h := netnsHandle(t, pid)
	lo, _ := h.LinkByName("lo")
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	loAddr, _ := netlink.ParseAddr("127.0.0.1/8")
	if err := h.AddrDel(lo, loAddr); err != nil {
		t.Fatalf("remove 127.0.0.1 from the sandbox's lo: %v", err)
	}
	if err := inNetns(pid, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/conf/eth0/route_localnet", []byte("1"), 0)
	}); err != nil {
		t.Fatal(err)
	}
	gw := net.ParseIP(n.Gateway)
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: mustIPNet("127.0.0.1/32"), Gw: gw}); err != nil {
		t.Fatalf("route 127.0.0.1 via the gateway inside: %v", err)
	}

	before := guardDrops(t)
	var c net.Conn
	err = inNetns(pid, func() (err error) {
		c, err = net.DialTimeout("tcp", secret.Addr().String(), 1500*time.Millisecond)
		return err
	})
	if err == nil {
		b := make([]byte, 64)
		c.SetDeadline(time.Now().Add(time.Second))
		k, _ := c.Read(b)
		c.Close()
		t.Fatalf("the sandbox reached the host's 127.0.0.1 service through the bridge: %q", b[:k])
	}
	if after := guardDrops(t); after <= before {
		t.Errorf("the guard counted no drop (%d → %d): the packet went elsewhere, the test proves nothing", before, after)
	}
}

func mustIPNet(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

func guardRules(t *testing.T) []*nftables.Rule {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb := &nftables.Table{Name: guardTable, Family: nftables.TableFamilyIPv4}
	rules, err := c.GetRules(tb, &nftables.Chain{Name: guardChain, Table: tb})
	if err != nil {
		t.Fatalf("read the guard: %v", err)
	}
	return rules
}

func guardInPlace(t *testing.T) bool { return len(guardRules(t)) == 1 }

func guardDrops(t *testing.T) uint64 {
	t.Helper()
	for _, r := range guardRules(t) {
		for _, e := range r.Exprs {
			if c, ok := e.(*expr.Counter); ok {
				return c.Packets
			}
		}
	}
	t.Fatal("the guard rule has no counter")
	return 0
}

// masqueraded is the packet counter of the postrouting rule of sandbox
// id's table whose comment starts with what.
func masqueraded(t *testing.T, id, what string) uint64 {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb := &nftables.Table{Name: state.ForwardTable(id), Family: nftables.TableFamilyIPv4}
	rules, err := c.GetRules(tb, &nftables.Chain{Name: "postrouting", Table: tb})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if s, _ := userdata.GetString(r.UserData, userdata.TypeComment); !strings.HasPrefix(s, what) {
			continue
		}
		for _, e := range r.Exprs {
			if ctr, ok := e.(*expr.Counter); ok {
				return ctr.Packets
			}
		}
	}
	t.Fatalf("no postrouting rule %q in table %s", what, state.ForwardTable(id))
	return 0
}

func ruleCount(t *testing.T, id string) int {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb := &nftables.Table{Name: state.ForwardTable(id), Family: nftables.TableFamilyIPv4}
	rules, err := c.GetRules(tb, &nftables.Chain{Name: "output", Table: tb})
	if err != nil {
		t.Fatal(err)
	}
	return len(rules)
}

func TestForgetRemovesStaleForwards(t *testing.T) {
	sandboxtest.RequireRoot(t)
	mine, other := sandboxtest.TempRoots(t), sandboxtest.TempRoots(t)
	// A documentation address as the host address: no route_localnet,
	// no bridge needed, the rules are only installed, never used.
	ports := []state.Port{{HostIP: "192.0.2.1", HostPort: 9, ContainerPort: 8000, Proto: "tcp"}}
	n := state.Network{Mode: "bridge", IP: "10.124.255.9", Bridge: "gbtest-none"}
	stale, live, foreign := testID(610), testID(611), testID(612)
	for _, c := range []struct {
		roots state.Roots
		id    string
	}{{mine, stale}, {mine, live}, {other, foreign}} {
		if _, err := ForwardInKernel(c.roots, c.id, n, ports); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { Unforward(c.id) })
	}
	if slices.Contains(guardedBridges(), n.Bridge) {
		t.Errorf("a forwarding guard for %s, a bridge that does not exist", n.Bridge)
	}
	if ids, err := Leftovers(mine); err != nil || !slices.Equal(ids, []string{stale, live}) {
		t.Errorf("Leftovers = %v, %v; want %s and %s, not the other root's %s", ids, err, stale, live, foreign)
	}
	for _, id := range []string{stale, foreign} {
		if err := Forget(mine, id); err != nil {
			t.Fatal(err)
		}
	}
	tables, err := ForwardTables()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tables[stale]; ok {
		t.Error("Forget kept the table of a sandbox that is gone")
	}
	if tables[live] != mine.Run || tables[foreign] != other.Run {
		t.Errorf("Forget removed a live or foreign table: %v", tables)
	}
}
