package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Starter is a Manager that can have a process born in its cgroup instead
// of moved there after its fork.
//
// Why: a move (a write to cgroup.procs) takes the kernel's
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
// period whenever no other move happened just before — ≈ 10 ms on a
// 2-CPU VM, the longest wait of a sandbox's start. A child of a thread that
// is in the cgroup is born in it, with no move at all.
type Starter interface {
	// StartIn calls start, which must fork on the calling goroutine (as
	// exec.Cmd.Start does), with that goroutine's thread in the cgroup; the
	// thread is back where it was when StartIn returns. ErrNoStartIn: it
	// cannot be done here; start was not called.
	StartIn(start func() error) error
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
func (m *v1) StartIn(start func() error) error {
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
		err = start()
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
