package lifecycle

import (
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

func TestParsePolicy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Policy
		ok   bool
	}{
		{"", Policy{Mode: "no"}, true},
		{"no", Policy{Mode: "no"}, true},
		{"always", Policy{Mode: "always"}, true},
		{"on-failure", Policy{Mode: "on-failure"}, true},
		{"on-failure:3", Policy{Mode: "on-failure", Max: 3}, true},
		{"on-failure:0", Policy{Mode: "on-failure"}, true},
		{"on-failure:", Policy{}, false},
		{"on-failure:-1", Policy{}, false},
		{"on-failure:x", Policy{}, false},
		{"always:3", Policy{}, false},
		{"no:1", Policy{}, false},
		{"unless-stopped", Policy{}, false},
		{"sometimes", Policy{}, false},
	} {
		got, err := ParsePolicy(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %+v, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestShouldRestart(t *testing.T) {
	ok := &state.Exit{Code: 0}
	bad := &state.Exit{Code: 1}
	oom := &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true}
	onf3, _ := ParsePolicy("on-failure:3")
	onf, _ := ParsePolicy("on-failure")
	always, _ := ParsePolicy("always")
	no, _ := ParsePolicy("no")
	for _, c := range []struct {
		p        Policy
		e        *state.Exit
		restarts int
		stopped  bool
		want     bool
	}{
		{no, bad, 0, false, false},
		{always, ok, 0, false, true},
		{always, ok, 100, false, true},
		{always, bad, 0, true, false},
		{onf, ok, 0, false, false},
		{onf, bad, 0, false, true},
		{onf, oom, 7, false, true},
		{onf3, oom, 2, false, true},
		{onf3, oom, 3, false, false},
		{onf3, bad, 0, true, false},
	} {
		if got := c.p.ShouldRestart(c.e, c.restarts, c.stopped); got != c.want {
			t.Errorf("%s.ShouldRestart(%+v, %d, stopped=%v) = %v, want %v", c.p, c.e, c.restarts, c.stopped, got, c.want)
		}
	}
	if backoff(0) != 100*time.Millisecond || backoff(100) != 10*time.Second {
		t.Errorf("backoff: %s, %s", backoff(0), backoff(100))
	}
}

func TestParseSignal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want syscall.Signal
		ok   bool
	}{
		{"KILL", syscall.SIGKILL, true},
		{"SIGKILL", syscall.SIGKILL, true},
		{"term", syscall.SIGTERM, true},
		{"SigHup", syscall.SIGHUP, true},
		{"9", syscall.SIGKILL, true},
		{"15", syscall.SIGTERM, true},
		{"usr1", syscall.SIGUSR1, true},
		{"0", 0, false},
		{"65", 0, false},
		{"-9", 0, false},
		{"", 0, false},
		{"NOPE", 0, false},
		{"SIG", 0, false},
	} {
		got, err := ParseSignal(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	if SignalName(syscall.SIGTERM) != "SIGTERM" {
		t.Errorf("SignalName(SIGTERM) = %q", SignalName(syscall.SIGTERM))
	}
}

func TestNames(t *testing.T) {
	taken := map[string]bool{}
	for i := 0; i < 3000; i++ { // more than the adjective×noun space holds
		n := generateName(taken)
		if taken[n] {
			t.Fatalf("generateName returned %q twice", n)
		}
		if err := state.CheckName(n); err != nil {
			t.Fatalf("generated name %q: %v", n, err)
		}
		taken[n] = true
	}
}
