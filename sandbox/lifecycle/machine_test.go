package lifecycle

import (
	"errors"
	"strings"
	"testing"

	"glassbox/sandbox/state"
)

func TestTransitionTable(t *testing.T) {
	all := []state.Status{state.Created, state.Running, state.Paused, state.Exited, state.Removed}
	want := map[[2]state.Status]bool{
		{state.Created, state.Running}: true,
		{state.Created, state.Exited}:  true,
		{state.Created, state.Removed}: true,
		{state.Running, state.Paused}:  true,
		{state.Running, state.Exited}:  true,
		{state.Paused, state.Running}:  true,
		{state.Paused, state.Exited}:   true,
		{state.Exited, state.Running}:  true,
		{state.Exited, state.Removed}:  true,
	}
	for _, from := range all {
		for _, to := range all {
			sb := &state.Sandbox{Name: "calc", Status: from}
			err := transition(sb, to)
			if legal := want[[2]state.Status{from, to}]; legal {
				if err != nil || sb.Status != to {
					t.Errorf("%s → %s: want legal, got %v (status %s)", from, to, err, sb.Status)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) {
				t.Errorf("%s → %s: want a TransitionError, got %v", from, to, err)
				continue
			}
			if sb.Status != from {
				t.Errorf("%s → %s: refused move changed the status to %s", from, to, sb.Status)
			}
			if !strings.Contains(err.Error(), "calc") {
				t.Errorf("%s → %s: message %q does not name the sandbox", from, to, err)
			}
		}
	}
}

func TestTransitionMessages(t *testing.T) {
	for _, c := range []struct {
		from, to state.Status
		want     string
	}{
		{state.Exited, state.Paused, "cannot pause calc: it is exited, not running"},
		{state.Paused, state.Paused, "calc is already paused"},
		{state.Running, state.Removed, "stop it first"},
		{state.Removed, state.Running, "calc has been removed"},
	} {
		err := transition(&state.Sandbox{Name: "calc", Status: c.from}, c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: got %v, want it to say %q", c.from, c.to, err, c.want)
		}
	}
}
