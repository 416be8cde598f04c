//go:build cgo

package nsinit

// #include <stdlib.h>
// #include "prestart.h"
import "C"

import (
	"os"
	"sync"
	"unsafe"
)

var takeFront sync.Mutex

// Front hands over, once, this process's end of the pipe its front waits
// on: set when the binary was invoked as `glassbox run -d` and its
// constructor split the run in two (prestart.c). One byte written on it is
// the command's exit status, and ends the front; closing it unwritten makes
// the front wait for this process's own status. nil when there is none, or
// it was taken already.
func Front() *os.File {
	takeFront.Lock()
	defer takeFront.Unlock()
	fd := int(C.gb_front_fd)
	if fd < 0 {
		return nil
	}
	C.gb_front_fd = -1
	return os.NewFile(uintptr(fd), "front")
}

// DetachedRun says whether the constructor would split the run for the
// command line args (without the program's name).
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
