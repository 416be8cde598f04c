package service

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// What the calculator does on SIGTERM. A container-friendly service drains
// and exits in moments, so a stop never shows its grace period running
// out; these modes let a demo (or a test) show it honestly: the service
// really is slow, or really does not listen.
//
//	drain    stop accepting, let in-flight requests finish, exit 0 (the default)
//	ignore   log the signal and go on serving: only SIGKILL ends it
//	slow     go on serving for Delay, then drain (a slow shutdown)
//
// SIGTERM_MODE sets the mode at start ("drain", "ignore", or a duration
// such as "15s" for slow); POST /stress/sigterm changes it while it runs.
// SIGINT (Ctrl-C at a terminal) always drains.
type SIGTERMMode struct {
	Mode  string        `json:"mode"`                    // "drain", "ignore" or "slow"
	Delay time.Duration `json:"delay_seconds,omitempty"` // for slow
}

// SIGTERM modes.
const (
	TermDrain  = "drain"
	TermIgnore = "ignore"
	TermSlow   = "slow"
)

// maxSlowDelay bounds the slow mode: longer than any grace period a demo
// sets, short enough not to hang a forgotten service for long.
const maxSlowDelay = 10 * time.Minute

// ParseSIGTERMMode reads SIGTERM_MODE: "drain", "ignore", or a duration
// (a Go duration or whole seconds) for slow.
func ParseSIGTERMMode(v string) (SIGTERMMode, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", TermDrain:
		return SIGTERMMode{Mode: TermDrain}, nil
	case TermIgnore:
		return SIGTERMMode{Mode: TermIgnore}, nil
	}
	d, err := parseTimeout(v)
	if err != nil || d <= 0 || d > maxSlowDelay {
		return SIGTERMMode{}, fmt.Errorf(`want "drain", "ignore", or a delay above 0 and up to %s for a slow shutdown, e.g. "15s"`, maxSlowDelay)
	}
	return SIGTERMMode{Mode: TermSlow, Delay: d}, nil
}

// String is the mode as SIGTERM_MODE takes it.
func (m SIGTERMMode) String() string {
	if m.Mode == TermSlow {
		return m.Delay.String()
	}
	return m.Mode
}

// termMode is the mode in force; the stress endpoint changes it.
type termMode struct {
	mu sync.Mutex
	m  SIGTERMMode
}

func (t *termMode) get() SIGTERMMode {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m
}

func (t *termMode) set(m SIGTERMMode) {
	t.mu.Lock()
	t.m = m
	t.mu.Unlock()
}

// SIGTERMRequest is the body of POST /stress/sigterm.
type SIGTERMRequest struct {
	Mode    string  `json:"mode"`              // "drain", "ignore" or "slow"
	Seconds float64 `json:"seconds,omitempty"` // the delay of slow
}

func (s *Server) stressSIGTERM(w http.ResponseWriter, r *http.Request) int {
	var req SIGTERMRequest
	if err := decodeBody(w, r, &req); err != nil {
		return writeError(w, statusOf(err), err.Error())
	}
	var m SIGTERMMode
	switch req.Mode {
	case TermDrain, TermIgnore:
		if req.Seconds != 0 {
			return writeError(w, http.StatusBadRequest, `"seconds" goes with "slow" only`)
		}
		m.Mode = req.Mode
	case TermSlow:
		d := time.Duration(req.Seconds * float64(time.Second))
		if d <= 0 || d > maxSlowDelay {
			return writeError(w, http.StatusBadRequest, fmt.Sprintf(`"seconds" must be above 0 and up to %d for "slow"`, int(maxSlowDelay.Seconds())))
		}
		m = SIGTERMMode{Mode: TermSlow, Delay: d}
	default:
		return writeError(w, http.StatusBadRequest, fmt.Sprintf(`"mode" must be "drain", "ignore" or "slow", not %q`, req.Mode))
	}
	s.term.set(m)
	st := s.stress.status()
	st.SIGTERM = m.String()
	st.Started = "on SIGTERM: " + m.Words()
	s.log.Info("stress sigterm", "mode", m.String())
	return writeJSON(w, http.StatusOK, st)
}

// Words says what the service will do on SIGTERM.
func (m SIGTERMMode) Words() string {
	switch m.Mode {
	case TermIgnore:
		return "ignore it and go on serving (only SIGKILL ends the service)"
	case TermSlow:
		return fmt.Sprintf("go on serving for %s, then drain and exit", m.Delay)
	}
	return "drain in-flight requests and exit"
}
