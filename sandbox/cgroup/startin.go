package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Starter is a Manager that can have a process born in its cgroup instead
// of moved there after its fork.
//
// Why: a move (a write to cgroup.procs) takes the kernel's
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
// period whenever no other move happened just before — ≈ 10 ms on a
// 2-CPU VM, the longest wait of a sandbox's start. A child of a thread that
// is in the cgroup is born in it (v1), and so is a child cloned with
// CLONE_INTO_CGROUP (v2): no move at all.
type Starter interface {
	// StartIn calls start, which must fork on the calling goroutine (as
	// exec.Cmd.Start does). cgroupFD is -1 when the goroutine's thread is
	// in the cgroup meanwhile (v1; the thread is back where it was when
	// StartIn returns); otherwise start must clone with CLONE_INTO_CGROUP
	// into that directory (syscall.SysProcAttr's UseCgroupFD and
	// CgroupFD). ErrNoStartIn: it cannot be done here, and no process was
	// started (start may have been called and failed to clone).
	StartIn(start func(cgroupFD int) error) error
}

// ErrNoStartIn says StartIn was not done (the caller starts the process
// outside and moves it in with AddProc).
var ErrNoStartIn = errors.New("cgroup: a process cannot be started inside this cgroup")

// StartIn on v1: the calling thread alone joins the sandbox's cgroup in
// every hierarchy by writing 0 to its tasks file. A single thread's move
// (tasks, pid 0: the writer itself) is the one move the kernel makes
// without cgroup_threadgroup_rwsem, so it waits for no grace period:
// ≈ 0.05 ms instead of ≈ 10. The thread is locked to the goroutine
// meanwhile, so no other goroutine runs in the sandbox's cgroup, and the
// Go runtime starts no thread from a locked one (it hands that to another
// thread): only the forked child inherits the sandbox's cgroups.
//
// Not done when a pids limit below 2 could not count the thread and the
// child together.
func (m *v1) StartIn(start func(cgroupFD int) error) error {
	if m.pidsLimit > 0 && m.pidsLimit < 2 {
		return ErrNoStartIn
	}
	runtime.LockOSThread()
	home, err := threadCgroups(m.fs.root, m.controllers())
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("%w: %v", ErrNoStartIn, err)
	}
	var joined []string
	for _, c := range m.controllers() {
		if err = writeTasks(m.dirs[c]); err != nil {
			err = fmt.Errorf("%w: join cgroup %s: %v", ErrNoStartIn, m.path, err)
			break
		}
		joined = append(joined, c)
	}
	if err == nil {
		err = start(-1)
	}
	// Home again, before any other goroutine may run on this thread. The
	// thread's own cgroup cannot have gone: the process's other threads
	// are in it. Should it refuse, the hierarchy's root takes the thread.
	var lerr error
	for _, c := range joined {
		if werr := writeTasks(home[c]); werr != nil {
			if rerr := writeTasks(filepath.Join(m.fs.root, c)); rerr != nil {
				lerr = errors.Join(lerr, fmt.Errorf("leave cgroup %s: %w", m.path, rerr))
			}
		}
	}
	if lerr != nil {
		// The thread stays locked: it ends with this goroutine rather than
		// run other goroutines inside the sandbox's cgroup. Not
		// ErrNoStartIn: the caller must not start the process again.
		if err != nil {
			lerr = fmt.Errorf("%v; %w", err, lerr)
		}
		return lerr
	}
	runtime.UnlockOSThread()
	return err
}

// StartIn on v2: the child is cloned straight into the cgroup
// (CLONE_INTO_CGROUP, clone3, Linux ≥ 5.7), which takes
// cgroup_threadgroup_rwsem only for reading, as every fork does. A kernel
// without it refuses the clone (ENOSYS: no clone3; E2BIG or EINVAL: no
// such flag) before any child exists; that is ErrNoStartIn.
func (m *v2) StartIn(start func(cgroupFD int) error) error {
	fd, err := unix.Open(m.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%w: open %s: %v", ErrNoStartIn, m.dir, err)
	}
	defer unix.Close(fd)
	err = start(fd)
	for _, refused := range []error{unix.ENOSYS, unix.E2BIG, unix.EINVAL} {
		if errors.Is(err, refused) {
			return fmt.Errorf("%w: clone into %s: %v", ErrNoStartIn, m.path, err)
		}
	}
	return err
}

// writeTasks moves the calling thread into the v1 cgroup dir.
func writeTasks(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("0")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// threadCgroups maps each of controllers to the directory of the calling
// thread's cgroup in that controller's hierarchy below root, from
// /proc/thread-self/cgroup ("id:controller[,controller…]:path").
func threadCgroups(root string, controllers []string) (map[string]string, error) {
	f, err := os.Open("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dirs := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			dirs[c] = filepath.Join(root, c, parts[2])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, c := range controllers {
		if dirs[c] == "" {
			return nil, fmt.Errorf("no %s hierarchy in /proc/thread-self/cgroup", c)
		}
	}
	return dirs, nil
}
