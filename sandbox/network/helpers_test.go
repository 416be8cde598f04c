package network

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
)

// netnsProcess starts a sleeping child in a new network namespace, the
// stand-in for a sandbox's init, and kills it when the test ends.
func netnsProcess(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a process in a new network namespace: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// testBridge gives the test a bridge of its own (gbtest…) on a free /24, so
// that it never touches glassbox0 or another test's leases, and removes
// the bridge when the test ends.
func testBridge(t *testing.T) []Option {
	t.Helper()
	name := fmt.Sprintf("gbtest%d", os.Getpid()%100000)
	for i := range 250 {
		x := (os.Getpid() + i) % 250
		cfg := Config{Bridge: name, Subnet: netip.MustParsePrefix(fmt.Sprintf("10.124.%d.0/24", x))}
		if CheckSubnet(cfg) != nil {
			continue
		}
		t.Cleanup(func() {
			if err := RemoveBridge(name); err != nil {
				t.Errorf("remove bridge %s: %v", name, err)
			}
		})
		return []Option{WithBridge(cfg.Bridge), WithSubnet(cfg.Subnet)}
	}
	t.Fatal("no free test subnet in 10.124.0.0/16")
	return nil
}

func deleteLink(t *testing.T, name string) {
	if l, err := netlink.LinkByName(name); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			t.Errorf("remove %s: %v", name, err)
		}
	}
}

// sandboxLinks lists the gb-* links on the host.
func sandboxLinks(t *testing.T) []string {
	t.Helper()
	ls, err := listLinks()
	if err != nil {
		t.Fatalf("list links: %v", err)
	}
	var out []string
	for _, l := range ls {
		if n := l.Attrs().Name; strings.HasPrefix(n, vethPrefix) {
			out = append(out, n)
		}
	}
	return out
}

func testID(n int) string { return fmt.Sprintf("%06x%06x", os.Getpid()&0xffffff, n) }

func syscallGetpid() int { return os.Getpid() }
