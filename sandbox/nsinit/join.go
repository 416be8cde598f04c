package nsinit

import (
	"errors"
	"strconv"
)

// ExecVerb is the hidden first argument under which the glassbox binary
// steps into a running sandbox (exec.c): argv is "glassbox sandbox-exec
// ID", the socket is fd 3 and a pidfd of the sandbox's init fd 4.
const ExecVerb = "sandbox-exec"

// Join is a process to start inside a running sandbox: whose namespaces to
// join, which cgroups to enter, and as whom to run what. Exec's Path is not
// used: Args[0] is searched in the PATH of Env inside the sandbox, where
// the command is looked up at the moment it runs.
type Join struct {
	// InitPID is the sandbox's PID 1 on the host; InitStart its start time
	// (/proc/PID/stat field 22), which identifies it where the kernel has
	// no pidfds.
	InitPID   int
	InitStart uint64
	// Namespaces are names in /proc/PID/ns, in the order to join them:
	// user first, mnt last. "cgroup" is joined by the child after it has
	// entered the cgroups.
	Namespaces []string
	// CgroupProcs are the cgroup.procs files of the sandbox's cgroup, one
	// per hierarchy.
	CgroupProcs []string
	// Cgroup2Dir is the sandbox's cgroup on a cgroup v2 host: the process
	// is then born in it (clone3's CLONE_INTO_CGROUP), with no migration
	// to wait for; CgroupProcs are the fallback.
	Cgroup2Dir string
	UID, GID   uint32
	Groups     []uint32
	// Detach leaves the process to the sandbox's init (exec -d).
	Detach bool
	Exec
}

// EncodeJoin is the spec as exec.c reads it.
func EncodeJoin(j *Join) ([]byte, error) {
	if len(j.Args) == 0 || j.Args[0] == "" {
		return nil, errors.New("no command")
	}
	var s spec
	s.num(j.InitPID)
	s.field(strconv.FormatUint(j.InitStart, 10))
	s.flag(j.TTY)
	s.flag(j.Detach)
	s.num(int(j.Rows))
	s.num(int(j.Cols))
	s.list(j.Namespaces)
	s.list(j.CgroupProcs)
	s.field(j.Cgroup2Dir)
	s.field(strconv.FormatUint(uint64(j.UID), 10))
	s.field(strconv.FormatUint(uint64(j.GID), 10))
	s.num(len(j.Groups))
	for _, g := range j.Groups {
		s.field(strconv.FormatUint(uint64(g), 10))
	}
	s.field(strconv.FormatUint(j.Caps, 10))
	s.field(j.Seccomp)
	s.field(j.Cwd)
	s.list(j.Args)
	s.list(j.Env)
	return s.bytes(j.Args, j.Env, j.Namespaces, j.CgroupProcs, []string{j.Cwd, j.Cgroup2Dir})
}
