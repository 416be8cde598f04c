package sandbox

import (
	"testing"

	"glassbox/sandbox/state"
)

func TestTransition(t *testing.T) {
	cases := []struct {
		from, to state.Status
		ok       bool
	}{
		{state.Created, state.Running, true},
		{state.Created, state.Exited, true},
		{state.Running, state.Exited, true},
		{state.Running, state.Created, false},
		{state.Exited, state.Running, false},
		{state.Exited, state.Exited, false},
		{state.Created, state.Paused, false},
	}
	for _, c := range cases {
		sb := &state.Sandbox{ID: "abc", Status: c.from}
		err := transition(sb, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%s → %s: err %v, want ok=%v", c.from, c.to, err, c.ok)
		}
		if want := map[bool]state.Status{true: c.to, false: c.from}[c.ok]; sb.Status != want {
			t.Errorf("%s → %s: status %s after, want %s", c.from, c.to, sb.Status, want)
		}
	}
}
