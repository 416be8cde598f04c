package words

import (
	"strings"
	"testing"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

func TestFirewallWords(t *testing.T) {
	for _, c := range []struct {
		fw    *inspect.Firewall
		want  []string // in the lines, in order
		alarm string
	}{
		{nil, nil, ""},
		{&inspect.Firewall{Bridge: "glassbox0", Seen: 40, Passed: 40}, []string{"40 packets, none dropped"}, ""},
		{&inspect.Firewall{Bridge: "glassbox0", Unmeasured: "nftables unavailable: operation not supported"}, []string{"not measured (nftables unavailable"}, ""},
		{&inspect.Firewall{Bridge: "glassbox0", Seen: 50, Passed: 38, Dropped: 12, DroppedDelta: 3, IntervalSeconds: 2, ForwardPolicy: "DROP"},
			[]string{"dropped 12 of 50 packets", "3 in the last 2.0 s", "FORWARD policy is DROP", "missing", "iptables -S GLASSBOX-FORWARD"},
			"dropped 3 packets between sandboxes on glassbox0"},
		{&inspect.Firewall{Bridge: "gb1", Seen: 9, Passed: 4, Dropped: 5, DroppedDelta: 1, IntervalSeconds: 1, ForwardPolicy: "DROP", RuleInPlace: true},
			[]string{"dropped 5 of 9", "rule for gb1 is in place, yet another filter drops the traffic", "iptables -S DOCKER-USER"}, "dropped 1 packet between"},
		{&inspect.Firewall{Bridge: "gb1", Seen: 9, Passed: 4, Dropped: 5, ForwardPolicy: "DROP", RuleInPlace: true},
			[]string{"dropped 5 of 9", "the drops were earlier"}, ""},
		{&inspect.Firewall{Bridge: "gb1", Seen: 9, Passed: 9, Note: "the iptables rule … could not be added: exit 4"},
			[]string{"none dropped", "when it attached: the iptables rule"}, ""},
	} {
		got := strings.Join(Firewall(c.fw), "\n")
		at := 0
		for _, w := range c.want {
			i := strings.Index(got[at:], w)
			if i < 0 {
				t.Errorf("%+v:\n%s\nlacks %q (in order)", c.fw, got, w)
				break
			}
			at += i + len(w)
		}
		if a := FirewallAlarm(c.fw); (c.alarm == "") != (a == "") || !strings.Contains(a, c.alarm) {
			t.Errorf("%+v: alarm %q, want %q", c.fw, a, c.alarm)
		}
	}
}

func TestPortsSayWhyTheProxyCarriesThem(t *testing.T) {
	ps := []state.Port{
		{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp", Via: state.ViaProxy, ProxyReason: "nftables unavailable"},
		{HostIP: "127.0.0.1", HostPort: 8001, ContainerPort: 8000, Proto: "tcp", Via: state.ViaKernel},
	}
	if got, want := Ports(ps), "127.0.0.1:8000->8000/tcp (proxy: nftables unavailable), 127.0.0.1:8001->8000/tcp"; got != want {
		t.Errorf("Ports = %q, want %q", got, want)
	}
	if got := Via(ps[0]); got != "proxy: nftables unavailable" {
		t.Errorf("Via = %q", got)
	}
}
