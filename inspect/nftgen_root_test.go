package inspect

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// The ruleset's generation stays while nothing changes and moves with any
// change of any table: what lets a reading of the firewall keep its
// reading of iptables-nft's chains.
func TestRootNFTGenerationMovesWithAChange(t *testing.T) {
	sandboxtest.RequireRoot(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("no nft")
	}
	nf, err := openNFT()
	if err != nil {
		t.Fatal(err)
	}
	defer nf.close()
	gen := func() uint32 {
		t.Helper()
		g, err := nf.generation()
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	a, b := gen(), gen()
	if a != b {
		t.Logf("the ruleset changed meanwhile (%d, then %d): someone else's doing", a, b)
	}
	table := fmt.Sprintf("glassbox_test_gen_%d", os.Getpid())
	if out, err := exec.Command("nft", "add", "table", "ip", table).CombinedOutput(); err != nil {
		t.Fatalf("nft add table: %v: %s", err, out)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			exec.Command("nft", "delete", "table", "ip", table).Run()
		}
	})
	c := gen()
	if out, err := exec.Command("nft", "delete", "table", "ip", table).CombinedOutput(); err != nil {
		t.Fatalf("nft delete table: %v: %s", err, out)
	}
	removed = true
	d := gen()
	if c == b || d == c {
		t.Errorf("generations %d, %d (table added), %d (removed): want each change to move it", b, c, d)
	}
}
