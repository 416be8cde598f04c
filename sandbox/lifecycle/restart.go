package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"glassbox/sandbox/state"
)

// Policy is a restart policy: --restart no|on-failure[:N]|always.
type Policy struct {
	Mode string // "no", "on-failure" or "always"
	// Max is the most restarts on-failure makes; 0 means no limit.
	Max int
}

// ParsePolicy reads a --restart value. The empty string is "no".
func ParsePolicy(s string) (Policy, error) {
	mode, max, hasMax := strings.Cut(s, ":")
	switch mode {
	case "", "no":
		if hasMax {
			return Policy{}, fmt.Errorf("restart policy %q: only on-failure takes a maximum count", s)
		}
		return Policy{Mode: "no"}, nil
	case "always":
		if hasMax {
			return Policy{}, fmt.Errorf("restart policy %q: only on-failure takes a maximum count", s)
		}
		return Policy{Mode: "always"}, nil
	case "on-failure":
		p := Policy{Mode: "on-failure"}
		if hasMax {
			n, err := strconv.Atoi(max)
			if err != nil || n < 0 {
				return Policy{}, fmt.Errorf("restart policy %q: the maximum count must be a whole number ≥ 0, as in on-failure:3", s)
			}
			p.Max = n
		}
		return p, nil
	}
	return Policy{}, fmt.Errorf("restart policy %q: use no, on-failure[:N] or always", s)
}

// MarshalText writes the policy as --restart takes it (spec.json keeps it so).
func (p Policy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (p *Policy) UnmarshalText(b []byte) error {
	q, err := ParsePolicy(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

func (p Policy) String() string {
	if p.Mode == "on-failure" && p.Max > 0 {
		return fmt.Sprintf("on-failure:%d", p.Max)
	}
	if p.Mode == "" {
		return "no"
	}
	return p.Mode
}

// failed says whether an exit counts as a failure: a non-zero status, a
// death by signal, or an OOM kill (which is SIGKILL, status 137).
func failed(e *state.Exit) bool {
	return e == nil || e.Code != 0 || e.OOMKilled || e.Signal != ""
}

// ShouldRestart says whether the supervisor starts the workload again after
// this exit, having restarted it `restarts` times already. A stop or kill
// asked for by the user never restarts.
func (p Policy) ShouldRestart(e *state.Exit, restarts int, stoppedByUser bool) bool {
	if stoppedByUser {
		return false
	}
	switch p.Mode {
	case "always":
		return true
	case "on-failure":
		return failed(e) && (p.Max == 0 || restarts < p.Max)
	}
	return false
}

// backoff is the wait before a restart that follows n quick failures in a
// row: 100 ms doubling up to 10 s (docker's rhythm), so a workload that
// dies at once does not spin a core.
func backoff(restarts int) time.Duration {
	d := 100 * time.Millisecond
	for i := 0; i < restarts && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

// backoffReset is how long a workload must have run for its next restart
// to wait the back-off's first step again (docker: 10 s). Tests shorten it.
var backoffReset = 10 * time.Second
