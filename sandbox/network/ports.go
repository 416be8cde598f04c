package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"glassbox/sandbox/state"
)

// PortHelp is the help text of -p.
const PortHelp = "publish a sandbox's TCP port on the host: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp], repeatable; " +
	"HOST_IP defaults to 127.0.0.1 (this machine only, unlike docker's 0.0.0.0): name 0.0.0.0 to publish to the network"

// ParsePort reads one -p spec: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp].
// An IPv6 host address goes in brackets: [::1]:8000:8000.
func ParsePort(spec string) (state.Port, error) {
	bad := func(format string, a ...any) (state.Port, error) {
		return state.Port{}, fmt.Errorf("port %q: %s (want [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp])", spec, fmt.Sprintf(format, a...))
	}
	s := strings.TrimSpace(spec)
	if s == "" {
		return bad("empty")
	}
	proto := "tcp"
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		proto = strings.ToLower(s[i+1:])
		s = s[:i]
		if proto != "tcp" {
			if proto == "udp" || proto == "sctp" {
				return bad("%s is not supported, only tcp", proto)
			}
			return bad("unknown protocol %q, only tcp is supported", proto)
		}
	}
	hostIP := state.DefaultHostIP
	bracketed := strings.HasPrefix(s, "[")
	if bracketed { // [IPv6]:HOST_PORT:CONTAINER_PORT
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("missing ']' after the IPv6 address")
		}
		hostIP = s[1:end]
		s = strings.TrimPrefix(s[end+1:], ":")
		a, err := netip.ParseAddr(hostIP)
		if err != nil || !a.Is6() {
			return bad("%q is not an IPv6 address", hostIP)
		}
		hostIP = a.String()
	}
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
	case 3:
		if bracketed {
			return bad("too many ':'")
		}
		if parts[0] == "" {
			return bad("empty host IP")
		}
		a, err := netip.ParseAddr(parts[0])
		if err != nil || !a.Is4() {
			return bad("host IP %q is not an IPv4 address (IPv6 goes in brackets)", parts[0])
		}
		hostIP = a.String()
		parts = parts[1:]
	case 1:
		return bad("give both the host port and the container port")
	default:
		return bad("too many ':' (IPv6 host addresses go in brackets)")
	}
	hostPort, err := parsePortNumber("host", parts[0])
	if err != nil {
		return bad("%v", err)
	}
	ctrPort, err := parsePortNumber("container", parts[1])
	if err != nil {
		return bad("%v", err)
	}
	return state.Port{HostIP: hostIP, HostPort: hostPort, ContainerPort: ctrPort, Proto: proto}, nil
}

func parsePortNumber(which, s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing %s port", which)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s port %q is not a number", which, s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s port %d is out of range 1-65535", which, n)
	}
	return n, nil
}

// checkDuplicates refuses two ports that want the same host port on
// overlapping addresses (0.0.0.0 overlaps every IPv4 address).
func checkDuplicates(ports []state.Port) error {
	for i, a := range ports {
		for _, b := range ports[:i] {
			if a.HostPort == b.HostPort && a.Proto == b.Proto && addrsOverlap(a.HostIP, b.HostIP) {
				return fmt.Errorf("host port %s is published twice (%d and %d in the sandbox)",
					hostAddr(a), b.ContainerPort, a.ContainerPort)
			}
		}
	}
	return nil
}

func addrsOverlap(a, b string) bool {
	x, errx := netip.ParseAddr(a)
	y, erry := netip.ParseAddr(b)
	if errx != nil || erry != nil {
		return a == b
	}
	return x == y || x.IsUnspecified() || y.IsUnspecified()
}

func hostAddr(p state.Port) string {
	return net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
}

// Listen binds every published port on the host, all or none: the
// supervisor calls it before the sandbox starts, so that a port in use is a
// clear error while nothing exists yet, and keeps the listeners for the
// proxy, so no other program can take the port in between.
func Listen(ports []state.Port) ([]*net.TCPListener, error) {
	if err := checkDuplicates(ports); err != nil {
		return nil, err
	}
	ls := make([]*net.TCPListener, 0, len(ports))
	for _, p := range ports {
		if p.Proto != "" && p.Proto != "tcp" {
			closeAll(ls)
			return nil, fmt.Errorf("publish %s/%s: only tcp is supported", hostAddr(p), p.Proto)
		}
		l, err := net.Listen("tcp", hostAddr(p))
		if err != nil {
			closeAll(ls)
			return nil, portError(p, err)
		}
		ls = append(ls, l.(*net.TCPListener))
	}
	return ls, nil
}

// CheckPorts says whether every port could be published now. Listen is
// better where the listeners can be kept: nothing can take a port between
// the check and the use.
func CheckPorts(ports []state.Port) error {
	ls, err := Listen(ports)
	closeAll(ls)
	return err
}

func portError(p state.Port, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("cannot publish %s: the port is already in use on the host (choose another HOST_PORT)", hostAddr(p))
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("cannot publish %s: %s is not an address of this host", hostAddr(p), p.HostIP)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("cannot publish %s: ports below 1024 need root", hostAddr(p))
	}
	return fmt.Errorf("publish %s: %w", hostAddr(p), err)
}

func closeAll(ls []*net.TCPListener) {
	for _, l := range ls {
		l.Close()
	}
}
