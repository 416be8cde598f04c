package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// SupervisorDelayEnv, set to a duration in the environment of `run -d`,
// holds its supervisor back that long before it takes over the sandbox. It
// is a fault-injection point for tests: what other commands do while a
// supervisor has not written its files yet, its creator killed meanwhile.
const SupervisorDelayEnv = "GLASSBOX_TEST_SUPERVISOR_DELAY"

// SupervisorExitDelayEnv, set like SupervisorDelayEnv, keeps a supervisor
// alive that long after it has let go of the sandbox's lock: the moment
// between the two, stretched, for tests of what waits for a supervisor.
const SupervisorExitDelayEnv = "GLASSBOX_TEST_SUPERVISOR_EXIT_DELAY"

// supervisorLog names the supervisor's own output (stdout and stderr) in
// the sandbox's state directory: named by its creator before the handoff.
const supervisorLog = "supervisor.log"

// ReadyFD is the supervisor's inherited descriptor (exec.Cmd.ExtraFiles):
// its end of a socket to the process that started it. The handoff comes
// in on it (the sandbox's id and state roots, with the sandbox's lock —
// held for the supervisor's life — and its log as SCM_RIGHTS), and the
// ready word (one readyMsg) goes out.
const ReadyFD = 3

// A supervisor starts before its sandbox has a record: `run -d` starts one
// first thing (Engine.prestart) — in the same process when the binary's
// constructor split the run (hosted.go), so that a detached start pays for
// one Go runtime, not two; else in a process of its own, whose start-up
// goes on while the command checks the request, creates the record and
// writes the spec. It waits for the handoff (AwaitHandoff); EOF instead —
// the request was refused, or its creator died — ends it, with nothing
// done.
type supervisorProc struct {
	kill func()   // SIGKILL, as long as it has not been reaped; a hosted one is let go of
	conn *os.File // this end of its socket
	// log is its stdout and stderr: given at its start, or, for one this
	// process hosts (hostSupervisor), made at the handoff; it goes with
	// the handoff either way.
	log    *os.File
	path   string // where log is; "" while it is a nameless O_TMPFILE or none
	exited chan struct{}
}

// handoffMsg goes with the sandbox's lock and the supervisor's log to a
// waiting supervisor.
type handoffMsg struct {
	ID  string `json:"id"`
	Lib string `json:"lib"`
	Run string `json:"run"`
}

// Handoff is what a waiting supervisor is handed (AwaitHandoff).
type Handoff struct {
	ID    string
	Roots state.Roots
	Lock  *os.File // the sandbox's lock, held
	Log   *os.File // where its stdout and stderr go from now on
}

// startSupervisor starts a supervisor in a session of its own (no terminal
// signal reaches it, and it outlives the CLI), writing to log.
func (e *Engine) startSupervisor(log *os.File) (*supervisorProc, error) {
	bin := e.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the glassbox binary: %w", err)
		}
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("start the supervisor: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "supervisor-socket")
	defer child.Close()
	unix.SetNonblock(fds[0], true) // read with a deadline
	conn := os.NewFile(uintptr(fds[0]), "supervisor-socket")
	cmd := exec.Command(bin, SupervisorVerb)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = "/" // hold no directory of the caller's busy for the sandbox's lifetime
	cmd.ExtraFiles = []*os.File{child}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("start the supervisor %s: %w", bin, err)
	}
	p := &supervisorProc{kill: func() { cmd.Process.Kill() }, conn: conn, log: log, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }() // reap it if this process (the UI) lives longer
	return p, nil
}

// prestart starts the supervisor of a sandbox yet to be created — hosted
// in this process, if this is `glassbox run -d` split by the binary's
// constructor (hosted.go); otherwise a process of its own, its log a
// nameless file in the sandboxes directory (O_TMPFILE: it vanishes if the
// sandbox never comes to be) that the handoff names. nil when that cannot be done — no sandboxes directory yet
// (it is made for a valid request only), a file system without O_TMPFILE —
// or fails: launch then starts the supervisor after the record, as spawn
// does.
func (e *Engine) prestart() *supervisorProc {
	if p := hostSupervisor(); p != nil {
		return p
	}
	fd, err := unix.Open(e.Roots.SandboxesDir(), unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil
	}
	log := os.NewFile(uintptr(fd), "supervisor.log")
	p, err := e.startSupervisor(log)
	if err != nil {
		log.Close()
		return nil
	}
	return p
}

// abandon ends a supervisor that was not handed a sandbox: EOF on its
// socket ends it; one that does not end is killed. nil does nothing.
func (p *supervisorProc) abandon() {
	if p == nil {
		return
	}
	p.conn.Close()
	if p.log != nil {
		p.log.Close()
	}
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
		<-p.exited
	}
}

// spawn starts the supervisor of sandbox id, hands it the sandbox and its
// lock and waits for its word that the sandbox runs (see handoff).
func (e *Engine) spawn(id string, l *state.Lock) error {
	path := e.store.Path(id, supervisorLog)
	log, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("start the supervisor: %w", err)
	}
	p, err := e.startSupervisor(log)
	if err != nil {
		log.Close()
		return err
	}
	p.path = path
	return p.handoff(e, id, l)
}

// handoff gives the supervisor sandbox id, its lock and its log, and waits
// for its word that the sandbox runs. When the start fails, the supervisor
// is gone (and with it its hold on the lock) by the time handoff returns,
// and the error ends with its log's last lines.
func (p *supervisorProc) handoff(e *Engine, id string, l *state.Lock) error {
	defer p.conn.Close()
	path := e.store.Path(id, supervisorLog)
	if p.log == nil {
		log, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
		if err != nil {
			p.abandon()
			return fmt.Errorf("start the supervisor: %w", err)
		}
		p.log, p.path = log, path
	} else if p.path == "" {
		err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", p.log.Fd()), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
		if err != nil {
			p.abandon()
			return fmt.Errorf("start the supervisor: name its log %s: %w", path, err)
		}
		p.path = path
	}
	msg, _ := json.Marshal(handoffMsg{ID: id, Lib: e.Roots.Lib, Run: e.Roots.Run})
	err := sendWithFiles(p.conn, msg, l.File(), p.log)
	p.log.Close()

	var m readyMsg
	if err == nil {
		p.conn.SetReadDeadline(time.Now().Add(startWait))
		err = json.NewDecoder(p.conn).Decode(&m)
		if err == nil && m.Error == "" {
			return nil
		}
	}
	// A failed start: the supervisor undoes what it made and exits; one
	// that hangs is killed. Its log is read before anything is removed.
	grace := 5 * time.Second
	if errors.Is(err, os.ErrDeadlineExceeded) {
		grace = 0
	}
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.kill()
		<-p.exited
	}
	logTail := lastLines(readFile(p.path), 5)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("the sandbox did not start within %s; its supervisor's last words: %s", startWait, logTail)
	case err != nil:
		return fmt.Errorf("the supervisor exited before the sandbox started: %s", logTail)
	}
	return errors.New(m.Error)
}

// sendWithFiles writes msg on the socket conn with the files' descriptors
// attached (SCM_RIGHTS).
func sendWithFiles(conn *os.File, msg []byte, files ...*os.File) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	rights := unix.UnixRights(fds...)
	var serr error
	werr := raw.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), msg, rights, nil, 0)
		return serr != unix.EAGAIN
	})
	return errors.Join(werr, serr)
}

// AwaitHandoff is a waiting supervisor's side of the handoff: it reads the
// sandbox's id, roots, lock and log from conn (its ReadyFD). io.EOF: no
// sandbox comes.
func AwaitHandoff(conn *os.File) (*Handoff, error) {
	buf := make([]byte, 3*unix.PathMax)
	oob := make([]byte, unix.CmsgSpace(2*4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(int(conn.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("await the sandbox: %w", err)
	}
	if n == 0 {
		return nil, io.EOF
	}
	var fds []int
	if msgs, perr := unix.ParseSocketControlMessage(oob[:oobn]); perr == nil {
		for _, cm := range msgs {
			if got, rerr := unix.ParseUnixRights(&cm); rerr == nil {
				fds = append(fds, got...)
			}
		}
	}
	var m handoffMsg
	if err := json.Unmarshal(buf[:n], &m); err != nil || !state.IsID(m.ID) || m.Lib == "" || m.Run == "" || len(fds) != 2 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("await the sandbox: a bad handoff (%d bytes, %d descriptors)", n, len(fds))
	}
	return &Handoff{
		ID:    m.ID,
		Roots: state.Roots{Lib: m.Lib, Run: m.Run},
		Lock:  os.NewFile(uintptr(fds[0]), "lock"),
		Log:   os.NewFile(uintptr(fds[1]), "supervisor.log"),
	}, nil
}

func readFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "; ")
	if s == "" {
		return "no output"
	}
	return s
}
