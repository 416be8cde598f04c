package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
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

// processFile records the workload's process as the init was told to
// start it, in the sandbox's state directory: exec starts its processes
// with the same environment, working directory, capabilities and seccomp
// filter.
const processFile = "process.json"

// processRecord is processFile's content.
type processRecord struct {
	Env     []string `json:"env"` // with HOSTNAME and PATH
	Cwd     string   `json:"cwd"`
	Caps    uint64   `json:"caps"`
	Seccomp string   `json:"seccomp,omitempty"` // the compiled filter, as the init reads it
	UserNS  bool     `json:"userns,omitempty"`
	// User is the sandbox's USER[:GROUP] (the image's USER, run -u): an
	// exec without -u runs as it, resolved inside the running sandbox.
	User string `json:"user,omitempty"`
}

func writeProcess(store *state.Store, id string, p *processRecord) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	file := store.Path(id, processFile)
	if err := os.WriteFile(file+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("record the sandbox's process: %w", err)
	}
	return os.Rename(file+".tmp", file)
}

func readProcess(roots state.Roots, sb *state.Sandbox) (*processRecord, error) {
	data, err := os.ReadFile(state.NewStore(roots).Path(sb.ID, processFile))
	if err != nil {
		return nil, fmt.Errorf("cannot exec in %s: its process record is missing (%v); it was started by an older glassbox: restart it", sb.Name, err)
	}
	var p processRecord
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("cannot exec in %s: its process record: %w", sb.Name, err)
	}
	return &p, nil
}

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

// joinSpec is what the joining process is told; it opens a pidfd of the
// init (nil where the kernel has none) after checking that the PID is
// still the sandbox's init.
func joinSpec(sb *state.Sandbox, proc *processRecord, x *ExecConfig) (*nsinit.Join, *os.File, error) {
	notRunning := fmt.Errorf("cannot exec in %s: it is not running (its init, pid %d, is gone)", sb.Name, sb.InitPID)
	if sb.InitPID <= 0 {
		return nil, nil, notRunning
	}
	var pidfd *os.File
	fd, err := unix.PidfdOpen(sb.InitPID, 0)
	switch {
	case err == nil:
		pidfd = os.NewFile(uintptr(fd), "init-pidfd")
	case errors.Is(err, unix.ESRCH):
		return nil, nil, notRunning
	case !errors.Is(err, unix.ENOSYS):
		return nil, nil, fmt.Errorf("cannot exec in %s: pidfd_open(%d): %w", sb.Name, sb.InitPID, err)
	}
	fail := func(err error) (*nsinit.Join, *os.File, error) {
		if pidfd != nil {
			pidfd.Close()
		}
		return nil, nil, err
	}
	// The pidfd names whatever process had the PID when it was opened: it
	// must be the init, in the sandbox's cgroup.
	start := startTime(sb.InitPID)
	if !inCgroup(sb.InitPID, sb.Cgroup.Path) || start == 0 {
		return fail(notRunning)
	}
	// Without -u, the sandbox's own user (the image's USER, run -u), as
	// docker's exec does. An unknown user is a command that cannot run:
	// 126, as in docker.
	spec := x.User
	if spec == "" {
		spec = proc.User
	}
	u, err := lookupUser(rootReader(fmt.Sprintf("/proc/%d/root", sb.InitPID)), spec)
	if err != nil {
		return fail(&ExecError{Code: ExitCannotExec, Msg: err.Error()})
	}
	if proc.UserNS {
		if err := u.checkUserNS(spec); err != nil {
			return fail(&ExecError{Code: ExitCannotExec, Msg: err.Error()})
		}
	}
	// docker's order: the sandbox's environment, HOME from the user's
	// passwd entry unless the sandbox sets one, TERM for a terminal, -e.
	env := proc.Env
	if envValue(env, "HOME") == "" {
		env = append(slices.Clip(env), "HOME="+u.Home)
	}
	if x.TTY && envValue(env, "TERM") == "" {
		env = append(env, "TERM=xterm")
	}
	env = MergeEnv(env, x.Env)
	cwd := x.WorkDir
	if cwd == "" {
		cwd = proc.Cwd
	}
	j := &nsinit.Join{
		InitPID: sb.InitPID, InitStart: start,
		Namespaces: joinOrder(sb.Namespaces), CgroupProcs: procsFiles(sb.Cgroup.Dirs),
		Cgroup2Dir: cgroup2Dir(sb.Cgroup), UID: u.UID, GID: u.GID, Groups: u.Groups, Detach: x.Detach,
		Exec: nsinit.Exec{Args: x.Args, Env: env, Cwd: cwd, Caps: proc.Caps, Seccomp: proc.Seccomp, TTY: x.TTY},
	}
	return j, pidfd, nil
}

// joinOrder lists the sandbox's namespaces as /proc/PID/ns names in the
// order to join them: the user namespace first, as it grants the
// capabilities the others need there; the mount namespace last, since it
// changes what /proc is. The init's own time namespace is the host's: its
// children's (the workload's) is time_for_children.
func joinOrder(kinds []string) []string {
	order := []string{"user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"}
	var out []string
	for _, k := range order {
		if !slices.Contains(kinds, k) {
			continue
		}
		if k == "time" {
			k = "time_for_children"
		}
		out = append(out, k)
	}
	return out
}

// cgroup2Dir is the sandbox's cgroup directory on a pure cgroup v2 host
// (on v1 and hybrid hosts, its controllers' cgroups are v1's).
func cgroup2Dir(cg state.Cgroup) string {
	if cg.Mode != "v2" {
		return ""
	}
	return cg.Dirs["unified"]
}

func procsFiles(dirs map[string]string) []string {
	var out []string
	for _, d := range dirs {
		f := filepath.Join(d, "cgroup.procs")
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// inCgroup says whether /proc/PID/cgroup puts the process in cgroup path
// (in any hierarchy).
func inCgroup(pid int, cg string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil || cg == "" {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, ":"+cg) {
			return true
		}
	}
	return false
}

// startTime is when process pid started, in clock ticks since boot
// (/proc/PID/stat, read with procfs); 0 if it is gone.
func startTime(pid int) uint64 {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0
	}
	st, err := p.Stat()
	if err != nil {
		return 0
	}
	return st.Starttime
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
