// Package prefault maps the pages just ahead of the Go heap in one system
// call during package init, so that the allocations of the package inits
// after it, and of the command itself, find their pages already there.
//
// Why: where a guest's page tables are shadowed by its host (PVM guests,
// such as the VMs this project is tested on), the first touch of each page
// traps into the guest kernel and again into the host, ≈ 30 µs a page
// against ≈ 1 µs on bare metal, and a glassbox process touches some
// hundreds of fresh heap pages before it has done anything. One
// madvise(MADV_POPULATE_WRITE) (Linux 5.14) allocates and maps them
// without a trap per page. The pages stay zeroed, as the Go runtime
// expects of memory it has not used yet.
//
// It imports only syscall and unsafe: Go initializes the lexically first
// package whose imports are done, so that this one runs before the heavy
// package inits (regexps, protobuf registries, key tables) allocate.
package prefault

import (
	"syscall"
	"unsafe"
)

// Size is how much of the heap, from the page of the first object this
// package allocates, is mapped in advance: what a `run -d` CLI or a
// supervisor allocates before it settles (its heap's first pages are
// already in use when this package starts).
const Size = 1 << 20

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14; older kernels
// answer EINVAL and nothing changes).
const madvPopulateWrite = 23

// Warmed is what init mapped, for the tests: the range, and the kernel's
// refusal if any (the range may end at the end of the heap's mapping, or
// the kernel may be older than the flag).
var Warmed struct {
	Start, Len uintptr
	Err        error
}

var anchor *[64]byte

func init() {
	anchor = new([64]byte) // escapes: a heap object, in the heap's newest span
	page := uintptr(syscall.Getpagesize())
	Warmed.Start = uintptr(unsafe.Pointer(anchor)) &^ (page - 1)
	Warmed.Len = Size
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, Warmed.Start, Warmed.Len, madvPopulateWrite); errno != 0 {
		Warmed.Err = errno
	}
}
