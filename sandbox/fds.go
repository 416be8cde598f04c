package sandbox

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInheritedFiles closes every descriptor from 3 up, except keep, that
// this process inherited from its caller: those without close-on-exec. Go
// opens all of its own with close-on-exec, so at the start of main only a
// caller's leaks lack it — a shell's `exec 77</root` would otherwise ride
// along into every process glassbox starts (the supervisor, the sandbox's
// init). Call it first thing in main.
func CloseInheritedFiles(keep ...int) {
	kept := func(fd int) bool {
		for _, k := range keep {
			if fd == k {
				return true
			}
		}
		return false
	}
	for _, fd := range openFDs() {
		if fd < 3 || kept(fd) {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue
		}
		unix.Close(fd)
	}
}

// openFDs lists this process's descriptors from /proc/self/fd (the list's
// own descriptor is closed again, and has close-on-exec); without /proc,
// every number below the descriptor limit.
func openFDs() []int {
	var fds []int
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range entries {
			if fd, err := strconv.Atoi(e.Name()); err == nil {
				fds = append(fds, fd)
			}
		}
		return fds
	}
	var rl unix.Rlimit
	max := 1024
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < 1<<20 {
		max = int(rl.Cur)
	}
	for fd := 0; fd < max; fd++ {
		fds = append(fds, fd)
	}
	return fds
}

// PrepareToStartProcesses does now, once per process, what the Go runtime
// otherwise does at its first start of a child: it checks that pidfds work,
// with a vfork of a child that exits at once (about 0.2 ms). Called on a
// goroutine while the process waits or checks a request, it keeps that off
// the clone of a sandbox's init.
func PrepareToStartProcesses() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
}
