package lifecycle_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"glassbox/sandbox/network"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// Issue 16, bug 9: on a host where nftables does not work, removal does not
// depend on it, published ports fall back to the proxy and say so, and
// prune works. It needs such a host: .ci/cgroup-v2 makes one, a VM whose
// kernel cannot load nf_tables (CGROUP_V2_WITHHOLD=nf_tables; CI runs it).
func TestWithoutNftables(t *testing.T) {
	sandboxtest.RequireRoot(t)
	withheld := strings.Contains(" "+os.Getenv("GLASSBOX_VM_WITHHELD")+" ", " nf_tables ")
	if err := network.NftablesError(); err == nil {
		if withheld {
			t.Fatal("nf_tables was withheld from this VM, yet nftables works: the test would show nothing")
		}
		t.Skip("nftables works here; the test runs in the cgroup v2 VM with nf_tables withheld (CGROUP_V2_WITHHOLD=nf_tables bash .ci/cgroup-v2; CI does)")
	} else {
		t.Logf("on this host: %v", err)
	}
	c := newCLI(t)
	plain := sandboxtest.UniqueName("plain")
	c.Ok("run", "-d", "--name", plain, "busybox", "sleep", "600")
	c.Ok("rm", "-f", plain)

	port := sandboxtest.FreePort(t)
	pub := sandboxtest.UniqueName("pub")
	c.Ok("run", "-d", "--name", pub, "-p", fmt.Sprintf("%d:8000", port), "calculator")
	sb := c.waitFor(pub, "healthy", func(sb *state.Sandbox) bool { return sb.Health == state.HealthHealthy })
	if _, err := getJSON(fmt.Sprintf("http://127.0.0.1:%d/health", port)); err != nil {
		t.Errorf("the published port does not answer: %v", err)
	}
	if p := sb.Network.Ports[0]; p.Via != state.ViaProxy || p.ProxyReason != network.ProxyNoNftables {
		t.Errorf("the port is recorded as via %q (%q), want the proxy, for want of nftables", p.Via, p.ProxyReason)
	}
	if out := c.Ok("ps", "--no-trunc"); !strings.Contains(out, "(proxy: nftables unavailable)") {
		t.Errorf("ps does not say why the proxy carries the port:\n%s", out)
	}
	if out := c.Ok("inspect", pub); !strings.Contains(out, "userland proxy (nftables unavailable)") {
		t.Errorf("inspect does not say why the proxy carries the port:\n%s", out)
	}
	c.Ok("stop", "-t", "1", pub)
	if out, errs, code := c.Run("prune"); code != 0 || errs != "" {
		t.Errorf("prune: exit %d, stderr %q (stdout %q)", code, errs, out)
	}
	if strings.Contains(c.Ok("ps", "-a"), pub) {
		t.Errorf("prune left %s", pub)
	}
}
