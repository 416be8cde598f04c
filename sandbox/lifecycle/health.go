package lifecycle

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

// checkHealth polls the image's health check until the workload exits and
// records each change (starting → healthy, healthy ⇄ unhealthy). The GET is
// made from inside the sandbox's network namespace, to 127.0.0.1, so it
// works the same in bridge, none and host mode and needs no route.
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
		err := probe(client, url)
		next := prev
		if err == nil {
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
		if next == prev || closed(exited) {
			continue
		}
		s.mu.Lock()
		s.health = next
		s.mu.Unlock()
		if err != nil {
			s.log.note("glassbox: health: %s after %d failed checks: %v", next, failures, err)
		} else {
			s.log.note("glassbox: health: %s", next)
		}
		s.save()
	}
}

func probe(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s: %s", url, strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode))
	}
	return nil
}
