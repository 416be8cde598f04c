package network

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// netnsHandle is a netlink handle in pid's network namespace, closed when
// the test ends.
func netnsHandle(t *testing.T, pid int) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// inside reads eth0's addresses and the default route in pid's namespace.
func inside(t *testing.T, pid int) (addrs []string, up bool, gw string, mac string) {
	t.Helper()
	h := netnsHandle(t, pid)
	eth, err := h.LinkByName(SandboxIf)
	if err != nil {
		t.Fatalf("no %s in the sandbox: %v", SandboxIf, err)
	}
	as, err := h.AddrList(eth, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		addrs = append(addrs, a.IPNet.String())
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			gw = r.Gw.String()
		}
	}
	return addrs, eth.Attrs().Flags&net.FlagUp != 0, gw, eth.Attrs().HardwareAddr.String()
}

// echoIn serves, in pid's namespace, a listener that answers each line
// with "<name>: <line>".
func echoIn(t *testing.T, pid int, addr, name string) net.Listener {
	t.Helper()
	l, err := ListenInNetns(pid, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "%s: %s", name, line)
			}()
		}
	}()
	return l
}

func ask(t *testing.T, c net.Conn, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "hello\n")
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return string(b)
}

func TestAttachTwoSandboxes(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}

	pids := []int{netnsProcess(t), netnsProcess(t)}
	ids := []string{testID(1), testID(2)}
	nets := make([]state.Network, 2)
	for i := range pids {
		n, err := Attach(roots, ids[i], pids[i], Bridge, opts...)
		if err != nil {
			t.Fatalf("attach %s: %v", ids[i], err)
		}
		t.Cleanup(func() { Detach(roots, ids[i], n) })
		nets[i] = n
	}
	if nets[0].IP == nets[1].IP {
		t.Fatalf("both sandboxes got %s", nets[0].IP)
	}
	for i, n := range nets {
		ip := netip.MustParseAddr(n.IP)
		if !cfg.Subnet.Contains(ip) || ip == cfg.Gateway() {
			t.Errorf("sandbox %d got %s, not a host address of %s", i, ip, cfg.Subnet)
		}
		if n.Mode != "bridge" || n.Bridge != cfg.Bridge || n.Gateway != cfg.Gateway().String() || n.HostIf != "gb-"+ids[i] {
			t.Errorf("sandbox %d: recorded %+v", i, n)
		}
		addrs, up, gw, mac := inside(t, pids[i])
		want := fmt.Sprintf("%s/%d", n.IP, cfg.Subnet.Bits())
		if !slices.Equal(addrs, []string{want}) || !up {
			t.Errorf("sandbox %d: eth0 has %v (up %v), want %s up", i, addrs, up, want)
		}
		if gw != n.Gateway {
			t.Errorf("sandbox %d: default route via %q, want %s", i, gw, n.Gateway)
		}
		if mac != macFor(ip).String() {
			t.Errorf("sandbox %d: eth0 MAC %s, want %s", i, mac, macFor(ip))
		}
		host, err := netlink.LinkByName(n.HostIf)
		if err != nil {
			t.Fatalf("host end: %v", err)
		}
		br, _ := netlink.LinkByName(cfg.Bridge)
		if host.Attrs().MasterIndex != br.Attrs().Index || host.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("%s: master %d up %v, want on %s (%d) and up", n.HostIf, host.Attrs().MasterIndex, host.Attrs().Flags&net.FlagUp != 0, cfg.Bridge, br.Attrs().Index)
		}
		if c, ok := parseClaim(host.Attrs().Alias); !ok || c.ID != ids[i] || c.IP != ip || c.Root != roots.Run {
			t.Errorf("%s: alias %q does not claim %s for %s", n.HostIf, host.Attrs().Alias, ip, ids[i])
		}
	}

	for i := range pids {
		echoIn(t, pids[i], ":7000", fmt.Sprintf("sandbox%d", i))
	}
	// From the host, through the bridge.
	for i, n := range nets {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(n.IP, "7000"), 5*time.Second)
		if got, want := ask(t, c, err), fmt.Sprintf("sandbox%d: hello\n", i); got != want {
			t.Errorf("host → sandbox %d: %q, want %q", i, got, want)
		}
	}
	// From one sandbox to the other, and to itself over loopback.
	c, err := DialInNetns(pids[0], net.JoinHostPort(nets[1].IP, "7000"))
	if got := ask(t, c, err); got != "sandbox1: hello\n" {
		t.Errorf("sandbox 0 → sandbox 1: %q", got)
	}
	c, err = DialInNetns(pids[1], net.JoinHostPort(nets[0].IP, "7000"))
	if got := ask(t, c, err); got != "sandbox0: hello\n" {
		t.Errorf("sandbox 1 → sandbox 0: %q", got)
	}
	c, err = DialInNetns(pids[1], "127.0.0.1:7000")
	if got := ask(t, c, err); got != "sandbox1: hello\n" {
		t.Errorf("sandbox 1 → its loopback: %q", got)
	}

	// The sandbox reaches the host at the gateway.
	hostL, err := net.Listen("tcp", net.JoinHostPort(cfg.Gateway().String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer hostL.Close()
	go func() {
		if c, err := hostL.Accept(); err == nil {
			// Read the question first: closing with unread data sends a
			// reset, which can overtake the answer.
			bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "host\n")
			c.Close()
		}
	}()
	c, err = DialInNetns(pids[0], hostL.Addr().String())
	if got := ask(t, c, err); got != "host\n" {
		t.Errorf("sandbox 0 → host: %q", got)
	}
}

func TestDetachRemovesAndReleases(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)
	id := testID(3)

	n, err := Attach(roots, id, netnsProcess(t), Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := Detach(roots, id, n); err != nil {
		t.Fatalf("detach: %v", err)
	}
	if ls := sandboxLinks(t); slices.Contains(ls, n.HostIf) {
		t.Errorf("%s still exists after detach", n.HostIf)
	}
	if ls, err := Leases(roots, n.Bridge); err != nil || len(ls) != 0 {
		t.Errorf("leases after detach: %v, %v", ls, err)
	}
	if err := Detach(roots, id, n); err != nil {
		t.Errorf("second detach: %v", err)
	}

	// The released address is the first one handed out again.
	id2 := testID(4)
	n2, err := Attach(roots, id2, netnsProcess(t), Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, id2, n2)
	if n2.IP != n.IP {
		t.Errorf("address after release: %s, want %s again", n2.IP, n.IP)
	}
}

func TestAttachFailureLeavesNothing(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)

	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	check := func(what string) {
		t.Helper()
		if slices.Contains(sandboxLinks(t), HostIf(testID(5))) {
			t.Errorf("%s: %s left behind", what, HostIf(testID(5)))
		}
		if ls, err := Leases(roots, cfg.Bridge); err != nil || len(ls) != 0 {
			t.Errorf("%s: leases left: %v %v", what, ls, err)
		}
	}

	// No such process: refused before anything is made.
	if _, err := Attach(roots, testID(5), 1<<22+1, Bridge, opts...); err == nil || !strings.Contains(err.Error(), "network namespace of pid") {
		t.Errorf("attach to a missing pid: %v", err)
	}
	check("missing pid")

	// Our own namespace: refused (the runtime forgot CLONE_NEWNET).
	if _, err := Attach(roots, testID(5), syscallGetpid(), Bridge, opts...); err == nil || !strings.Contains(err.Error(), "CLONE_NEWNET") {
		t.Errorf("attach to the host's namespace: %v", err)
	}
	check("host namespace")

	// Half-way: the sandbox already has an eth0, so the veth cannot be made
	// after the address was leased: the lease must be given back.
	pid := netnsProcess(t)
	ns, _ := netns.GetFromPid(pid)
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	ns.Close()
	_, err = Attach(roots, testID(5), pid, Bridge, opts...)
	if err == nil || !strings.Contains(err.Error(), "already has an eth0") {
		t.Errorf("attach to a sandbox with an eth0: %v", err)
	}
	check("half-way")

	// Bad input: refused before anything.
	for _, id := range []string{"", "XYZ", "0123456789abc", "../../x"} {
		if _, err := Attach(roots, id, pid, Bridge, opts...); err == nil {
			t.Errorf("attach with id %q: no error", id)
		}
	}
	if _, err := Attach(roots, testID(5), pid, Mode("bridged")); err == nil {
		t.Error("attach in mode bridged: no error")
	}
}

func TestModesNoneAndHost(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	pid := netnsProcess(t)
	n, err := Attach(roots, testID(6), pid, None)
	if err != nil || n.Mode != "none" || n.IP != "" {
		t.Fatalf("attach none: %+v, %v", n, err)
	}
	echoIn(t, pid, "127.0.0.1:7001", "none")
	c, err := DialInNetns(pid, "127.0.0.1:7001")
	if got := ask(t, c, err); got != "none: hello\n" {
		t.Errorf("loopback inside a none sandbox: %q", got)
	}
	if err := Detach(roots, testID(6), n); err != nil {
		t.Errorf("detach none: %v", err)
	}
	h, err := Attach(roots, testID(7), syscallGetpid(), Host)
	if err != nil || h.Mode != "host" {
		t.Errorf("attach host: %+v, %v", h, err)
	}
}

// TestDefaultBridge attaches to glassbox0 on its default subnet, as a
// sandbox does. If the bridge did not exist before, the test removes it
// again (a real glassbox leaves it, like docker0).
func TestDefaultBridge(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	t.Setenv(SubnetEnv, "")
	roots := sandboxtest.TempRoots(t)
	cfg, _ := DefaultConfig()
	if _, err := netlink.LinkByName(DefaultBridge); err != nil {
		if err := CheckSubnet(cfg); err != nil {
			t.Skipf("the default subnet is taken on this host: %v", err)
		}
		t.Cleanup(func() {
			// Only if no sandbox of another glassbox came meanwhile.
			br, err := netlink.LinkByName(DefaultBridge)
			if err != nil {
				return
			}
			ls, _ := listLinks()
			for _, l := range ls {
				if l.Attrs().MasterIndex == br.Attrs().Index {
					return
				}
			}
			netlink.LinkDel(br)
		})
	}
	id := testID(8)
	n, err := Attach(roots, id, netnsProcess(t), Bridge)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, id, n)
	if n.Bridge != "glassbox0" || !DefaultSubnet.Contains(netip.MustParseAddr(n.IP)) || n.Gateway != "10.123.0.1" {
		t.Errorf("default attach: %+v", n)
	}
	// Attaching again to the existing bridge is fine (idempotent).
	id2 := testID(9)
	n2, err := Attach(roots, id2, netnsProcess(t), Bridge)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, id2, n2)
}
