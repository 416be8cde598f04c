package lifecycle

import (
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/state"
)

// freezeTimeout bounds pause and unpause: a cgroup that does not report
// frozen in time is thawed again and the pause fails; it never hangs.
const freezeTimeout = 5 * time.Second

// loadCgroup opens a sandbox's cgroup by id, unless it runs a sandbox of
// another state root (sandbox.LoadCgroup; tests replace it).
var loadCgroup = func(roots state.Roots, id string) (cgroup.Manager, error) { return sandbox.LoadCgroup(roots, id) }

func (s *supervisor) serve(l net.Listener, conns *sync.WaitGroup) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer conn.Close()
			var req request
			if err := json.NewDecoder(conn).Decode(&req); err != nil {
				return
			}
			json.NewEncoder(conn).Encode(s.handle(req))
		}()
	}
}

func (s *supervisor) handle(req request) response {
	var err error
	switch req.Op {
	case opStop:
		var res *StopResult
		res, err = s.stop(req.Timeout)
		if err == nil {
			return response{Stop: res}
		}
	case opKill:
		err = s.kill(syscall.Signal(req.Signal))
	case opPause:
		err = s.pause()
	case opUnpause:
		err = s.unpause()
	default:
		err = fmt.Errorf("unknown request %q", req.Op)
	}
	if err != nil {
		return response{Error: err.Error()}
	}
	return response{}
}

// current is the running sandbox, or errNotRunning.
func (s *supervisor) current() (container, chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil || closed(s.exited) {
		return nil, nil, fmt.Errorf("%s is %w", s.spec.Name, errNotRunning)
	}
	return s.c, s.exited, nil
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to timeout for the workload to exit, then
// sends SIGKILL; it answers once the sandbox's resources are released. A
// stopped sandbox is not restarted by its policy.
func (s *supervisor) stop(timeout time.Duration) (*StopResult, error) {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}: // cut a restart back-off short
	default:
	}
	res := &StopResult{Name: s.spec.Name, Timeout: timeout}
	c, exited, err := s.current()
	if err == nil {
		first := syscall.SIGTERM
		if timeout <= 0 {
			first = syscall.SIGKILL
		}
		t0 := time.Now()
		s.log.note("glassbox: stop: sending %s (grace period %s)", SignalName(first), timeout)
		s.deliver(c, first)
		res.Signal = SignalName(first)
		if first == syscall.SIGTERM {
			select {
			case <-exited:
			case <-time.After(timeout):
				s.log.note("glassbox: stop: no exit within %s: sending SIGKILL", timeout)
				s.deliver(c, syscall.SIGKILL)
				res.Signal = "SIGKILL"
			}
		}
		if res.Signal == "SIGKILL" {
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				// Only a process stuck in the kernel survives SIGKILL this
				// long: kill the whole cgroup.
				if m, err := loadCgroup(s.roots, s.spec.ID); err == nil {
					m.Kill()
				}
				<-exited
			}
		}
		res.After = time.Since(t0)
	}
	<-s.finished
	s.mu.Lock()
	res.Exit = s.lastExit
	s.mu.Unlock()
	return res, nil
}

// deliver sends a signal to the workload, thawing a paused sandbox so that
// the signal is acted on (a frozen task on cgroup v1 does not die until thawed).
func (s *supervisor) deliver(c container, sig syscall.Signal) error {
	err := c.Signal(sig)
	s.mu.Lock()
	paused := s.paused
	s.mu.Unlock()
	if paused {
		if m, lerr := loadCgroup(s.roots, s.spec.ID); lerr == nil {
			if terr := m.Thaw(freezeTimeout); terr == nil {
				s.mu.Lock()
				s.paused = false
				s.mu.Unlock()
				s.save()
			}
		}
	}
	return err
}

func (s *supervisor) kill(sig syscall.Signal) error {
	c, _, err := s.current()
	if err != nil {
		return err
	}
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
		// Killed by the user: like a stop, the policy does not restart it.
		s.mu.Lock()
		s.stopping = true
		s.mu.Unlock()
	}
	s.log.note("glassbox: kill: sending %s", SignalName(sig))
	if err := s.deliver(c, sig); err != nil {
		return fmt.Errorf("send %s to %s: %w", SignalName(sig), s.spec.Name, err)
	}
	return nil
}

func (s *supervisor) pause() error {
	if _, _, err := s.current(); err != nil {
		return fmt.Errorf("cannot pause: %w", err)
	}
	s.mu.Lock()
	if s.paused {
		s.mu.Unlock()
		return &state.TransitionError{Name: s.spec.Name, From: state.Paused, To: state.Paused}
	}
	s.mu.Unlock()
	m, err := loadCgroup(s.roots, s.spec.ID)
	if err != nil {
		return fmt.Errorf("pause %s: %w", s.spec.Name, err)
	}
	if err := m.Freeze(freezeTimeout); err != nil {
		m.Thaw(freezeTimeout) // never leave it half frozen
		return fmt.Errorf("pause %s: %w", s.spec.Name, err)
	}
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
	s.log.note("glassbox: paused (cgroup frozen)")
	return s.save()
}

func (s *supervisor) unpause() error {
	if _, _, err := s.current(); err != nil {
		return fmt.Errorf("cannot unpause: %w", err)
	}
	s.mu.Lock()
	if !s.paused {
		s.mu.Unlock()
		return fmt.Errorf("cannot unpause %s: it is running, not paused", s.spec.Name)
	}
	s.mu.Unlock()
	m, err := loadCgroup(s.roots, s.spec.ID)
	if err != nil {
		return fmt.Errorf("unpause %s: %w", s.spec.Name, err)
	}
	if err := m.Thaw(freezeTimeout); err != nil {
		return fmt.Errorf("unpause %s: %w", s.spec.Name, err)
	}
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	s.log.note("glassbox: unpaused (cgroup thawed)")
	return s.save()
}
