package network

import (
	"fmt"
	"strings"
)

// Mode is how a sandbox is attached to the network.
type Mode string

const (
	// Bridge gives the sandbox its own network namespace, attached to the
	// host bridge by a veth pair.
	Bridge Mode = "bridge"
	// None gives the sandbox its own network namespace with loopback only.
	None Mode = "none"
	// Host leaves the sandbox in the host's network namespace.
	Host Mode = "host"
)

// DefaultMode is the mode of a sandbox that names none.
const DefaultMode = Bridge

// ModeHelp is the help text of --network.
const ModeHelp = `network mode: "bridge" (own namespace on the glassbox0 bridge), "none" (own namespace, loopback only) or "host" (the host's network)`

// NATHelp says what the sandbox can reach; the run verb shows it.
const NATHelp = "outbound network access (NAT) is not set up: sandboxes reach the host and each other only"

// ParseMode reads a --network value. The empty string is the default mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.TrimSpace(s)); m {
	case "":
		return DefaultMode, nil
	case Bridge, None, Host:
		return m, nil
	default:
		return "", fmt.Errorf("unknown network mode %q: use bridge, none or host", s)
	}
}

// OwnNetns says whether a sandbox in this mode gets its own network
// namespace (CLONE_NEWNET): every mode but host.
func (m Mode) OwnNetns() bool { return m != Host }

func (m Mode) String() string { return string(m) }
