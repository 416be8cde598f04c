package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

// container is what the supervisor needs of a started sandbox
// (*sandbox.Container has it).
type container interface {
	Wait() (*state.Exit, error)
	Signal(sig syscall.Signal) error
	Destroy() error
	State() *state.Sandbox
}

// startSandbox starts the sandbox once, with the workload's output going to
// stdout and stderr. It is the runtime's sandbox.Start (wired in
// runtime.go); tests replace it.
var startSandbox func(cfg *sandbox.Config, stdout, stderr io.Writer) (container, error)

// readyMsg is what the supervisor writes on its ready pipe once the
// sandbox runs, or when it failed to start it.
type readyMsg struct {
	ID    string `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
}

// supervisor owns one detached sandbox: it starts it, logs its output,
// publishes its ports, checks its health, records its exits, restarts it
// by its policy and carries out the CLI's requests.
type supervisor struct {
	roots  state.Roots
	store  *state.Store
	spec   *Spec
	cfg    *sandbox.Config // the spec's, with this supervisor's roots and hooks: every start uses it
	policy Policy
	log    *logSink
	self   Process

	mu       sync.Mutex
	c        container     // the running sandbox; nil between runs
	exited   chan struct{} // closed when c's workload has exited
	lastExit *state.Exit
	stopping bool // a stop or kill was asked for: no restart
	paused   bool
	health   state.Health
	restarts int
	// quickFails counts the restarts since the workload last ran for
	// backoffReset or longer: the back-off's step.
	quickFails int
	started    time.Time
	wake       chan struct{} // cuts a restart's back-off short on stop
	finished   chan struct{} // closed once everything is released
	proxy      *network.Proxy
	ports      []state.Port // the published ports, with how each is forwarded now
	// restartedAfter is the exit that made the policy restart the workload last.
	restartedAfter *state.Exit
	// unreleased: a release since the last start left something behind
	// (its error is in the log); no releasedFile then.
	unreleased bool

	// healthLog is the health check's last probes; failingStreak the
	// failures in a row.
	healthLog     []state.HealthProbe
	failingStreak int
}

// Supervise runs the supervisor of sandbox id until its workload has ended
// for good. ready receives one readyMsg (then is closed) as soon as the
// sandbox runs or failed to start. It is the hidden verb `glassbox
// supervise`, run by Engine.Run in a session of its own.
//
// lock is the sandbox's lock, inherited from the process that created or
// restarted the sandbox (Engine.spawn): the supervisor holds it until it
// exits, and every start and release of the sandbox happens under it.
func Supervise(roots state.Roots, id string, ready io.WriteCloser, lock *os.File) error {
	report := func(m readyMsg) {
		if ready != nil {
			json.NewEncoder(ready).Encode(m)
			ready.Close()
			ready = nil
		}
	}
	err := supervise(roots, id, lock, func(err error) {
		if err != nil {
			report(readyMsg{Error: err.Error()})
		} else {
			report(readyMsg{ID: id})
		}
	})
	if err != nil {
		report(readyMsg{Error: err.Error()})
	}
	return err
}

func supervise(roots state.Roots, id string, lockFile *os.File, started func(error)) error {
	store := state.NewStore(roots)
	lock, err := store.AdoptLock(id, lockFile)
	if err != nil {
		return err
	}
	defer lock.Release()
	sp, err := readSpec(store, id)
	if err != nil {
		return err
	}
	self, err := Self()
	if err != nil {
		return err
	}
	cfg := sp.Config
	cfg.Roots = roots
	cfg.Hooks = networkHooks(roots, cfg.Network)
	// The state directory holds the supervisor's record, log and control
	// socket across starts: it goes with `rm`, not Destroy.
	cfg.KeepState = true
	cfg.Lock = lock
	s := &supervisor{
		roots: roots, store: store, spec: sp, cfg: cfg, policy: sp.Restart, self: self,
		wake: make(chan struct{}, 1), finished: make(chan struct{}),
	}
	if sb, err := store.Load(id); err == nil {
		s.restarts = sb.RestartCount
	}
	// The last act of a supervisor that exits by itself: from now on
	// nobody owns the sandbox (see Engine.ownerAlive). (Until its file is
	// written the sandbox's lock, held since the handoff, says so.)
	defer os.Remove(store.Path(id, supervisorFile))
	s.log = newLog(store.Path(id, logFile), sp.Log)
	defer s.log.Close()

	// The log file, the supervisor's file and its control socket are made
	// while the first start's init builds the root (Hooks.Meanwhile): the
	// workload does not wait for them, the ready word does.
	sock := store.Path(id, controlSocket)
	var l net.Listener
	var conns sync.WaitGroup
	defer func() {
		if l != nil {
			l.Close()
			os.Remove(sock)
			waitTimeout(&conns, 5*time.Second)
		}
	}()
	s.cfg.Hooks.Meanwhile = func() error {
		if err := s.log.open(); err != nil {
			return err
		}
		if err := writeProcess(store.Path(id, supervisorFile), self); err != nil {
			return fmt.Errorf("record the supervisor: %w", err)
		}
		os.Remove(sock) // a crashed supervisor's
		var err error
		if l, err = net.Listen("unix", sock); err != nil {
			return fmt.Errorf("listen on %s: %w", sock, err)
		}
		go s.serve(l, &conns)
		return nil
	}

	// SIGTERM or SIGINT to the supervisor itself (a shutdown of the host,
	// or a person) stops the sandbox as `glassbox stop` would, rather than
	// leaving it unobserved.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			go s.stop(stopTimeout(&state.Sandbox{StopTimeout: sp.StopTimeout}))
		}
	}()

	// The first start: its failure is the run's failure, and leaves nothing.
	err = s.start()
	s.cfg.Hooks.Meanwhile = nil // made once; restarts find them
	if err != nil {
		s.finish(nil)
		return err
	}
	started(nil)
	// Not now: the workload is still starting, on the same CPUs.
	time.AfterFunc(settleAfter, settle)
	for {
		exit := s.waitExit()
		s.mu.Lock()
		stop := s.stopping
		s.mu.Unlock()
		if !s.policy.ShouldRestart(exit, s.restarts, stop) {
			s.end(exit)
			return nil
		}
		// The exit is on record while the back-off runs.
		if err := s.save(); err != nil {
			s.log.note("glassbox: %v", err)
		}
		s.release()
		// As docker: a workload that ran for a while before it failed
		// starts the back-off over; only quick failures in a row climb it.
		if ran := exit.FinishedAt.Sub(s.started); ran >= backoffReset {
			s.quickFails = 0
		}
		d := backoff(s.quickFails)
		s.quickFails++
		s.log.note("glassbox: restarting in %s after %s (restart policy %s)", roundDuration(d), exit, s.policy)
		select {
		case <-time.After(d):
		case <-s.wake:
		}
		s.mu.Lock()
		stop = s.stopping
		if !stop {
			s.restarts++
			s.restartedAfter = exit
		}
		s.mu.Unlock()
		if stop {
			s.end(exit)
			return nil
		}
		if err := s.start(); err != nil {
			s.log.note("glassbox: restart failed: %v", err)
			s.end(exit)
			return nil
		}
	}
}

// start starts the sandbox once and publishes its ports.
func (s *supervisor) start() error {
	// From here on the run's resources may exist: the word that they are
	// gone goes first.
	if err := os.Remove(s.store.Path(s.spec.ID, releasedFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start %s: %w", s.spec.Name, err)
	}
	s.mu.Lock()
	s.unreleased = false
	s.mu.Unlock()
	var ls []*net.TCPListener
	if len(s.spec.Ports) > 0 {
		var err error
		// Bind before the sandbox exists: a port in use is a clear error
		// while there is nothing to roll back.
		if ls, err = network.Listen(s.spec.Ports); err != nil {
			return err
		}
	}
	stdout, stderr := s.log.stream("stdout"), s.log.stream("stderr")
	c, err := startSandbox(s.cfg, stdout, stderr)
	if err != nil {
		for _, l := range ls {
			l.Close()
		}
		return err
	}
	sb := c.State()
	proxy := publish(ls, s.spec.Ports, sb)
	ports := s.spec.Ports
	if len(ls) > 0 && sb.Network.Mode == string(network.Bridge) {
		// The proxy keeps the ports bound (no other program can take
		// them) and serves what the kernel rules do not see: connections
		// from other machines and from sandboxes.
		fwd, err := network.ForwardInKernel(s.roots, s.spec.ID, sb.Network, s.spec.Ports)
		if err != nil {
			s.log.note("glassbox: published ports go through the userland proxy only: %v", err)
		}
		ports = fwd
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.c, s.exited, s.proxy, s.ports = c, exited, proxy, ports
	s.paused, s.lastExit, s.started = false, nil, time.Now()
	s.health = state.HealthNone
	if s.spec.Health != nil {
		s.health = state.HealthStarting
	}
	s.mu.Unlock()
	go func() {
		exit, err := c.Wait()
		if exit == nil {
			exit = &state.Exit{Code: 255, FinishedAt: time.Now(), Reason: fmt.Sprintf("lost the workload: %v", err)}
		}
		s.mu.Lock()
		s.lastExit = exit
		s.mu.Unlock()
		stdout.Flush()
		stderr.Flush()
		close(exited)
	}()
	if err := s.save(); err != nil {
		s.log.note("glassbox: %v", err)
	}
	if s.spec.Health != nil {
		go s.checkHealth(c, exited)
	}
	return nil
}

// waitExit waits for the current workload to exit and logs how it ended;
// the caller records it (before a restart's back-off, or as the sandbox's
// end in finish).
func (s *supervisor) waitExit() *state.Exit {
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	<-exited
	s.mu.Lock()
	exit := s.lastExit
	s.mu.Unlock()
	s.log.note("glassbox: the workload ended: %s", exit)
	return exit
}

// release destroys the exited sandbox's resources (cgroup, mounts; the
// network detach also deletes the forwarding rules) and stops publishing
// its ports.
func (s *supervisor) release() {
	s.mu.Lock()
	c, proxy := s.c, s.proxy
	s.c, s.proxy = nil, nil
	s.mu.Unlock()
	if proxy != nil {
		proxy.Close()
	}
	if c != nil {
		if err := c.Destroy(); err != nil {
			s.log.note("glassbox: release resources: %v", err)
			s.mu.Lock()
			s.unreleased = true
			s.mu.Unlock()
		}
	}
}

// end finishes for good after the workload's last exit; a sandbox run with
// --rm then removes its own record and log.
func (s *supervisor) end(exit *state.Exit) {
	s.finish(exit)
	if s.spec.AutoRemove {
		if removeWritableLayer != nil {
			if err := removeWritableLayer(s.roots, s.spec.ID); err != nil {
				s.log.note("glassbox: --rm: %v", err)
			}
		}
		if err := s.store.Remove(s.spec.ID); err != nil {
			s.log.note("glassbox: --rm: %v", err)
		} else {
			s.cfg.Lock.Remove()
		}
	}
}

// finish releases everything, writes the final record and lets waiting
// stop requests answer. exit is nil when the sandbox never ran. The record
// (the exit, written once) and the release do not depend on each other:
// they go at once, and a stop answers when both are done.
func (s *supervisor) finish(exit *state.Exit) {
	var saved chan error
	if exit != nil {
		saved = make(chan error, 1)
		s.mu.Lock()
		sb, err := s.record() // from the runtime's record, before release drops it
		s.mu.Unlock()
		go func() {
			if err == nil {
				err = s.store.Save(sb)
			}
			saved <- err
		}()
	}
	s.release()
	s.mu.Lock()
	clean := !s.unreleased
	s.mu.Unlock()
	if exit != nil && clean {
		// (A start that failed is the runtime's to roll back, and the
		// run's creator releases what may be left: no word here.)
		s.markReleased()
	}
	if saved != nil {
		if err := <-saved; err != nil {
			s.log.note("glassbox: %v", err)
		}
	}
	close(s.finished)
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

var errNotRunning = errors.New("not running")

// settle trims the supervisor to what it keeps for the sandbox's life:
// everything the start needed (the spec, the seccomp program, the root's
// plan) is garbage once the workload runs, and Go would otherwise hold the
// freed heap, and grow to 4 MiB before its first collection. Every
// detached sandbox has a supervisor: this is host memory per sandbox.
// It runs settleAfter the first start, not at once: the forced collection
// and the return of the pages cost 0.5–2.5 ms of CPU, and right after the
// ready word they would compete with the workload's own start (the
// calculator answers /health some 10 ms later on a 2-CPU host). Until
// then the supervisor keeps Go's default GOGC, under which its start
// does not reach a first collection.
func settle() {
	debug.SetGCPercent(supervisorGC)
	debug.FreeOSMemory()
}

// supervisorGC is the supervisor's GOGC: a quarter of Go's default, so the
// heap of an idle supervisor (a health check now and then, log lines, a
// control request) stays around a megabyte instead of four.
const supervisorGC = 25

// settleAfter is how long after the first start the supervisor settles.
const settleAfter = time.Second
