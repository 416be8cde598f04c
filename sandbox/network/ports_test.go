package network

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

func TestParsePort(t *testing.T) {
	good := []struct {
		spec string
		want state.Port
	}{
		{"8000:8000", state.Port{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp"}},
		{"8080:80/tcp", state.Port{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		{"0.0.0.0:80:8000", state.Port{HostIP: "0.0.0.0", HostPort: 80, ContainerPort: 8000, Proto: "tcp"}},
		{"192.0.2.2:65535:1/TCP", state.Port{HostIP: "192.0.2.2", HostPort: 65535, ContainerPort: 1, Proto: "tcp"}},
		{"[::1]:8000:8000", state.Port{HostIP: "::1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp"}},
		{" 1:2 ", state.Port{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: 2, Proto: "tcp"}},
	}
	for _, c := range good {
		got, err := ParsePort(c.spec)
		if err != nil || got != c.want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	bad := []struct{ spec, says string }{
		{"99999:1", "host port 99999 is out of range"},
		{"1:99999", "container port 99999 is out of range"},
		{"abc", "both the host port and the container port"},
		{"8000", "both the host port and the container port"},
		{"8000:", "missing container port"},
		{":80", "missing host port"},
		{"0:80", "host port 0 is out of range"},
		{"80:0", "container port 0 is out of range"},
		{"-1:80", "out of range"},
		{"a:80", `host port "a" is not a number`},
		{"80:b", `container port "b" is not a number`},
		{"80:80/udp", "udp is not supported, only tcp"},
		{"80:80/sctp", "sctp is not supported"},
		{"80:80/http", `unknown protocol "http"`},
		{"1.2.3:80:80", `host IP "1.2.3" is not an IPv4 address`},
		{"localhost:80:80", `host IP "localhost"`},
		{"::1:80:80", "too many ':'"},
		{"[::1:80:80", "missing ']'"},
		{"[1.2.3.4]:80:80", "not an IPv6 address"},
		{"[::1]:1:80:80", "too many ':'"},
		{":80:80", "empty host IP"},
		{"1.2.3.4:5:6:7", "too many ':'"},
		{"", "empty"},
	}
	for _, c := range bad {
		_, err := ParsePort(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "HOST_PORT:CONTAINER_PORT") {
			t.Errorf("ParsePort(%q): %v; want an error saying %q and the syntax", c.spec, err, c.says)
		}
	}
}

func TestDuplicatePorts(t *testing.T) {
	parse := func(specs []string) []state.Port {
		var ports []state.Port
		for _, s := range specs {
			p, err := ParsePort(s)
			if err != nil {
				t.Fatal(err)
			}
			ports = append(ports, p)
		}
		return ports
	}
	if err := checkDuplicates(parse([]string{"8000:80", "8001:80", "127.0.0.2:8000:81"})); err != nil {
		t.Errorf("distinct ports: %v", err)
	}
	for _, specs := range [][]string{
		{"8000:80", "8000:81"},
		{"0.0.0.0:8000:80", "127.0.0.1:8000:81"},
		{"8000:80", "0.0.0.0:8000:81"},
	} {
		if err := checkDuplicates(parse(specs)); err == nil || !strings.Contains(err.Error(), "published twice") {
			t.Errorf("checkDuplicates(%q): %v; want published twice", specs, err)
		}
	}
}

func TestCheckPortsInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := sandboxtest.FreePort(t)

	ports := []state.Port{
		{HostIP: "127.0.0.1", HostPort: free, ContainerPort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: busyPort, ContainerPort: 81, Proto: "tcp"},
	}
	err = CheckPorts(ports)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), strconv.Itoa(busyPort)) {
		t.Fatalf("CheckPorts with a busy port: %v", err)
	}
	// All or nothing: the free port was not kept bound.
	if err := CheckPorts(ports[:1]); err != nil {
		t.Errorf("the free port is not free after the failed check: %v", err)
	}
	if err := CheckPorts([]state.Port{{HostIP: "192.0.2.254", HostPort: free, ContainerPort: 1, Proto: "tcp"}}); err == nil || !strings.Contains(err.Error(), "not an address of this host") {
		t.Errorf("a foreign address: %v", err)
	}
	ls, err := Listen(ports[:1])
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(ls)
	if err := CheckPorts(ports[:1]); err == nil {
		t.Error("a port held by Listen is reported free")
	}
}
