package network

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"glassbox/sandbox/state"
)

func leaseConfig(subnet string) Config {
	return Config{Bridge: "gbtestlease", Subnet: netip.MustParsePrefix(subnet)}
}

func TestAllocateConcurrently(t *testing.T) {
	roots := state.RootsAt(t.TempDir())
	cfg := leaseConfig("10.124.0.0/24")
	const workers, each = 8, 12
	var mu sync.Mutex
	got := map[netip.Addr]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("%06x%06x", w, i)
				a, err := allocate(roots, cfg, id, nil) // each call opens and locks on its own
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if other, ok := got[a]; ok {
					t.Errorf("%s given to both %s and %s", a, other, id)
				}
				got[a] = id
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ls, err := Leases(roots, cfg.Bridge)
	if err != nil || len(ls) != workers*each {
		t.Fatalf("%d leases on file (%v), want %d", len(ls), err, workers*each)
	}
}

// TestAllocateAcrossProcesses runs the allocator in several processes at
// once (this test binary, re-executed) on one state root.
func TestAllocateAcrossProcesses(t *testing.T) {
	if os.Getenv("GB_ALLOC_ROOT") != "" {
		t.Skip("helper")
	}
	dir := t.TempDir()
	const procs, each = 4, 15
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAllocateHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GB_ALLOC_ROOT="+dir, fmt.Sprintf("GB_ALLOC_PREFIX=%06x", p), fmt.Sprintf("GB_ALLOC_N=%d", each))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		cmds = append(cmds, cmd)
		defer func() {
			if t.Failed() {
				t.Log(out.String())
			}
		}()
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	ls, err := Leases(state.RootsAt(dir), "gbtestlease")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	for _, l := range ls {
		if seen[l.IP] {
			t.Errorf("%s leased twice", l.IP)
		}
		seen[l.IP] = true
	}
	if len(ls) != procs*each {
		t.Errorf("%d leases, want %d", len(ls), procs*each)
	}
}

func TestAllocateHelper(t *testing.T) {
	dir := os.Getenv("GB_ALLOC_ROOT")
	if dir == "" {
		t.Skip("runs only as the helper of TestAllocateAcrossProcesses")
	}
	var n int
	fmt.Sscan(os.Getenv("GB_ALLOC_N"), &n)
	for i := range n {
		id := fmt.Sprintf("%s%06x", os.Getenv("GB_ALLOC_PREFIX"), i)
		if _, err := allocate(state.RootsAt(dir), leaseConfig("10.124.0.0/24"), id, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAllocateExhaustionAndReuse(t *testing.T) {
	roots := state.RootsAt(t.TempDir())
	cfg := leaseConfig("10.124.0.0/29") // .2 to .6: five sandboxes
	var ids []string
	for i := range 5 {
		id := testID(100 + i)
		a, err := allocate(roots, cfg, id, nil)
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		if want := netip.AddrFrom4([4]byte{10, 124, 0, byte(2 + i)}); a != want {
			t.Errorf("allocation %d: %s, want %s", i, a, want)
		}
		ids = append(ids, id)
	}
	_, err := allocate(roots, cfg, testID(200), nil)
	if err == nil || !strings.Contains(err.Error(), "no free address left in 10.124.0.0/29") {
		t.Fatalf("allocation past the end: %v", err)
	}
	// Asking again for a sandbox that holds a lease returns the same one.
	if a, err := allocate(roots, cfg, ids[3], nil); err != nil || a.String() != "10.124.0.5" {
		t.Errorf("allocate again for %s: %s, %v", ids[3], a, err)
	}
	if err := release(roots, cfg.Bridge, ids[1]); err != nil {
		t.Fatal(err)
	}
	if a, err := allocate(roots, cfg, testID(201), nil); err != nil || a.String() != "10.124.0.3" {
		t.Errorf("allocate after release: %s, %v; want 10.124.0.3 again", a, err)
	}
	// An address another state root's veth claims is skipped.
	release(roots, cfg.Bridge, ids[0])
	taken := map[netip.Addr]bool{netip.MustParseAddr("10.124.0.2"): true}
	if _, err := allocate(roots, cfg, testID(202), taken); err == nil {
		t.Error("allocated the address another root claims")
	}
}

func TestForgetLeases(t *testing.T) {
	roots := state.RootsAt(t.TempDir())
	cfg := leaseConfig("10.124.0.0/24")
	live, dead := testID(300), testID(301)
	for _, id := range []string{live, dead} {
		if _, err := allocate(roots, cfg, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := forgetLeases(roots, dead); err != nil {
		t.Fatal(err)
	}
	ls, err := Leases(roots, cfg.Bridge)
	if err != nil || len(ls) != 1 || ls[0].ID != live {
		t.Errorf("leases after Forget: %v, %v; want only %s", ls, err, live)
	}
	if err := forgetLeases(roots, live); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leasePath(roots, cfg.Bridge)); !os.IsNotExist(err) {
		t.Errorf("the lease file outlives its last lease: %v", err)
	}
}

func TestParseClaim(t *testing.T) {
	roots := state.RootsAt("/x")
	c, ok := parseClaim(claimAlias(roots, "glassbox0", "abc", netip.MustParseAddr("10.123.0.7")))
	if !ok || c != (claim{ID: "abc", Bridge: "glassbox0", Root: "/x/run", IP: netip.MustParseAddr("10.123.0.7")}) {
		t.Errorf("round trip: %+v %v", c, ok)
	}
	for _, a := range []string{"", "uplink", "glassbox bridge subnet=10.123.0.0/24", "glassbox sandbox=x ip=bad"} {
		if _, ok := parseClaim(a); ok {
			t.Errorf("parseClaim(%q) accepted", a)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Setenv(SubnetEnv, "")
	c, err := DefaultConfig()
	if err != nil || c.Bridge != "glassbox0" || c.Subnet != DefaultSubnet || c.Gateway().String() != "10.123.0.1" {
		t.Errorf("default: %+v, %v", c, err)
	}
	t.Setenv(SubnetEnv, "172.30.8.0/22")
	if c, err := DefaultConfig(); err != nil || c.Subnet.String() != "172.30.8.0/22" {
		t.Errorf("from %s: %+v, %v", SubnetEnv, c, err)
	}
	for in, says := range map[string]string{
		"10.123.0.5/24": "did you mean 10.123.0.0/24",
		"10.123.0.0":    "CIDR",
		"fd00::/64":     "only IPv4",
		"10.0.0.0/30":   "between /8 and /29",
		"127.0.0.0/8":   "loopback",
		"bogus":         "CIDR",
	} {
		t.Setenv(SubnetEnv, in)
		if _, err := DefaultConfig(); err == nil || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), SubnetEnv) {
			t.Errorf("%s=%s: %v; want %q", SubnetEnv, in, err, says)
		}
	}
	for _, name := range []string{"", "gb-x", "a-very-long-bridge-name", "a/b", "a b"} {
		if err := (Config{Bridge: name, Subnet: DefaultSubnet}).Validate(); err == nil {
			t.Errorf("bridge name %q accepted", name)
		}
	}
	var hosts []string
	leaseConfig("10.124.0.0/29").hosts(func(a netip.Addr) bool { hosts = append(hosts, a.String()); return true })
	if strings.Join(hosts, " ") != "10.124.0.2 10.124.0.3 10.124.0.4 10.124.0.5 10.124.0.6" {
		t.Errorf("hosts of a /29: %v", hosts)
	}
}
