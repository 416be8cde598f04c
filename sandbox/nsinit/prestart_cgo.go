//go:build cgo

package nsinit

// #include <stdlib.h>
// #include "prestart.h"
import "C"

import (
	"sync"
	"unsafe"
)

var takePrestart sync.Mutex

// PrestartedSupervisor hands over, once, the supervisor the binary started
// before its Go runtime because it was invoked as `glassbox run -d`
// (prestart.c): its PID and this end of its socket (close-on-exec). It
// waits on the other end for the handoff; closing this one ends it. fd is
// -1 when there is none, or it was taken already.
func PrestartedSupervisor() (pid, fd int) {
	takePrestart.Lock()
	defer takePrestart.Unlock()
	pid, fd = int(C.gb_prestart_pid), int(C.gb_prestart_fd)
	C.gb_prestart_fd, C.gb_prestart_pid = -1, 0
	return pid, fd
}

// DetachedRun says whether the constructor would start a supervisor for
// the command line args (without the program's name).
func DetachedRun(args []string) bool {
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("glassbox"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	return C.gb_detached_run(C.int(len(argv)), &argv[0]) != 0
}
