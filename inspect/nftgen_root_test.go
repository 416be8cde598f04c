package inspect

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
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

// readCounters asks for a bridge's counter rules by their handles while
// the generation holds, and declines (so the chains are read whole) once
// any rule changed, or a rule is gone.
func TestRootNFTReadCountersByHandle(t *testing.T) {
	sandboxtest.RequireRoot(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("no nft")
	}
	table := fmt.Sprintf("glassbox_test_counters_%d", os.Getpid())
	nftCmd := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("nft", args...).CombinedOutput(); err != nil {
			t.Fatalf("nft %v: %v: %s", args, err, out)
		}
	}
	nftCmd("add", "table", "ip", table)
	t.Cleanup(func() { exec.Command("nft", "delete", "table", "ip", table).Run() })
	const bridge = "gbtest0"
	comment := state.BridgeCounterComment(bridge)
	for _, ch := range []string{state.ForwardSeenChain, state.ForwardPassedChain} {
		nftCmd("add", "chain", "ip", table, ch)
	}
	nftCmd("add", "rule", "ip", table, state.ForwardSeenChain, "counter", "packets", "7", "bytes", "700", "comment", `"`+comment+`"`)
	nftCmd("add", "rule", "ip", table, state.ForwardPassedChain, "counter", "packets", "5", "bytes", "500", "comment", `"`+comment+`"`)
	nftCmd("add", "rule", "ip", table, state.ForwardPassedChain, "counter", "packets", "99", "comment", `"`+state.BridgeCounterComment("other0")+`"`)

	nf, err := openNFT()
	if err != nil {
		t.Fatal(err)
	}
	defer nf.close()
	whole := func() (uint32, []ruleRef, *Firewall) {
		t.Helper()
		gen, err := nf.generation()
		if err != nil {
			t.Fatal(err)
		}
		fw := &Firewall{Bridge: bridge}
		var refs []ruleRef
		for _, ch := range []string{state.ForwardSeenChain, state.ForwardPassedChain} {
			if err := nf.rules(table, ch, func(r nftRule) {
				if b, _ := state.BridgeOfCounter(string(r.comment)); b == bridge {
					refs = append(refs, ruleRef{chain: ch, handle: r.handle})
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		return gen, refs, fw
	}
	gen, refs, prev := whole()
	if len(refs) != 2 || refs[0].handle == 0 || refs[1].handle == 0 {
		t.Fatalf("counter rules %+v", refs)
	}
	for range 2 {
		fw, ok := readCounters(nf, table, refs, gen, prev, "a note")
		if !ok {
			t.Skip("the ruleset changed meanwhile: someone else's doing")
		}
		if fw.Seen != 7 || fw.Passed != 5 || fw.Dropped != 2 || fw.Note != "a note" || fw.Bridge != bridge {
			t.Errorf("by handle: %+v", fw)
		}
	}
	// Another rule anywhere moves the generation: declined.
	nftCmd("add", "rule", "ip", table, state.ForwardSeenChain, "counter", "comment", `"`+comment+`"`)
	if fw, ok := readCounters(nf, table, refs, gen, prev, ""); ok {
		t.Errorf("read by handle after a rule was added: %+v", fw)
	}
	// A replaced rule keeps its handle: declined at the old generation,
	// read right at the new one.
	gen, refs, prev = whole()
	if len(refs) != 3 {
		t.Fatalf("counter rules %+v", refs)
	}
	nftCmd("replace", "rule", "ip", table, state.ForwardSeenChain, "handle", fmt.Sprint(refs[0].handle), "counter", "packets", "1", "comment", `"`+comment+`"`)
	if fw, ok := readCounters(nf, table, refs, gen, prev, ""); ok {
		t.Errorf("read by handle after a rule was replaced: %+v", fw)
	}
	gen, refs, prev = whole()
	if fw, ok := readCounters(nf, table, refs, gen, prev, ""); !ok || fw.Seen != 1 || fw.Passed != 5 || fw.Dropped != 0 {
		t.Errorf("by handle after the replacement: %+v, %v", fw, ok)
	}
	// A rule that is gone is declined, whatever the generation says.
	nftCmd("delete", "rule", "ip", table, state.ForwardSeenChain, "handle", fmt.Sprint(refs[0].handle))
	gen, _, _ = whole()
	if fw, ok := readCounters(nf, table, refs, gen, prev, ""); ok {
		t.Errorf("read by handle after a rule was deleted: %+v", fw)
	}
}
