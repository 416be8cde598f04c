//go:build !cgo

package nsinit

// early: without cgo there is no code that runs before the Go runtime;
// Main does the same steps in Go on its locked thread, and the workload is
// forked later (so its PID is not 2 but the next one after the runtime's
// threads).
func early() earlyResult { return earlyResult{} }
