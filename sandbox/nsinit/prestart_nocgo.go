//go:build !cgo

package nsinit

import "os"

// Front: without cgo no constructor runs, and no run is split.
func Front() *os.File { return nil }

// DetachedRun: without cgo the constructor splits nothing.
func DetachedRun(args []string) bool { return false }
