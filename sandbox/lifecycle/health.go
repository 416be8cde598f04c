package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

// healthOutputMax is how much of a probe's output the record keeps (its
// end), as docker keeps 4 KiB.
const healthOutputMax = 4096

// checkHealth runs the image's health check until the workload exits,
// keeps each probe in the record's health log, and records each change
// (starting → healthy, healthy ⇄ unhealthy). A command check runs inside
// the sandbox through the same path as glassbox exec; the HTTP check's GET
// is made from inside the sandbox's network namespace, to 127.0.0.1, so
// it works the same in bridge, none and host mode and needs no route.
//
// Until the first success it polls fast (10 ms, doubling up to the
// interval), so that `run -d` sees healthy within milliseconds of the
// service listening, as a docker --health-start-interval would.
func (s *supervisor) checkHealth(c container, exited chan struct{}) {
	hc := s.spec.Health
	interval := hc.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	timeout := hc.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	retries := max(hc.Retries, 1)
	probe := s.httpProbe(c, hc, timeout)
	if len(hc.Cmd) > 0 {
		probe = s.cmdProbe(c, hc.Cmd, timeout)
	}
	began := time.Now()
	failures := 0
	wait := 10 * time.Millisecond
	for {
		select {
		case <-exited:
			return
		case <-time.After(wait):
		}
		s.mu.Lock()
		paused := s.paused
		prev := s.health
		s.mu.Unlock()
		if paused {
			wait = interval
			continue // a frozen service cannot answer; that is not a failure
		}
		res := probe()
		next := prev
		if res.ExitCode == 0 {
			failures = 0
			next = state.HealthHealthy
		} else if prev != state.HealthStarting || time.Since(began) > hc.StartPeriod {
			failures++
			if failures >= retries {
				next = state.HealthUnhealthy
			}
		}
		if prev == state.HealthStarting && next == state.HealthStarting {
			wait = min(wait*2, interval)
		} else {
			wait = interval
		}
		if closed(exited) {
			return
		}
		s.mu.Lock()
		s.health = next
		s.healthLog = append(s.healthLog, res)
		if len(s.healthLog) > state.HealthLogSize {
			s.healthLog = s.healthLog[len(s.healthLog)-state.HealthLogSize:]
		}
		s.failingStreak = failures
		s.mu.Unlock()
		if next != prev {
			if res.ExitCode != 0 {
				s.log.note("glassbox: health: %s after %d failed checks: %s", next, failures, lastLine(res.Output))
			} else {
				s.log.note("glassbox: health: %s", next)
			}
		}
		s.save()
	}
}

// httpProbe GETs the check's path inside the sandbox: healthy on 2xx/3xx.
func (s *supervisor) httpProbe(c container, hc *Healthcheck, timeout time.Duration) func() state.HealthProbe {
	pid := c.State().InitPID
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return network.DialInNetns(pid, addr)
			},
		},
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", hc.Port, hc.Path)
	return func() state.HealthProbe {
		res := state.HealthProbe{Start: time.Now().UTC()}
		if err := probe(client, url); err != nil {
			res.ExitCode, res.Output = 1, err.Error()
		} else {
			res.Output = "GET " + url + ": OK"
		}
		res.End = time.Now().UTC()
		return res
	}
}

// cmdProbe runs the check's command in the sandbox, as its user, with its
// environment, capabilities and filter, killed after timeout (docker's
// exit code -1 and words then).
func (s *supervisor) cmdProbe(c container, cmd []string, timeout time.Duration) func() state.HealthProbe {
	return func() state.HealthProbe {
		s.mu.Lock()
		sb := *c.State()
		s.mu.Unlock()
		return runHealthCmd(s.roots, &sb, &sandbox.ExecConfig{Args: cmd, Binary: s.cfg.InitBinary}, timeout)
	}
}

// runHealthCmd is one command probe; tests replace it.
var runHealthCmd = func(roots state.Roots, sb *state.Sandbox, x *sandbox.ExecConfig, timeout time.Duration) (res state.HealthProbe) {
	res = state.HealthProbe{Start: time.Now().UTC(), ExitCode: -1}
	defer func() { res.End = time.Now().UTC() }()
	r, w, err := os.Pipe()
	if err != nil {
		res.Output = err.Error()
		return res
	}
	defer r.Close()
	out := &tail{max: healthOutputMax}
	copied := make(chan struct{})
	go func() {
		io.Copy(out, r)
		close(copied)
	}()
	p, err := sandbox.Exec(roots, sb, x, sandbox.Stdio{Out: w, Err: w})
	w.Close()
	if err != nil {
		var ee *sandbox.ExecError
		if errors.As(err, &ee) {
			res.ExitCode = ee.Code
		}
		res.Output = err.Error()
		return res
	}
	timer := time.AfterFunc(timeout, p.Close)
	exit, _ := p.Wait()
	if !timer.Stop() {
		res.Output = fmt.Sprintf("Health check exceeded timeout (%s)", timeout)
		return res
	}
	select {
	case <-copied:
	case <-time.After(time.Second): // a process it left behind holds the pipe
	}
	res.ExitCode, res.Output = exit.Code, out.String()
	return res
}

func probe(client *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// Said so that a workload that logs its requests' agents lets a
	// reader of its log tell these polls from real traffic.
	req.Header.Set("User-Agent", state.HealthProbeAgent)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s: %s", url, strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode))
	}
	return nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func lastLine(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
