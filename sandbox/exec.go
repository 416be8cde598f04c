package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/state"
)

// The exec protocol: a process stepping into a running sandbox (glassbox
// exec, a HEALTHCHECK CMD). The parent is Exec (Go); the joining process is
// glassbox re-executed as `sandbox-exec ID`, whose ELF constructor
// (nsinit/exec.c) does everything before the Go runtime starts. They talk
// over one socketpair: fd 3 in the child; fd 4 is a pidfd of the init.
//
//	step  parent (Exec, Go)                         joining process J (C: nsinit/exec.c)           channel
//	----  ----------------------------------------  ---------------------------------------------  --------
//	1     check: the record says running; read      –                                              state dir
//	      process.json (the workload's env, cwd,
//	      caps, seccomp filter as the init got
//	      them); pidfd_open(init) and check it is
//	      the init (in the sandbox's cgroup);
//	      resolve -u in the sandbox's /etc (openat2
//	      RESOLVE_IN_ROOT through /proc/INIT/root)
//	2     start glassbox sandbox-exec ID in a       close every fd above 4; read the spec          fd 3 →
//	      session of its own (PDEATHSIG KILL); send
//	      the spec
//	3     –                                         open /proc/INIT/ns/* and the cgroup.procs      –
//	                                                files, then check the pidfd is alive: the ns
//	                                                files are the init's, never a recycled PID's;
//	                                                setns: user first, then ipc, uts, net, pid,
//	                                                time (for children), mnt last
//	4     –                                         fork: the child C is born in the sandbox's     –
//	                                                pid and time namespaces (PPID 0 in there).
//	                                                C writes "0" to each cgroup.procs (it counts
//	                                                against the limits from here), joins the
//	                                                cgroup namespace, takes the user; with -t
//	                                                opens a pty of the sandbox's devpts
//	5     hand the master side to Stdio.Terminal    C sends {"kind":"pty"} + the master fd          ← fd 3
//	                                                (SCM_RIGHTS); setsid, TIOCSCTTY
//	6     read "started" (C's host PID), or         C: chdir, drop caps to the sandbox's set,      ← fd 3
//	      "error" with 126/127 and docker's words   no_new_privs, PDEATHSIG, seccomp filter
//	                                                last, exec (PATH searched inside); a
//	                                                CLOEXEC pipe tells J whether exec worked
//	7     Wait: read "exit" (code, signal); reap J  J forwards TERM/INT/HUP/QUIT/USR1/USR2 to C;    ← fd 3
//	                                                on C's end writes "exit", exits with its
//	                                                code. -d: J exits after "started", the
//	                                                sandbox's init adopts C
//
// The exec'd process dies with the sandbox: when the init exits the kernel
// kills everything in its pid namespace, and a stop kills the cgroup.

// ExecConfig is a command to run inside a running sandbox, with docker
// exec's options.
type ExecConfig struct {
	Args []string
	// Env (-e KEY=VALUE) is merged over the sandbox's environment.
	Env []string
	// WorkDir (-w) is an absolute path inside; the sandbox's when empty.
	WorkDir string
	// User (-u USER[:GROUP], names or ids) is looked up in the sandbox's
	// /etc/passwd and /etc/group; the sandbox's own user when empty.
	User string
	// TTY (-t) gives the command a terminal of the sandbox's own devpts,
	// handed to Stdio.Terminal; OpenStdin (-i) connects Stdio.In.
	TTY, OpenStdin bool
	// Detach (-d) leaves the command to the sandbox's init: Exec returns
	// once it runs, its output goes nowhere.
	Detach bool
	// Binary is the glassbox executable run as sandbox-exec; the running
	// one when empty.
	Binary string
}

// Validate checks what the user gave; it reads nothing. Exec calls it
// before anything else, for the exec verb and the health check alike:
// nothing else on their way checks an exec's input again.
func (x *ExecConfig) Validate() error {
	if len(x.Args) == 0 || x.Args[0] == "" {
		return errors.New("no command to run: give one after the sandbox's name")
	}
	for _, kv := range x.Env {
		if err := checkEnv(kv); err != nil {
			return err
		}
	}
	if x.WorkDir != "" && !path.IsAbs(x.WorkDir) {
		return fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path", x.WorkDir)
	}
	if x.Detach && (x.TTY || x.OpenStdin) {
		return errors.New("-d cannot go with -i or -t: a detached command has no terminal or input to attach")
	}
	for _, a := range x.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("argument %q holds a NUL byte", a)
		}
	}
	return nil
}

// ExecError is a command that never ran; Code is docker's exit status for
// it: 126 cannot be executed (or the process could not be set up), 127
// not found.
type ExecError struct {
	Code int
	Msg  string
}

func (e *ExecError) Error() string { return e.Msg }

// Exit codes of a command that never ran (ExecError.Code).
const (
	ExitCannotExec = 126
	ExitNotFound   = 127
)

// Process is a command started by Exec inside a sandbox.
type Process struct {
	// PID is the command's PID on the host.
	PID     int
	cmd     *exec.Cmd
	conn    *nsinit.Conn
	once    sync.Once
	exit    *state.Exit
	waitErr error
}

// Exec runs a command inside the running sandbox sb (its current record)
// and returns once the command runs, or with everything it started gone.
// See the protocol table above.
func Exec(roots state.Roots, sb *state.Sandbox, x *ExecConfig, stdio Stdio) (_ *Process, err error) {
	if err := x.Validate(); err != nil {
		return nil, err
	}
	if x.TTY && stdio.Terminal == nil {
		return nil, errors.New("sandbox.Exec: a terminal needs Stdio.Terminal to receive it")
	}
	switch sb.Status {
	case state.Running:
	case state.Paused:
		return nil, fmt.Errorf("cannot exec in %s: it is paused; unpause it first (glassbox unpause %s)", sb.Name, sb.Name)
	default:
		return nil, fmt.Errorf("cannot exec in %s: it is %s, not running (glassbox restart %s runs it again)", sb.Name, sb.Status, sb.Name)
	}
	proc, err := readProcess(roots, sb)
	if err != nil {
		return nil, err
	}
	j, pidfd, err := joinSpec(sb, proc, x)
	if err != nil {
		return nil, err
	}
	if pidfd != nil {
		defer pidfd.Close()
	}
	j.Rows, j.Cols = stdio.Rows, stdio.Cols
	spec, err := nsinit.EncodeJoin(j)
	if err != nil {
		return nil, err
	}
	p, err := spawnJoin(sb.ID, x, stdio, pidfd)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if _, err := p.conn.Write(spec); err != nil {
		return nil, fmt.Errorf("send the exec spec: %w", err)
	}
	for {
		m, err := p.conn.Read()
		switch {
		case errors.Is(err, io.EOF):
			p.cmd.Wait()
			return nil, fmt.Errorf("exec in %s: the joining process died (%s)", sb.Name, p.cmd.ProcessState)
		case err != nil:
			return nil, err
		case m.Kind == nsinit.MsgPTY:
			stdio.Terminal(m.File)
		case m.Kind == nsinit.MsgError:
			p.cmd.Wait()
			code := m.Code
			if code != ExitNotFound {
				code = ExitCannotExec
			}
			return nil, &ExecError{Code: code, Msg: m.Error}
		case m.Kind == nsinit.MsgStarted:
			p.PID = m.PID
			if x.Detach {
				p.Wait()
			}
			return p, nil
		default:
			return nil, fmt.Errorf("exec in %s: unexpected message %q", sb.Name, m.Kind)
		}
	}
}

// spawnJoin starts the joining process.
func spawnJoin(id string, x *ExecConfig, stdio Stdio, pidfd *os.File) (*Process, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "exec-socket-child")
	defer child.Close()
	conn, err := nsinit.NewConn(os.NewFile(uintptr(fds[0]), "exec-socket"))
	if err != nil {
		return nil, err
	}
	bin := x.Binary
	if bin == "" {
		bin = "/proc/self/exe"
	}
	cmd := &exec.Cmd{
		Path:       bin,
		Args:       []string{"glassbox", nsinit.ExecVerb, id},
		Env:        []string{},
		Dir:        "/",
		ExtraFiles: []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{
			// A session of its own: a Ctrl-C on the caller's terminal
			// reaches the caller, which passes it on once.
			Setsid:    true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if pidfd != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, pidfd)
	}
	if !x.TTY && !x.Detach {
		if x.OpenStdin && stdio.In != nil {
			cmd.Stdin = stdio.In
		}
		if stdio.Out != nil {
			cmd.Stdout = stdio.Out
		}
		if stdio.Err != nil {
			cmd.Stderr = stdio.Err
		}
	}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("start %s %s: %w", bin, nsinit.ExecVerb, err)
	}
	return &Process{cmd: cmd, conn: conn}, nil
}

// Signal passes sig to the command (through the joining process, its
// parent, which holds it: never a recycled PID).
func (p *Process) Signal(sig syscall.Signal) error {
	return p.cmd.Process.Signal(sig)
}

// Wait waits for the command to end and says how; it may be called more
// than once. A detached command has "ended" once it runs.
func (p *Process) Wait() (*state.Exit, error) {
	p.once.Do(func() {
		defer p.conn.Close()
		var report *nsinit.Message
		for {
			m, err := p.conn.Read()
			if err != nil {
				break
			}
			if m.Kind == nsinit.MsgExit {
				report = m
				break
			}
		}
		p.cmd.Wait()
		exit := &state.Exit{FinishedAt: time.Now().UTC()}
		ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		// Without a report the joining process itself was killed (the
		// sandbox ended, a health check's timeout): so was the command, by
		// PDEATHSIG.
		exitStatus(exit, report, ws)
		p.exit = exit
	})
	return p.exit, p.waitErr
}

// Close kills the command (with its joining process) and reaps it.
func (p *Process) Close() {
	p.cmd.Process.Kill()
	p.Wait()
}
