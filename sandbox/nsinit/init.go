package nsinit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
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
	sock := os.NewFile(SocketFD, "sandbox-socket")
	// The workload must not inherit the socket: its closing is how the
	// parent learns that an exec'd PID 1 workload started.
	syscall.CloseOnExec(SocketFD)
	in := bufio.NewReader(sock)
	enc := json.NewEncoder(sock)
	fail := func(err error) int {
		enc.Encode(Message{Kind: MsgError, Error: err.Error()})
		return 1
	}

	var spec Spec
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fail(fmt.Errorf("read the sandbox spec: %w", err))
	}
	if err := json.Unmarshal(line, &spec); err != nil {
		return fail(fmt.Errorf("decode the sandbox spec: %w", err))
	}
	// Everything that does not depend on the cgroup is built while the
	// parent moves this process into its cgroup.
	if err := rootfs.Prepare(&spec.Rootfs); err != nil {
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
	line, err = in.ReadBytes('\n')
	if err != nil || string(line) != Go+"\n" {
		return fail(fmt.Errorf("wait for the parent's go: %q %v", line, err))
	}
	if err := unshareLate(); err != nil {
		return fail(err)
	}
	if err := rootfs.MountCgroups(spec.Rootfs.Target, spec.Rootfs.Cgroups); err != nil {
		return fail(err)
	}
	if err := rootfs.PivotRoot(spec.Rootfs.Target); err != nil {
		return fail(err)
	}
	path, err := lookPath(spec.Args[0], spec.Env)
	if err != nil {
		return fail(err)
	}
	if err := dropCaps(); err != nil {
		return fail(err)
	}
	if err := unix.Chdir(spec.Cwd); err != nil {
		return fail(fmt.Errorf("working directory %s: %w", spec.Cwd, err))
	}
	if !spec.Init {
		// The workload becomes PID 1. On success the socket closes (CLOEXEC):
		// that end-of-file is the parent's "started".
		err := unix.Exec(path, spec.Args, spec.Env)
		return fail(fmt.Errorf("exec %s: %w", spec.Args[0], err))
	}
	return serve(path, &spec, enc)
}

// unshareLate creates the namespaces that must come after the move into the
// cgroup: the cgroup namespace (its root is the cgroup the process is in
// when it is created, so the sandbox sees its own cgroup as "/"), and the
// time namespace where the kernel has one. Both apply to this thread; the
// time namespace only to the children it forks (time_for_children).
func unshareLate() error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare the cgroup namespace: %w", err)
	}
	if _, err := os.Stat("/proc/self/ns/time"); err == nil {
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
