package ui

import (
	"strings"
	"testing"

	"glassbox/inspect"
)

// The header warns while the host's firewall drops packets between
// sandboxes (issue 16, docker on the same machine): from the counters of
// two refreshes, only while the drops go on, and whole on a terminal of
// 100 columns.
func TestHeaderWarnsWhileTheFirewallDrops(t *testing.T) {
	rs := rounds(3, calc())
	for i, c := range []struct{ seen, passed uint64 }{{10, 10}, {20, 14}, {30, 24}} {
		rs[i][0].Network.Firewall = &inspect.Firewall{Bridge: "glassbox0", Seen: c.seen, Passed: c.passed,
			Dropped: c.seen - c.passed, ForwardPolicy: "DROP"}
	}
	const alarm = "the host's firewall dropped 6 packets between sandboxes on glassbox0 (inspect says why)"
	for n, want := range []bool{false, true, false} {
		view := fixtureModel(t, 100, 30, rs[:n+1]...).View()
		if got := strings.Contains(view, alarm); got != want {
			t.Errorf("after %d refreshes: the alarm shows %v, want %v\n%s", n+1, got, want, view)
		}
	}
}
