package network

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// The host's firewall and glassbox's bridges.
//
// Sandboxes on one bridge talk through it at layer 2. With br_netfilter
// loaded and net.bridge.bridge-nf-call-iptables=1, which dockerd sets up
// (and which is built into some kernels), every bridged IPv4 packet also
// goes through the host's iptables FORWARD chain; dockerd sets that
// chain's policy to DROP when it turns ip_forward on, as it does at boot.
// On such a host, traffic between two sandboxes is dropped, silently.
//
// glassbox lets its own traffic through with a chain of its own,
// GLASSBOX-FORWARD, which FORWARD jumps to, holding one rule per bridge
// (-i BR -o BR -j ACCEPT). It is appended: dockerd inserts its own rules
// above it, and they look only at docker's bridges. Measured with Debian's
// dockerd 20.10: the jump and the chain survive a restart of dockerd, and a
// dockerd that starts after glassbox leaves them alone; a rule in
// DOCKER-USER (docker's documented hook) survives restarts too, but
// DOCKER-USER exists only once dockerd has run, so a glassbox that set its
// bridge up first would have nowhere to put it. An accept in an nftables
// table of glassbox's own would not do: a packet that any base chain drops
// is dropped, whatever another chain accepted.
//
// The rules go through the iptables command, as dockerd's do, so they land
// in whichever backend (nft or legacy) the host's iptables uses. Without
// the command there is no iptables firewall to pass (no docker either).
// Whether the host still drops the traffic, for any reason, is measured
// separately (counters.go).

// hostFirewall readies the host's firewall for bridge's traffic: the
// accept rule, and the counters that show whether it is dropped all the
// same. Neither is needed for the sandbox to start: what fails is returned
// as a note for its record, and inspect shows it.
func hostFirewall(bridge string) string {
	var notes []string
	if err := allowBridge(bridge); err != nil {
		notes = append(notes, "the iptables rule that lets sandboxes on "+bridge+" reach each other could not be added: "+err.Error())
	}
	if err := countBridge(bridge); err != nil && nftablesWorks() {
		notes = append(notes, "the packet counters of "+bridge+" could not be added: "+err.Error())
	}
	return strings.Join(notes, "; ")
}

// RemoveBridge deletes a bridge that no sandbox uses any more, with what
// glassbox set up for it on the host: its iptables rule (and the chain,
// once empty), its packet counters and its forwarding guard (the bridge's
// forwarding setting goes with the device).
func RemoveBridge(bridge string) error {
	var errs []error
	if l, err := netlink.LinkByName(bridge); err == nil {
		if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete bridge %s: %w", bridge, err))
		}
	}
	errs = append(errs, ForgetBridge(bridge), forgetCounters(bridge), forgetForwardGuard(bridge))
	return errors.Join(errs...)
}

// ForwardChain is glassbox's chain in the host's iptables filter table;
// IptablesLock serialises glassbox's own changes to it across processes
// (iptables -w serialises each command, not check-then-change).
const (
	ForwardChain = state.IptablesChain
	IptablesLock = state.IptablesLock
)

// iptablesCmd is the iptables command; tests point it elsewhere.
var iptablesCmd = "iptables"

func acceptRule(bridge string) []string {
	return []string{"-i", bridge, "-o", bridge, "-m", "comment", "--comment",
		"glassbox: sandboxes on " + bridge + " reach each other", "-j", "ACCEPT"}
}

// savedAcceptRule is acceptRule(bridge) as iptables-save prints it.
func savedAcceptRule(bridge string) string {
	return "-A " + ForwardChain + " -i " + bridge + " -o " + bridge + ` -m comment --comment "glassbox: sandboxes on ` + bridge + ` reach each other" -j ACCEPT`
}

// allowBridge makes sure the host's iptables FORWARD chain lets traffic
// between the sandboxes on bridge through. It looks first (one
// iptables-save) and changes only what is missing.
func allowBridge(bridge string) error {
	if _, err := exec.LookPath(iptablesCmd); err != nil {
		return nil
	}
	if fw, err := readForward(); err == nil && fw.jump && fw.bridges[bridge] {
		return nil
	}
	unlock, err := lockIptables()
	if err != nil {
		return err
	}
	defer unlock()
	fw, err := readForward()
	if err != nil {
		return err
	}
	if !fw.chain {
		if err := iptables("-N", ForwardChain); err != nil {
			return err
		}
	}
	if !fw.bridges[bridge] {
		if err := iptables(append([]string{"-A", ForwardChain}, acceptRule(bridge)...)...); err != nil {
			return err
		}
	}
	if !fw.jump {
		if err := iptables("-A", "FORWARD", "-j", ForwardChain); err != nil {
			return err
		}
	}
	return nil
}

// ForgetBridge removes what allowBridge added for bridge: its rule, and the
// chain and FORWARD's jump to it once no bridge is left in it.
func ForgetBridge(bridge string) error {
	if _, err := exec.LookPath(iptablesCmd); err != nil {
		return nil
	}
	unlock, err := lockIptables()
	if err != nil {
		return err
	}
	defer unlock()
	fw, err := readForward()
	if err != nil || !fw.chain {
		return err
	}
	if fw.bridges[bridge] {
		err := iptables(append([]string{"-D", ForwardChain}, acceptRule(bridge)...)...)
		if err != nil && !goneMeanwhile(func(now forward) bool { return !now.bridges[bridge] }) {
			return err
		}
		delete(fw.bridges, bridge)
	}
	if len(fw.bridges) > 0 || fw.others {
		return nil
	}
	if fw.jump {
		err := iptables("-D", "FORWARD", "-j", ForwardChain)
		if err != nil && !goneMeanwhile(func(now forward) bool { return !now.jump }) {
			return err
		}
	}
	err = iptables("-X", ForwardChain)
	if err != nil && goneMeanwhile(func(now forward) bool { return !now.chain }) {
		return nil
	}
	return err
}

// goneMeanwhile says whether what a failed delete was to remove is gone
// all the same: the lock is glassbox's, and an iptables-restore of someone
// else's (a firewall reload, docker's test kit) may have taken it first.
func goneMeanwhile(gone func(forward) bool) bool {
	now, err := readForward()
	return err == nil && gone(now)
}

// forward is what the host's filter table holds of glassbox's.
type forward struct {
	chain   bool            // GLASSBOX-FORWARD exists
	jump    bool            // FORWARD jumps to it
	bridges map[string]bool // bridges with their accept rule
	others  bool            // rules of someone else's in the chain
}

func readForward() (forward, error) {
	fw := forward{bridges: map[string]bool{}}
	out, err := exec.Command(iptablesCmd+"-save", "-t", "filter").Output()
	if err != nil {
		return fw, fmt.Errorf("%s-save: %w", iptablesCmd, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == ":"+ForwardChain || strings.HasPrefix(line, ":"+ForwardChain+" "):
			fw.chain = true
		case line == "-A FORWARD -j "+ForwardChain:
			fw.jump = true
		case strings.HasPrefix(line, "-A "+ForwardChain+" "):
			// A bridge's rule is one exactly as allowBridge writes it;
			// any other rule in the chain is someone else's, left alone.
			f := strings.Fields(line)
			if len(f) >= 4 && f[2] == "-i" && line == savedAcceptRule(f[3]) {
				fw.bridges[f[3]] = true
			} else {
				fw.others = true
			}
		}
	}
	return fw, nil
}

func iptables(args ...string) error {
	out, err := exec.Command(iptablesCmd, append([]string{"-w", "-t", "filter"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", iptablesCmd, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func lockIptables() (func(), error) {
	f, err := os.OpenFile(IptablesLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", IptablesLock, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", IptablesLock, err)
	}
	return func() { f.Close() }, nil
}

// ForgetGoneBridges removes the iptables rules and packet counters of
// bridges that no longer exist (deleted by hand, or a test's): prune's
// part for the host's firewall. It returns the bridges it forgot.
func ForgetGoneBridges() ([]string, error) {
	named := map[string]bool{}
	if _, err := exec.LookPath(iptablesCmd); err == nil {
		if fw, err := readForward(); err == nil {
			for b := range fw.bridges {
				named[b] = true
			}
		}
	}
	for _, b := range append(countedBridges(), guardedBridges()...) {
		named[b] = true
	}
	var gone []string
	var errs []error
	for b := range named {
		if _, err := netlink.LinkByName(b); err == nil || !isNotFound(err) {
			continue
		}
		if err := errors.Join(ForgetBridge(b), forgetCounters(b), forgetForwardGuard(b)); err != nil {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, b)
	}
	return gone, errors.Join(errs...)
}
