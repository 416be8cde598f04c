package lifecycle

import (
	"encoding/json"
	"fmt"
	"net"
	"time"

	"glassbox/sandbox/state"
)

// The CLI (or the UI) talks to a sandbox's supervisor through a unix socket
// in the sandbox's state directory: one JSON request per connection, one
// JSON response. Only root can reach it (the directory is 0700).
const controlSocket = "control.sock"

// Operations a supervisor carries out.
const (
	opStop    = "stop"    // SIGTERM, grace period, SIGKILL; no restart afterwards
	opKill    = "kill"    // send a signal to the workload
	opPause   = "pause"   // freeze the cgroup
	opUnpause = "unpause" // thaw it
)

type request struct {
	Op      string        `json:"op"`
	Timeout time.Duration `json:"timeout,omitempty"`
	Signal  int           `json:"signal,omitempty"`
}

type response struct {
	Error string      `json:"error,omitempty"`
	Stop  *StopResult `json:"stop,omitempty"`
}

// StopResult says how a stop went: which signal ended the workload, and when.
type StopResult struct {
	Name string `json:"name"`
	// Signal is what ended the workload: "SIGTERM" when it left within the
	// grace period, "SIGKILL" when the grace period ran out. Empty when it
	// had already exited.
	Signal  string        `json:"signal,omitempty"`
	After   time.Duration `json:"after"`   // from SIGTERM to exit
	Timeout time.Duration `json:"timeout"` // the grace period
	Exit    *state.Exit   `json:"exit,omitempty"`
}

func (r StopResult) String() string {
	switch r.Signal {
	case "":
		return fmt.Sprintf("%s: not running", r.Name)
	case "SIGKILL":
		if r.Timeout == 0 {
			return fmt.Sprintf("%s: killed with SIGKILL (no grace period)", r.Name)
		}
		return fmt.Sprintf("%s: did not stop within %s; killed with SIGKILL", r.Name, roundDuration(r.Timeout))
	}
	s := fmt.Sprintf("%s: stopped by %s after %s", r.Name, r.Signal, roundDuration(r.After))
	if r.Exit != nil {
		s += ": " + r.Exit.String()
	}
	return s
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d
}

// call sends one request to the supervisor listening on sock and waits for
// its answer at most wait.
func call(sock string, req request, wait time.Duration) (*response, error) {
	conn, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("send %s to the supervisor: %w", req.Op, err)
	}
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return nil, fmt.Errorf("no answer from the supervisor to %s: %w", req.Op, err)
	}
	return &resp, nil
}
