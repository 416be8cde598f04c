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
	"strconv"

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
)

// Message is one JSON line from the init to the parent.
type Message struct {
	Kind   string `json:"kind"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`   // exit code (shell convention: 128+signal)
	Signal int    `json:"signal,omitempty"` // the signal that killed the workload, 0 if it exited
	PID    int    `json:"pid,omitempty"`    // the workload's PID inside the sandbox
}

// Exec is the workload: the resolved executable, its argv and environment,
// its working directory, the capabilities it keeps and its seccomp filter
// (seccomp.Filter.Encode; empty for none).
type Exec struct {
	Path    string
	Args    []string
	Env     []string
	Cwd     string
	Caps    uint64
	Seccomp string
}

// Encode is the spec as the init reads it: ten decimal digits of length,
// then NUL-terminated fields — the number of steps, each step
// (rootfs.Op.Encode), then path, cwd, caps, seccomp, argc, argv…, envc,
// env….
func Encode(plan []rootfs.Op, x *Exec) ([]byte, error) {
	if len(x.Args) == 0 {
		return nil, errors.New("no command")
	}
	b := make([]byte, 10, 4096)
	field := func(s string) { b = append(append(b, s...), 0) }
	field(strconv.Itoa(len(plan)))
	for _, op := range plan {
		b = op.Encode(b)
	}
	field(x.Path)
	field(x.Cwd)
	field(strconv.FormatUint(x.Caps, 10))
	field(x.Seccomp)
	field(strconv.Itoa(len(x.Args)))
	for _, a := range x.Args {
		field(a)
	}
	field(strconv.Itoa(len(x.Env)))
	for _, e := range x.Env {
		field(e)
	}
	for _, s := range append(append([]string{}, x.Args...), x.Env...) {
		for i := 0; i < len(s); i++ {
			if s[i] == 0 {
				return nil, fmt.Errorf("argument or environment entry %q holds a NUL byte", s)
			}
		}
	}
	copy(b, fmt.Sprintf("%010d", len(b)-10))
	return b, nil
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
