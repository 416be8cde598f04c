package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// fakeIptables points iptablesCmd at a script whose ruleset is the file
// rules (what iptables-save prints) and whose every change fails as
// iptables does for a rule that is not there ("Bad rule"); before failing,
// a delete runs meanwhile, a shell command standing for whoever else
// rewrote the firewall in between.
func fakeIptables(t *testing.T, rules, meanwhile string) {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "rules")
	if err := os.WriteFile(state, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("iptables-save", "cat "+state)
	write("iptables", "STATE="+state+"\n"+meanwhile+"\necho 'iptables: Bad rule (does a matching rule exist in that chain?).' >&2\nexit 1")
	old := iptablesCmd
	iptablesCmd = filepath.Join(dir, "iptables")
	t.Cleanup(func() { iptablesCmd = old })
}

const ruleOfBr0 = `-A GLASSBOX-FORWARD -i br0 -o br0 -m comment --comment "glassbox: sandboxes on br0 reach each other" -j ACCEPT`

// ForgetBridge is done when what it was to delete is gone, even if
// someone else's iptables-restore took it between its look and its
// delete; a delete that fails with the rule still there is an error.
func TestForgetBridgeWhenTheRuleWentMeanwhile(t *testing.T) {
	sandboxtest.RequireRoot(t) // glassbox's iptables lock is in /run
	withOthers := "*filter\n:FORWARD ACCEPT [0:0]\n:GLASSBOX-FORWARD - [0:0]\n-A FORWARD -j GLASSBOX-FORWARD\n" +
		ruleOfBr0 + "\n" + strings.Replace(ruleOfBr0, "br0", "br1", -1) + "\nCOMMIT\n"
	fakeIptables(t, withOthers, `grep -v ' br0 ' "$STATE" > "$STATE.new"; mv "$STATE.new" "$STATE"`)
	if err := ForgetBridge("br0"); err != nil {
		t.Errorf("the rule went meanwhile: %v", err)
	}

	alone := "*filter\n:FORWARD ACCEPT [0:0]\n:GLASSBOX-FORWARD - [0:0]\n-A FORWARD -j GLASSBOX-FORWARD\n" + ruleOfBr0 + "\nCOMMIT\n"
	fakeIptables(t, alone, `: > "$STATE"`)
	if err := ForgetBridge("br0"); err != nil {
		t.Errorf("the rule, the jump and the chain went meanwhile: %v", err)
	}

	fakeIptables(t, withOthers, `:`)
	if err := ForgetBridge("br0"); err == nil || !strings.Contains(err.Error(), "Bad rule") {
		t.Errorf("a delete that failed with the rule still there: got %v, want iptables' error", err)
	}
}

// A rule in glassbox's chain that glassbox did not write (no comment of
// its own: by hand, or another tool's) is not a bridge's, even for a
// bridge that is gone: prune leaves it and the chain alone.
func TestForgetLeavesRulesItDidNotWrite(t *testing.T) {
	sandboxtest.RequireRoot(t) // glassbox's iptables lock is in /run
	byHand := "*filter\n:FORWARD ACCEPT [0:0]\n:GLASSBOX-FORWARD - [0:0]\n-A FORWARD -j GLASSBOX-FORWARD\n" +
		"-A GLASSBOX-FORWARD -i gone0 -o gone0 -j ACCEPT\nCOMMIT\n"
	fakeIptables(t, byHand, `echo "$@" >> "$STATE.calls"`)
	forgot, err := ForgetGoneBridges()
	if err != nil || len(forgot) != 0 {
		t.Errorf("ForgetGoneBridges with only a rule glassbox did not write: forgot %v, %v", forgot, err)
	}
	if err := ForgetBridge("gone0"); err != nil {
		t.Errorf("ForgetBridge of a bridge whose only rule is someone else's: %v", err)
	}
	if calls, err := os.ReadFile(filepath.Join(filepath.Dir(iptablesCmd), "rules.calls")); err == nil {
		t.Errorf("iptables was asked to change the firewall: %s", calls)
	}
}
