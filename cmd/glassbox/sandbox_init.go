package main

import (
	"os"
	"runtime"

	"glassbox/sandbox/nsinit"
)

// The hidden verb that makes this binary a sandbox's init (nsinit.Verb),
// handled before cobra and main: the init runs on the main thread, locked
// to it from here on, because the namespaces it unshares late (cgroup,
// time) and the capabilities it drops belong to one thread, the one that
// then forks the workload.
func init() {
	if len(os.Args) > 1 && os.Args[1] == nsinit.Verb {
		runtime.LockOSThread()
		os.Exit(nsinit.Main())
	}
}
