package prefault

import (
	"errors"
	"syscall"
	"testing"
	"unsafe"
)

// resident asks mincore whether the page at addr is in memory.
func resident(t *testing.T, addr uintptr) bool {
	t.Helper()
	var vec [1]byte
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, addr, uintptr(syscall.Getpagesize()), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatalf("mincore %#x: %v", addr, errno)
	}
	return vec[0]&1 == 1
}

// The last page of the range is one this small test binary's heap has not
// reached: it is in memory only because init mapped it.
func TestHeapAheadIsMappedAtInit(t *testing.T) {
	if errors.Is(Warmed.Err, syscall.EINVAL) {
		t.Skip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): nothing is prefaulted, as designed")
	}
	if Warmed.Err != nil {
		t.Fatalf("madvise(MADV_POPULATE_WRITE) of %#x+%d: %v", Warmed.Start, Warmed.Len, Warmed.Err)
	}
	page := uintptr(syscall.Getpagesize())
	last := Warmed.Start + Warmed.Len - page
	if !resident(t, last) {
		t.Errorf("page %#x, the last of the %d KiB init maps ahead of the heap, is not in memory", last, Warmed.Len>>10)
	}
}
