package lifecycle

import (
	"strings"
	"testing"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/state"
)

// TestPrepareRefusesBadRequests: every run flag whose value can be wrong
// once parsed is refused by prepare, the one place a request is checked,
// with a message that names the problem — and without root, since the
// user's input is checked before the host.
func TestPrepareRefusesBadRequests(t *testing.T) {
	e := New(state.RootsAt(t.TempDir()))
	cases := []struct {
		name     string
		detached bool
		edit     func(*Request)
		want     string
	}{
		{"--restart without -d", false, func(r *Request) { r.Restart = Policy{Mode: "no"} }, "--restart needs -d"},
		{"--stop-timeout without -d", false, func(r *Request) { r.StopTimeout = time.Second }, "--stop-timeout needs -d"},
		{"negative --stop-timeout", true, func(r *Request) { r.StopTimeout = -time.Second }, "cannot be negative"},
		{"--name", true, func(r *Request) { r.Config.Name = "no/slash" }, "invalid name"},
		{"--hostname", false, func(r *Request) { r.Config.Hostname = "bad_host!" }, "invalid hostname"},
		{"-e", false, func(r *Request) { r.Config.Env = []string{"NOEQUALS"} }, "want KEY=VALUE"},
		{"-e empty key", false, func(r *Request) { r.Config.Env = []string{"=1"} }, "empty name"},
		{"--workdir", false, func(r *Request) { r.Config.WorkDir = "relative" }, "absolute"},
		{"--memory", false, func(r *Request) { r.Config.Resources.MemoryBytes = 4 << 20 }, "below the minimum"},
		{"--cpus", false, func(r *Request) {
			r.Config.Resources.CPUQuotaUS, r.Config.Resources.CPUPeriodUS = cgroup.CPUs(4096)
		}, "more than the"},
		{"--pids-limit", false, func(r *Request) { r.Config.Resources.PidsLimit = -1 }, "negative"},
		{"--network", true, func(r *Request) { r.Config.Network = "wifi" }, "unknown network mode"},
		{"-p with --network none", true, func(r *Request) {
			r.Config.Network = sandbox.NetworkNone
			r.Ports = []state.Port{{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp"}}
		}, "-p needs a network"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var req Request
			c.edit(&req)
			_, err := e.prepare(&req, c.detached)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("prepare = %v, want an error with %q", err, c.want)
			}
		})
	}
}
