package nsinit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/rootfs"
)

// Main is the sandbox's init, run by the hidden verb. It must be called on
// the main goroutine with runtime.LockOSThread in force (from an init
// function of package main): namespaces (cgroup, time) and capabilities
// are per thread, and the workload is forked from this thread.
// It returns the exit status for os.Exit.
func Main() int {
	runtime.LockOSThread()
	e := early()
	if e.stage == 2 {
		return workloadStage()
	}
	sock := os.NewFile(SocketFD, "sandbox-socket")
	// The workload must not inherit the socket: its closing is how the
	// parent learns that an exec'd PID 1 workload started.
	syscall.CloseOnExec(SocketFD)
	enc := json.NewEncoder(sock)
	fail := func(err error) int {
		enc.Encode(Message{Kind: MsgError, Error: err.Error()})
		return 1
	}
	if e.err != nil {
		return fail(e.err)
	}
	initMode := len(os.Args) > 2 && os.Args[2] == ModeInit
	if !e.done {
		// No early stage (built without cgo): do its steps here, on the
		// locked thread from which the workload will be forked.
		var b [1]byte
		if _, err := io.ReadFull(sock, b[:]); err != nil {
			return fail(fmt.Errorf("wait for the parent's cgroup byte: %w", err))
		}
		if err := unshareLate(initMode); err != nil {
			return fail(err)
		}
	}
	in := bufio.NewReader(sock)

	var spec Spec
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fail(fmt.Errorf("read the sandbox spec: %w", err))
	}
	if err := json.Unmarshal(line, &spec); err != nil {
		return fail(fmt.Errorf("decode the sandbox spec: %w", err))
	}
	if err := rootfs.Prepare(&spec.Rootfs); err != nil {
		return fail(err)
	}
	// The cgroup namespace exists already: its cgroupfs shows the
	// sandbox's cgroup as the root.
	if err := rootfs.MountCgroups(spec.Rootfs.Target, spec.Rootfs.Cgroups); err != nil {
		return fail(err)
	}
	if spec.NewNet {
		if err := loopbackUp(); err != nil {
			return fail(err)
		}
	}
	if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
		return fail(fmt.Errorf("set hostname %q: %w", spec.Hostname, err))
	}
	// Wait for the parent's hooks (network attach) before the workload runs.
	line, err = in.ReadBytes('\n')
	if err != nil || string(line) != Go+"\n" {
		return fail(fmt.Errorf("wait for the parent's go: %q %v", line, err))
	}
	if err := rootfs.PivotRoot(spec.Rootfs.Target); err != nil {
		return fail(err)
	}
	path, err := lookPath(spec.Args[0], spec.Env)
	if err != nil {
		return fail(err)
	}
	w := &workload{Path: path, Args: spec.Args, Env: spec.Env, Cwd: spec.Cwd}
	switch {
	case !spec.Init:
		// The workload becomes PID 1. On success the socket closes (CLOEXEC):
		// that end-of-file is the parent's "started".
		return fail(w.exec())
	case e.child > 0:
		if err := w.release(e.child); err != nil {
			return fail(err)
		}
		return serve(e.child, enc)
	default:
		pid, err := w.fork()
		if err != nil {
			return fail(err)
		}
		return serve(pid, enc)
	}
}

// ModeInit and ModeNoInit are the init's second argument: whether it stays
// PID 1 with the workload as its child, or execs the workload.
const (
	ModeInit   = "init"
	ModeNoInit = "noinit"
)

// earlyResult is what the early stage (early_cgo.go) did before the Go
// runtime started.
type earlyResult struct {
	done  bool  // it ran: the cgroup namespace exists
	stage int   // 1: the init; 2: the workload's process, forked as PID 2
	child int   // in the init: the PID of the workload's process
	err   error // what failed, to report over the socket
}

// unshareLate creates the namespaces that must come after the move into the
// cgroup: the cgroup namespace (its root is the cgroup the process is in
// when it is created, so the sandbox sees its own cgroup as "/"), and the
// time namespace where the kernel has one. Both apply to this thread; the
// time namespace only to the children it forks (time_for_children).
func unshareLate(initMode bool) error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare the cgroup namespace: %w", err)
	}
	if _, err := os.Stat("/proc/self/ns/time"); err == nil && initMode {
		if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
			return fmt.Errorf("unshare the time namespace: %w", err)
		}
	}
	return nil
}

// loopbackUp brings lo up in the sandbox's new network namespace, where the
// kernel creates it down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// lookPath resolves the workload's command in the sandbox's root with the
// workload's PATH (not the init's).
func lookPath(name string, env []string) (string, error) {
	if name == "" {
		return "", errors.New("empty command")
	}
	if containsSlash(name) {
		return name, checkExecutable(name)
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			path = kv[5:]
		}
	}
	for _, dir := range splitList(path) {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in the sandbox's PATH (%s)", name, path)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("command %s: %w", p, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("command %s: not an executable file", p)
	}
	return nil
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ':' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
