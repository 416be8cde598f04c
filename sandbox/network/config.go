package network

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// DefaultBridge is the name of the host bridge sandboxes are attached to.
const DefaultBridge = "glassbox0"

// DefaultSubnet is the bridge's subnet unless GLASSBOX_SUBNET says otherwise.
//
// 10.123.0.0/24 keeps clear of what is usually already on a machine:
// docker (172.17.0.0/16 and the 172.18–31 user networks), podman
// (10.88.0.0/16), kubernetes (10.96.0.0/12 services, 10.244.0.0/16 flannel,
// 192.168.0.0/16 calico), libvirt (192.168.122.0/24), home routers
// (192.168.x) and the low 10.0–10.10 ranges that VPNs and clouds favour.
// A /24 holds 253 sandboxes. A clash is refused, never ignored.
var DefaultSubnet = netip.MustParsePrefix("10.123.0.0/24")

// SubnetEnv names the environment variable that moves the bridge's subnet.
const SubnetEnv = "GLASSBOX_SUBNET"

// Config is the bridge a sandbox is attached to and its subnet.
type Config struct {
	Bridge string
	Subnet netip.Prefix
}

// Option changes the Config of one Attach.
type Option func(*Config)

// WithBridge attaches to another bridge than glassbox0 (tests use their own).
func WithBridge(name string) Option { return func(c *Config) { c.Bridge = name } }

// WithSubnet sets the bridge's subnet.
func WithSubnet(p netip.Prefix) Option { return func(c *Config) { c.Subnet = p } }

// DefaultConfig is glassbox0 on DefaultSubnet, or on $GLASSBOX_SUBNET when it
// is set (an unreadable value is an error, not a silent default).
func DefaultConfig() (Config, error) {
	c := Config{Bridge: DefaultBridge, Subnet: DefaultSubnet}
	if s := strings.TrimSpace(os.Getenv(SubnetEnv)); s != "" {
		p, err := ParseSubnet(s)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", SubnetEnv, err)
		}
		c.Subnet = p
	}
	return c, nil
}

// ParseSubnet reads an IPv4 network in CIDR form, e.g. "10.123.0.0/24".
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("subnet %q: not in CIDR form like %s", s, DefaultSubnet)
	}
	if err := checkSubnet(p); err != nil {
		return netip.Prefix{}, err
	}
	return p, nil
}

func checkSubnet(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("no subnet given")
	}
	if !p.Addr().Is4() {
		return fmt.Errorf("subnet %s: only IPv4 subnets are supported", p)
	}
	if p.Masked() != p {
		return fmt.Errorf("subnet %s: not a network address (did you mean %s?)", p, p.Masked())
	}
	if p.Bits() < 8 || p.Bits() > 29 {
		return fmt.Errorf("subnet %s: the prefix length must be between /8 and /29", p)
	}
	if a := p.Addr(); a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
		return fmt.Errorf("subnet %s: loopback, link-local, multicast and 0.0.0.0/8 cannot be used", p)
	}
	return nil
}

// Validate checks the bridge name and subnet.
func (c Config) Validate() error {
	if err := checkIfName(c.Bridge); err != nil {
		return fmt.Errorf("bridge name: %w", err)
	}
	if strings.HasPrefix(c.Bridge, vethPrefix) {
		return fmt.Errorf("bridge name %q: %q is kept for the sandboxes' veth ends", c.Bridge, vethPrefix)
	}
	return checkSubnet(c.Subnet)
}

// Gateway is the bridge's own address, the subnet's first.
func (c Config) Gateway() netip.Addr { return c.Subnet.Addr().Next() }

// hosts calls f with every address a sandbox may get: from .2 up to the
// last before the broadcast address, until f returns false.
func (c Config) hosts(f func(netip.Addr) bool) {
	for a := c.Gateway().Next(); c.Subnet.Contains(a); a = a.Next() {
		if !c.Subnet.Contains(a.Next()) { // a is the broadcast address
			return
		}
		if !f(a) {
			return
		}
	}
}

// checkIfName applies the kernel's rules for interface names.
func checkIfName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty")
	case len(name) > 15:
		return fmt.Errorf("%q is longer than the kernel's 15 characters", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not allowed", name)
	case strings.ContainsAny(name, "/: \t\n"):
		return fmt.Errorf("%q contains '/', ':' or a space", name)
	}
	return nil
}

// macFor derives a locally administered MAC address from an IPv4 address,
// the way docker did: an address reused by a new sandbox keeps its MAC, so
// the host's ARP cache never points at a veth that is gone.
func macFor(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x67, 0x62, b[1], b[2], b[3]} // 02:"g":"b":…
}
