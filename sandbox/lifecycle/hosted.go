package lifecycle

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox"
	"glassbox/sandbox/nsinit"
)

// ServeHandoff is a waiting supervisor's life: it takes the sandbox, its
// state roots, lock and log from conn (AwaitHandoff), gives the log to
// useLog (which makes it the supervisor's stdout and stderr, now or once
// the process is done with the caller's) and supervises the sandbox until
// its workload has ended for good. EOF on conn: no sandbox came, nothing
// was done, nil.
func ServeHandoff(conn *os.File, useLog func(log *os.File) error) error {
	h, err := AwaitHandoff(conn)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	if err := useLog(h.Log); err != nil {
		return fmt.Errorf("write to its log: %w", err)
	}
	if d, err := time.ParseDuration(os.Getenv(SupervisorDelayEnv)); err == nil {
		time.Sleep(d)
	}
	// Supervise lets go of its descriptor of the lock as it returns; this
	// second one keeps the lock held until the process is gone (the kernel
	// closes it at exit), so that a command waiting for the lock (rm,
	// start) returns with no supervisor left.
	if _, err := unix.FcntlInt(h.Lock.Fd(), unix.F_DUPFD_CLOEXEC, 0); err != nil {
		return fmt.Errorf("hold the sandbox's lock: %w", err)
	}
	err = Supervise(h.Roots, h.ID, conn, h.Lock)
	if d, perr := time.ParseDuration(os.Getenv(SupervisorExitDelayEnv)); perr == nil {
		time.Sleep(d)
	}
	return err
}

// The supervisor a `glassbox run -d` process hosts itself, when the binary's
// constructor split the run (nsinit.Front): it serves the handoff on one end
// of a socket pair while the CLI, on the other, creates the sandbox, exactly
// as a supervisor in a process of its own would; once the CLI has printed
// the id, the process lets go of the caller (DetachHostedSupervisor) and
// lives on as the supervisor.
var hosted struct {
	mu    sync.Mutex
	front *os.File      // the pipe to the front; nil once written
	log   *os.File      // the handoff's log; nil until a sandbox was handed
	done  chan struct{} // closed when ServeHandoff has returned
	err   error         // what it returned
}

// hostSupervisor starts the hosted supervisor, nil when this process has no
// front.
func hostSupervisor() *supervisorProc {
	front := nsinit.Front()
	if front == nil {
		return nil
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		front.Close() // the front takes this process's status
		return nil
	}
	unix.SetNonblock(fds[0], true) // read with a deadline
	conn := os.NewFile(uintptr(fds[0]), "supervisor-socket")
	served := os.NewFile(uintptr(fds[1]), "supervisor-socket")
	// A write of the id to a reader that is gone (`glassbox run -d … |
	// true`) must not end the process with SIGPIPE: it is a supervisor
	// too. Go then returns EPIPE instead; the handler is not inherited
	// across the execs of what it starts.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go sandbox.PrepareToStartProcesses()
	p := &supervisorProc{conn: conn, exited: make(chan struct{})}
	var once sync.Once
	ended := func() { once.Do(func() { close(p.exited) }) }
	// It cannot be killed alone: one that hangs is let go of, and ends
	// with the process.
	p.kill = ended
	hosted.mu.Lock()
	hosted.front, hosted.done = front, make(chan struct{})
	hosted.mu.Unlock()
	go func() {
		err := ServeHandoff(served, func(log *os.File) error {
			hosted.mu.Lock()
			hosted.log = log
			hosted.mu.Unlock()
			return nil
		})
		served.Close()
		hosted.mu.Lock()
		hosted.err = err
		hosted.mu.Unlock()
		close(hosted.done)
		ended()
	}()
	return p
}

// DetachHostedSupervisor is the end of a `glassbox run -d` that hosts its
// sandbox's supervisor and succeeded: the process lets go of the caller —
// its stdin becomes /dev/null, its stdout and stderr the supervisor's log,
// its directory / — tells the front it succeeded, and supervises the
// sandbox until its workload has ended for good. It returns the process's
// exit status then, and false at once when this process supervises no
// sandbox (no front, or no sandbox was handed, or it ended already).
func DetachHostedSupervisor() (int, bool) {
	hosted.mu.Lock()
	front, log, done := hosted.front, hosted.log, hosted.done
	hosted.front, hosted.log = nil, nil
	hosted.mu.Unlock()
	if front == nil || log == nil {
		return 0, false
	}
	select {
	case <-done:
		log.Close()
		return 0, false // the front takes this process's status
	default:
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err == nil {
		err = unix.Dup3(int(null.Fd()), 0, 0)
		null.Close()
	}
	for _, fd := range []int{1, 2} {
		if err == nil {
			err = unix.Dup3(int(log.Fd()), fd, 0)
		}
	}
	log.Close()
	if err == nil {
		err = os.Chdir("/") // hold no directory of the caller's busy
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "glassbox: the supervisor cannot let go of the caller's stdio:", err)
	}
	front.Write([]byte{0}) // the sandbox runs: the command succeeded
	front.Close()
	<-done
	hosted.mu.Lock()
	err = hosted.err
	hosted.mu.Unlock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "supervisor:", err)
		return 1, true
	}
	return 0, true
}
