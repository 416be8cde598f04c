package inspect_test

import (
	"testing"

	"glassbox/inspect"
	"glassbox/sandbox/sandboxtest"
)

// An Inspector reads the host's firewall again on the nfnetlink socket it
// kept from its first reading: every reading is measured and agrees with
// the first.
func TestFirewallReadAgainOnTheKeptSocket(t *testing.T) {
	defer inspect.SetSlowRefresh(0)()
	c := sandboxtest.NewCLI(t)
	sb := c.StartCalculator()
	if sb.Network.Mode != "bridge" {
		t.Fatalf("the calculator is on network %q, want the default bridge", sb.Network.Mode)
	}
	in, err := inspect.New(hostFS(t), sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var first *inspect.Firewall
	for i := range 4 {
		s, err := in.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		fw := s.Network.Firewall
		if fw == nil || fw.Unmeasured != "" || fw.Bridge != sb.Network.Bridge {
			t.Fatalf("reading %d: %+v", i+1, fw)
		}
		if first == nil {
			first = fw
			continue
		}
		if fw.ForwardPolicy != first.ForwardPolicy || fw.RuleInPlace != first.RuleInPlace || fw.Seen < first.Seen || fw.Passed < first.Passed {
			t.Errorf("reading %d: %+v, the first: %+v", i+1, fw, first)
		}
	}
}
