package main

import (
	"os"

	"glassbox/sandbox/nsinit"
)

// The hidden verb under which this binary is a sandbox's init
// (nsinit.Verb). The init itself is C code run from an ELF constructor
// (sandbox/nsinit/init.c), before the Go runtime and this function: it
// never returns here. Only a hand-made call, or a binary built without
// cgo, reaches nsinit.Main, which says so.
func init() {
	if len(os.Args) > 1 && os.Args[1] == nsinit.Verb {
		os.Exit(nsinit.Main())
	}
}
