//go:build !cgo

package nsinit

// PrestartedSupervisor: without cgo no constructor runs, and none is.
func PrestartedSupervisor() (pid, fd int) { return 0, -1 }

// DetachedRun: without cgo the constructor starts nothing.
func DetachedRun(args []string) bool { return false }
