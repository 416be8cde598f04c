package network

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

// ModeHelp is the help text of --network.
const ModeHelp = `network mode: "bridge" (own namespace on the glassbox0 bridge), "none" (own namespace, loopback only) or "host" (the host's network)`

// NATHelp says what the sandbox can reach; the run verb shows it.
const NATHelp = "outbound network access (NAT) is not set up: sandboxes reach the host and each other only"

func (m Mode) String() string { return string(m) }
