// Package nsinit is the sandbox's side of the start protocol: the code that
// runs as PID 1 inside the new namespaces (glassbox re-executed with the
// hidden verb Verb), builds the root filesystem, drops privileges, starts
// the workload and then serves as its init — reaping zombies, forwarding
// signals, and reporting the workload's exit status to the parent.
//
// The protocol itself is described in package sandbox (start.go).
package nsinit

import (
	"glassbox/sandbox/rootfs"
)

// Verb is the hidden first argument under which the glassbox binary runs
// as a sandbox's init.
const Verb = "sandbox-init"

// SocketFD is the init's end of the parent↔child socket (ExtraFiles[0]).
const SocketFD = 3

// Spec is everything the init needs, sent by the parent as one JSON line.
type Spec struct {
	Rootfs   rootfs.Spec `json:"rootfs"`
	Hostname string      `json:"hostname"`
	Args     []string    `json:"args"`
	Env      []string    `json:"env"`
	Cwd      string      `json:"cwd"`
	// Init: stay PID 1 as the workload's init; otherwise exec the workload
	// as PID 1 (--init=false).
	Init bool `json:"init"`
	// NewNet: the sandbox has its own network namespace; bring lo up.
	NewNet bool `json:"new_net"`
}

// Message kinds, init → parent.
const (
	MsgStarted = "started" // the workload runs (init mode)
	MsgError   = "error"   // set-up failed; the init exits 1
	MsgExit    = "exit"    // the workload ended; the init exits with Code
)

// Go is the parent's second line: the init is in its cgroup and attached
// to its network; it may create the cgroup namespace and start the workload.
const Go = "go"

// Message is one JSON line from the init to the parent.
type Message struct {
	Kind   string `json:"kind"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`   // exit code (shell convention: 128+signal)
	Signal int    `json:"signal,omitempty"` // the signal that killed the workload, 0 if it exited
	PID    int    `json:"pid,omitempty"`    // the workload's PID inside the sandbox
}
