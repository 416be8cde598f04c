package state

import "testing"

// A sandbox's service is reached on the published port of the image's
// exposed port, whatever its number, else on its bridge address.
func TestServiceAddr(t *testing.T) {
	for _, c := range []struct {
		sb   Sandbox
		want string
	}{
		{Sandbox{Expose: []int{9000}, Network: Network{IP: "10.123.0.5", Ports: []Port{
			{HostIP: "127.0.0.1", HostPort: 18001, ContainerPort: 22},
			{HostIP: "0.0.0.0", HostPort: 18002, ContainerPort: 9000}}}}, "127.0.0.1:18002"},
		{Sandbox{Expose: []int{9000}, Network: Network{IP: "10.123.0.5"}}, "10.123.0.5:9000"},
		{Sandbox{Network: Network{Ports: []Port{{HostIP: "127.0.0.2", HostPort: 8080, ContainerPort: 80}}}}, "127.0.0.2:8080"},
		{Sandbox{Network: Network{Ports: []Port{{HostPort: 8080, ContainerPort: 80}}}}, "127.0.0.1:8080"},
		{Sandbox{Network: Network{Ports: []Port{{HostIP: "::1", HostPort: 8080, ContainerPort: 80}}}}, "[::1]:8080"},
		{Sandbox{Network: Network{IP: "10.123.0.5"}}, ""},                                                                  // exposes nothing
		{Sandbox{Network: Network{Ports: []Port{{HostPort: 1, ContainerPort: 80}, {HostPort: 2, ContainerPort: 81}}}}, ""}, // which one?
	} {
		if got := c.sb.ServiceAddr(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sb.Network, got, c.want)
		}
	}
}
