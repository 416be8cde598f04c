package state

import (
	"errors"
	"strings"
	"testing"
)

func TestTransitionTable(t *testing.T) {
	all := []Status{Created, Running, Paused, Exited, Removed}
	want := map[[2]Status]bool{
		{Created, Running}: true,
		{Created, Exited}:  true,
		{Created, Removed}: true,
		{Running, Paused}:  true,
		{Running, Exited}:  true,
		{Paused, Running}:  true,
		{Paused, Exited}:   true,
		{Exited, Running}:  true,
		{Exited, Removed}:  true,
	}
	for _, from := range all {
		for _, to := range all {
			sb := &Sandbox{Name: "calc", Status: from}
			err := sb.Transition(to)
			if legal := want[[2]Status{from, to}]; legal {
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
		from, to Status
		want     string
	}{
		{Exited, Paused, "cannot pause calc: it is exited, not running"},
		{Paused, Paused, "calc is already paused"},
		{Running, Removed, "stop it first"},
		{Removed, Running, "calc has been removed"},
	} {
		err := (&Sandbox{Name: "calc", Status: c.from}).Transition(c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: got %v, want it to say %q", c.from, c.to, err, c.want)
		}
	}
}

func TestLive(t *testing.T) {
	for s, want := range map[Status]bool{Created: false, Running: true, Paused: true, Exited: false, Removed: false, "": false} {
		if s.Live() != want {
			t.Errorf("%q.Live() = %v", s, !want)
		}
	}
}
