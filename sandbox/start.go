package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/rootfs"
	"glassbox/sandbox/state"
)

// The start protocol between the parent (Start, in glassbox run or the
// supervisor) and the child (nsinit.Main, the sandbox's init). They talk
// over one socketpair: fd 3 in the child, JSON lines both ways.
//
//	step  parent (Start, Go)                       child (the init, C: nsinit/init.c)                  channel
//	----  ---------------------------------------  --------------------------------------------------  -----------
//	1     validate (the command and the user are   –                                                   state dir
//	      looked up in the layers); record
//	      "created" (unless the caller has);
//	      socket
//	2     create the cgroup, then clone+exec       born PID 1 in new pid/mnt/uts/ipc/net namespaces    clone flags
//	      /proc/self/exe sandbox-init init|noinit  (and, with cgroup.Starter, in its cgroup); an ELF
//	      with CLONE_NEW{PID,NS,UTS,IPC,NET}       constructor takes over before the Go runtime
//	      (+USER), PDEATHSIG, own session (fds     starts (no threads, no PIDs taken); closes every
//	      0-2 + the socket as 3) from a thread in  fd above 3 (a caller's leaks); blocks reading
//	      the cgroup (else AddProc after); mean-   fd 3
//	      while mkdir upper/work/rootfs, write
//	      the /etc files, plan the root
//	3     write 'c' + the spec (plan, command,     read 'c'; unshare CLONE_NEWCGROUP (its root is      fd 3 →
//	      caps, seccomp BPF compiled in Go)        the sandbox's cgroup) and, in init mode,
//	                                               CLONE_NEWTIME (for its children); read the spec
//	4     Hooks.OnCreated (network attach), while  carry out the plan: / private; overlay, proc, dev,  –
//	      the init builds the root                 sys, cgroupfs ro, tmp, /etc binds, masks,
//	                                               read-only paths (--read-only: /run tmpfs, the
//	                                               root remounted ro); lo up; sethostname
//	5     write 'g' (with the spec if no hook);    read 'g'; pivot_root; detach the old root           fd 3 →
//	      meanwhile write the process record
//	      (exec's) and run Hooks.Meanwhile
//	5'    -t: hand the master to Stdio.Terminal    open a pty of the sandbox's devpts, send its        ← fd 3
//	                                               master ({"kind":"pty"} + SCM_RIGHTS); the
//	                                               workload takes the other side as its
//	                                               controlling terminal and stdio (setsid)
//	6     read "started" → the workload's host     fork the workload (PID 2): every fd above 2         ← fd 3
//	      PID (init's child in the cgroup);        close-on-exec, chdir, take the user (uid, gid,
//	      record "running"; Start returns          groups), drop caps to the spec's set (inheritable
//	                                               and ambient empty), no_new_privs, install the
//	                                               seccomp filter (last), exec (a CLOEXEC pipe says
//	                                               exec worked); then write "started"
//	6'    --init=false: EOF on fd 3 = started      the same steps, exec the workload as PID 1 itself   ← fd 3 EOF
//	6''   "error" or EOF in init mode: roll back   write {"kind":"error"} and exit 1                   ← fd 3
//	      and diagnose (OOM kill of the init, …)
//	7     Wait: reap the init; read "exit"         sigwaitinfo: forward TERM/INT/HUP/QUIT/USR1/USR2;   ← fd 3
//	      (code, signal); OOM = SIGKILL + the      on SIGCHLD reap all; when the workload ends write
//	      cgroup's oom_kill counter advanced       "exit" and exit with its code (the kernel kills
//	                                               the rest of the pid namespace)
//	8     Destroy: kill what is left in the        –                                                   –
//	      cgroup, delete it, remove work/rootfs,
//	      the /etc files; upper/ and the state
//	      too unless KeepState (a supervisor's
//	      sandbox keeps them until rm)
//
// Mounts live only in the sandbox's mount namespace and vanish with its
// last process; the cgroup, the directories and the record are removed by
// the parent (Destroy, or Cleanup from the record after a crash).

// Start starts the sandbox and returns once its workload is running, or
// with everything it created removed and an error that says what failed.
// cfg must have passed Validate (in this process or, for a configuration
// read back from a spec, in the one that wrote it): Start does not check
// the user's input again.
func Start(cfg *Config, stdio Stdio) (_ *Container, err error) {
	if !state.IsID(cfg.ID) || cfg.WorkDir == "" || cfg.Network == "" || cfg.Security.Resolved == nil {
		return nil, errors.New("sandbox.Start: the configuration was not validated (call Config.Validate first)")
	}
	if cfg.TTY && stdio.Terminal == nil {
		return nil, errors.New("sandbox.Start: a terminal (Config.TTY) needs Stdio.Terminal to receive it")
	}
	if cfg.Network == NetworkBridge && cfg.Hooks.OnCreated == nil {
		return nil, errors.New("network bridge needs an attach hook (Hooks.OnCreated)")
	}
	store := state.NewStore(cfg.Roots)
	name := cfg.Name
	if name == "" {
		name = cfg.ID
	}
	var ownLock *state.Lock
	if cfg.Lock == nil {
		// A second at most: a prune may look at the new lock file.
		if ownLock, err = store.Lock(cfg.ID, time.Second); err != nil {
			return nil, fmt.Errorf("start sandbox %s: %w", cfg.ID, err)
		}
	}
	sb, reserved := baseRecord(store, cfg.ID, name)
	if !reserved {
		if err := checkName(store, cfg.ID, name); err != nil {
			ownLock.Remove()
			return nil, err
		}
	}
	dir := filepath.Join(cfg.Roots.ContainersDir(), cfg.ID)
	sb.ID, sb.Name, sb.Image, sb.Args, sb.Env, sb.ImageEnv = cfg.ID, name, cfg.Image, cfg.Args, cfg.Env, cfg.ImageEnv
	sb.Hostname, sb.Status, sb.SupervisorPID = cfg.Hostname, state.Created, os.Getpid()
	sb.Namespaces, sb.UserNS = namespaces(cfg), cfg.UserNS
	sb.Limits, sb.Layers, sb.Expose = limits(cfg.Resources), cfg.Layers, cfg.Expose
	sb.UpperDir = filepath.Join(dir, upperName)
	sb.WorkDir = filepath.Join(dir, "work")
	sb.RootFS = filepath.Join(dir, "rootfs")
	sb.Network.Mode = cfg.Network
	sb.Security = cfg.Security.Resolved.Record
	sb.InitPID, sb.WorkloadPID, sb.Exit, sb.Started = 0, 0, nil, time.Time{}
	if sb.Created.IsZero() {
		sb.Created = time.Now().UTC()
	}
	c := &Container{cfg: cfg, store: store, sb: sb, dir: dir, ownLock: ownLock}
	defer func() {
		if err != nil {
			err = c.diagnose(err)
			c.Destroy()
		}
	}()
	// The record comes first: if glassbox dies from here on, Cleanup finds
	// everything below from it (by the id: see cleanup). A record the
	// caller reserved says so already.
	if !reserved {
		if err := store.Save(sb); err != nil {
			return nil, err
		}
	}
	// The init's start overlaps the set-up instead of adding to it (see
	// startOverlap): its cgroup is made and it is cloned into its
	// namespaces — born in the cgroup where the host allows — while the
	// directories and the /etc files are made and the spec is worked out.
	cgReady := make(chan error, 1)
	launched := make(chan error, 1)
	go func() { launched <- c.launchInCgroup(stdio, cgReady) }()
	etc, err := c.prepare()
	if cerr := <-cgReady; err == nil {
		err = cerr
	}
	var spec []byte
	if err == nil {
		spec, err = c.spec(etc, stdio)
	}
	if lerr := <-launched; err == nil {
		err = lerr
	}
	if err != nil {
		return nil, err
	}
	// Without a hook there is nothing to wait for: 'g' goes with the spec.
	hook := cfg.Hooks.OnCreated
	if hook == nil {
		spec = append(spec, nsinit.Go)
	}
	if err := c.send(spec); err != nil {
		return nil, err
	}
	if hook != nil {
		if err := hook(sb); err != nil {
			return nil, fmt.Errorf("attach the sandbox: %w", err)
		}
		if _, err := c.conn.Write([]byte{nsinit.Go}); err != nil {
			return nil, fmt.Errorf("tell the init to go on: %w", err)
		}
	}
	// What exec reads, and the caller's own files, are written while the
	// init pivots and starts the workload: the start does not wait for
	// them, Start's return does.
	if err := writeProcess(store, cfg.ID, c.proc); err != nil {
		return nil, err
	}
	if cfg.Hooks.Meanwhile != nil {
		if err := cfg.Hooks.Meanwhile(); err != nil {
			return nil, err
		}
	}
	if err := c.awaitStarted(stdio); err != nil {
		return nil, err
	}
	sb.Started = time.Now().UTC()
	if err := sb.Transition(state.Running); err != nil {
		return nil, err
	}
	// A supervisor (KeepState) records the running sandbox itself as soon
	// as Start returns, with what it adds (ports, health, restarts): a save
	// here would be replaced at once, and each costs the start a new file.
	if !cfg.KeepState {
		if err := store.Save(sb); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// startOverlap: the clone of an init into new namespaces takes
// milliseconds (a network namespace, a copy of the mount table), and so
// does a move into a cgroup: writing cgroup.procs takes the kernel's
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
// period (≈ 10 ms on a 2-CPU VM) whenever no other move happened just
// before. Where the cgroup can take the cloning thread alone
// (cgroup.Starter: v1 and hybrid hosts), the init is born in its cgroup
// and no move happens at all; elsewhere it is moved in right after its
// clone. Either way the parent's other set-up goes on meanwhile, and the
// init waits on its socket for 'c' (step 3) before it does anything: it
// is in its cgroup before it reads its spec.

// launchInCgroup makes the sandbox's cgroup, says so on cgReady (the spec
// names its directories), then starts the init in it (step 2). What it
// makes is the sandbox's (Destroy removes it) even when it fails.
func (c *Container) launchInCgroup(stdio Stdio, cgReady chan<- error) error {
	cg, err := cgroup.New(c.cfg.ID, c.cfg.Resources)
	if err == nil {
		c.cg = cg
		c.sb.Cgroup = state.Cgroup{Mode: cg.Mode(), Path: cg.Path(), Dirs: cg.Dirs()}
		c.oomBefore, err = cg.OOMKills()
	} else {
		err = fmt.Errorf("create the cgroup: %w", err)
	}
	cgReady <- err
	if err != nil {
		return nil // said on cgReady
	}
	if s, ok := cg.(cgroup.Starter); ok {
		err := s.StartIn(func(cgroupFD int) error { return c.launch(stdio, cgroupFD) })
		if !errors.Is(err, cgroup.ErrNoStartIn) {
			return err
		}
	}
	if err := c.launch(stdio, -1); err != nil {
		return err
	}
	return cg.AddProc(c.sb.InitPID)
}

// prepare makes the files the init's spec names (step 1): the writable
// layer's directories and the /etc files. What it makes is the sandbox's
// (Destroy removes it) even when it fails half-way.
func (c *Container) prepare() (map[string]string, error) {
	if err := makeDirs(c.sb, c.cfg.UserNS); err != nil {
		return nil, err
	}
	return etcFiles(c.dir, c.cfg.Hostname, c.cfg.Network)
}

// spec is what the init carries out: the root filesystem's plan and the
// workload to exec, encoded for init.c.
func (c *Container) spec(etc map[string]string, stdio Stdio) ([]byte, error) {
	var dirs []string
	for _, d := range c.sb.Cgroup.Dirs {
		dirs = append(dirs, d)
	}
	cgs, err := rootfs.HostCgroupMounts("/proc/self/mountinfo", dirs)
	if err != nil {
		return nil, err
	}
	lower := make([]string, len(c.cfg.Layers))
	for i, l := range c.cfg.Layers {
		lower[i] = l.Dir
	}
	if lower, err = shortLowerDirs(c.cfg.Roots, c.cfg.ID, lower); err != nil {
		return nil, err
	}
	plan, err := rootfs.Plan(&rootfs.Spec{
		Lower: lower, Upper: c.sb.UpperDir, Work: c.sb.WorkDir, Target: c.sb.RootFS,
		EtcFiles: etc, Cgroups: cgs, UserNS: c.cfg.UserNS,
		Hostname: c.cfg.Hostname, NewNet: c.cfg.Network != NetworkHost,
		ReadOnly: c.cfg.Security.ReadOnly,
		Volatile: c.cfg.ThrowawayUpper && volatileOverlay(),
	})
	if err != nil {
		return nil, err
	}
	env := workloadEnv(c.cfg.Env, c.cfg.Hostname)
	// The root as the workload will see it: what it wrote before (a
	// restart keeps the writable layer) over the image's layers.
	merged := append([]state.Layer{{Dir: c.sb.UpperDir}}, c.cfg.Layers...)
	path, err := resolveCommand(merged, c.cfg.Args[0], env)
	if err != nil {
		return nil, err
	}
	u, err := lookupUser(layerReader(merged), c.cfg.User)
	if err != nil {
		return nil, err
	}
	if c.cfg.UserNS {
		if err := u.checkUserNS(c.cfg.User); err != nil {
			return nil, err
		}
	}
	c.sb.User = state.User{Spec: c.cfg.User, UID: u.UID, GID: u.GID, Groups: u.Groups}
	sec := c.cfg.Security.Resolved
	c.proc = &processRecord{Env: env, Cwd: c.cfg.WorkDir, Caps: sec.CapMask, Seccomp: sec.Filter, UserNS: c.cfg.UserNS, User: c.cfg.User}
	// docker's HOME: the image's or -e's, else the user's from passwd.
	if envValue(env, "HOME") == "" {
		env = append(slices.Clip(env), "HOME="+u.Home)
	}
	return nsinit.Encode(plan, &nsinit.Exec{
		Path: path, Args: c.cfg.Args, Env: env, Cwd: c.cfg.WorkDir,
		UID: u.UID, GID: u.GID, Groups: u.Groups,
		Caps: sec.CapMask, Seccomp: sec.Filter,
		TTY: c.cfg.TTY, Rows: stdio.Rows, Cols: stdio.Cols,
	})
}

// launch clones the init into its new namespaces (step 2), and into the
// cgroup directory cgroupFD unless it is -1 (CLONE_INTO_CGROUP).
func (c *Container) launch(stdio Stdio, cgroupFD int) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "sandbox-socket-child")
	defer child.Close()
	if c.conn, err = nsinit.NewConn(os.NewFile(uintptr(fds[0]), "sandbox-socket")); err != nil {
		return err
	}

	flags := uintptr(unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if c.cfg.Network != NetworkHost {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{
		Cloneflags: flags,
		// If glassbox dies, so does the sandbox; Cleanup removes the rest.
		Pdeathsig: syscall.SIGKILL,
		// Its own session: a Ctrl-C on the terminal reaches glassbox only,
		// which forwards it once.
		Setsid: true,
	}
	if c.cfg.UserNS {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: UIDMapStart, Size: UIDMapSize}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: UIDMapStart, Size: UIDMapSize}}
		attr.GidMappingsEnableSetgroups = true
		// Become the namespace's root (host uid UIDMapStart) before exec:
		// the host's root is unmapped in there, and an unmapped uid would
		// lose every capability at exec.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if cgroupFD >= 0 {
		attr.UseCgroupFD, attr.CgroupFD = true, cgroupFD
	}
	mode := nsinit.ModeInit
	if c.cfg.NoInit {
		mode = nsinit.ModeNoInit
	}
	bin := c.cfg.InitBinary
	if bin == "" {
		bin = "/proc/self/exe"
	}
	c.cmd = &exec.Cmd{
		Path:        bin,
		Args:        []string{"glassbox", nsinit.Verb, mode},
		Env:         []string{},
		Stdin:       stdio.In,
		Stdout:      stdio.Out,
		Stderr:      stdio.Err,
		ExtraFiles:  []*os.File{child},
		SysProcAttr: attr,
	}
	if stdio.In == nil || !c.cfg.OpenStdin {
		c.cmd.Stdin = nil // exec.Cmd opens /dev/null
	}
	if c.cfg.TTY {
		// The workload's stdio is its terminal; the init has nothing to say.
		c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = nil, nil, nil
	}
	if err := c.cmd.Start(); err != nil {
		c.cmd = nil
		// The parent's end goes too: a start refused by the kernel may be
		// tried again (launch without CLONE_INTO_CGROUP).
		c.conn.Close()
		c.conn = nil
		return fmt.Errorf("start the sandbox's init (%s): %w", bin, err)
	}
	c.sb.InitPID = c.cmd.Process.Pid
	return nil
}

// send tells the init it is in its cgroup and gives it its spec (step 3).
func (c *Container) send(spec []byte) error {
	msg := append([]byte{nsinit.InCgroup}, spec...)
	if _, err := c.conn.Write(msg); err != nil {
		return fmt.Errorf("send the sandbox spec: %w", err)
	}
	return nil
}

// errInitDied is a start that ended without a word from the init.
var errInitDied = errors.New("the sandbox's init died during set-up")

// awaitStarted reads the init's answer to "go" (step 6), and hands the
// terminal's master side, which comes first, to the caller.
func (c *Container) awaitStarted(stdio Stdio) error {
	m, err := c.read()
	if err == nil && m.Kind == nsinit.MsgPTY {
		stdio.Terminal(m.File)
		m, err = c.read()
	}
	switch {
	case errors.Is(err, io.EOF) && c.cfg.NoInit:
		// The socket closed on exec: the workload is PID 1.
		c.sb.WorkloadPID = c.sb.InitPID
		return nil
	case errors.Is(err, io.EOF):
		return errInitDied
	case err != nil:
		return err
	case m.Kind == nsinit.MsgError:
		return errors.New(m.Error)
	case m.Kind != nsinit.MsgStarted:
		return fmt.Errorf("unexpected message from the init: %q", m.Kind)
	}
	pid, err := c.workloadPID(m.PID)
	if err != nil {
		return err
	}
	c.sb.WorkloadPID = pid // 0: it has ended already, its exit is on the way
	return nil
}

func (c *Container) read() (*nsinit.Message, error) { return c.conn.Read() }
