// Package nsinit is the sandbox's side of the start protocol: the init
// that runs as PID 1 inside the new namespaces (glassbox re-executed with
// the hidden verb Verb). It is written in C (init.c) and runs from an ELF
// constructor, before the Go runtime starts; this package holds what the
// parent needs to talk to it. The protocol is described in package sandbox
// (start.go).
package nsinit

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"glassbox/sandbox/rootfs"
)

// Verb is the hidden first argument under which the glassbox binary runs
// as a sandbox's init; ModeInit or ModeNoInit follows it.
const Verb = "sandbox-init"

// ModeInit and ModeNoInit are the init's second argument: whether it stays
// PID 1 with the workload as its child (PID 2), or execs the workload.
const (
	ModeInit   = "init"
	ModeNoInit = "noinit"
)

// The bytes the parent sends besides the spec.
const (
	// InCgroup is the first byte: the init is in its cgroup and may create
	// its cgroup namespace.
	InCgroup = 'c'
	// Go is sent once the parent's hooks (network attach) are done: the
	// init may pivot into its root and start the workload.
	Go = 'g'
)

// Message kinds, init → parent, one JSON line each.
const (
	MsgStarted = "started" // the workload runs (init mode)
	MsgError   = "error"   // set-up failed; the init exits 1
	MsgExit    = "exit"    // the workload ended; the init exits with Code
	MsgPTY     = "pty"     // the master side of the workload's terminal rides along (SCM_RIGHTS)
)

// Message is one JSON line from the init to the parent.
type Message struct {
	Kind   string `json:"kind"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`   // exit code (shell convention: 128+signal)
	Signal int    `json:"signal,omitempty"` // the signal that killed the workload, 0 if it exited
	PID    int    `json:"pid,omitempty"`    // the workload's PID inside the sandbox
	// File is the descriptor a MsgPTY carries.
	File *os.File `json:"-"`
}

// Exec is the workload: the resolved executable, its argv and environment,
// its working directory, the capabilities it keeps and its seccomp filter
// (seccomp.Filter.Encode; empty for none); with TTY, a terminal of the
// sandbox's own devpts of Rows×Cols (0: the kernel's default), whose
// master side comes back as a MsgPTY.
type Exec struct {
	Path string
	Args []string
	Env  []string
	Cwd  string
	// UID, GID and Groups (supplementary) are who it runs as.
	UID, GID   uint32
	Groups     []uint32
	Caps       uint64
	Seccomp    string
	TTY        bool
	Rows, Cols uint16
}

// Encode is the spec as the init reads it: ten decimal digits of length,
// then NUL-terminated fields — the number of steps, each step
// (rootfs.Op.Encode), then path, cwd, caps, seccomp, argc, argv…, envc,
// env…, tty, rows, cols, uid, gid, ngroups, groups….
func Encode(plan []rootfs.Op, x *Exec) ([]byte, error) {
	if len(x.Args) == 0 {
		return nil, errors.New("no command")
	}
	var s spec
	s.num(len(plan))
	for _, op := range plan {
		s.b = op.Encode(s.b)
	}
	s.field(x.Path)
	s.field(x.Cwd)
	s.field(strconv.FormatUint(x.Caps, 10))
	s.field(x.Seccomp)
	s.list(x.Args)
	s.list(x.Env)
	s.flag(x.TTY)
	s.num(int(x.Rows))
	s.num(int(x.Cols))
	s.field(strconv.FormatUint(uint64(x.UID), 10))
	s.field(strconv.FormatUint(uint64(x.GID), 10))
	s.num(len(x.Groups))
	for _, g := range x.Groups {
		s.field(strconv.FormatUint(uint64(g), 10))
	}
	return s.bytes(x.Args, x.Env)
}

// spec builds the wire format init.c and exec.c read (wire.c).
type spec struct{ b []byte }

func (s *spec) field(v string) {
	if s.b == nil {
		s.b = make([]byte, 10, 4096)
	}
	s.b = append(append(s.b, v...), 0)
}

func (s *spec) num(n int) { s.field(strconv.Itoa(n)) }

func (s *spec) flag(v bool) {
	if v {
		s.field("1")
	} else {
		s.field("0")
	}
}

func (s *spec) list(vs []string) {
	s.num(len(vs))
	for _, v := range vs {
		s.field(v)
	}
}

// bytes is the spec with its length in front, unless an argument or an
// environment entry holds a NUL (it would end the field early).
func (s *spec) bytes(lists ...[]string) ([]byte, error) {
	for _, l := range lists {
		for _, v := range l {
			if strings.IndexByte(v, 0) >= 0 {
				return nil, fmt.Errorf("argument or environment entry %q holds a NUL byte", v)
			}
		}
	}
	if s.b == nil {
		s.b = make([]byte, 10)
	}
	copy(s.b, fmt.Sprintf("%010d", len(s.b)-10))
	return s.b, nil
}

// Main is what the hidden verb does when the init did not take over before
// the Go runtime started: run by hand, or in a binary built without cgo.
func Main() int {
	if !haveInit {
		fmt.Println("glassbox: this binary was built without cgo, which the sandbox init needs (build with CGO_ENABLED=1)")
	} else {
		fmt.Println("glassbox: sandbox-init is the sandbox's init; glassbox run starts it")
	}
	return 2
}

// Available says whether this binary carries the sandbox init.
func Available() bool { return haveInit }
