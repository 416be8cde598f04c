package seccomp

import "sort"

//go:generate go run gen_tables.go

// archInfo is an architecture as a filter sees it: the number the kernel
// gives it in seccomp_data.arch (AUDIT_ARCH_*), the bit its system call
// numbers carry (the x32 ABI's), and its system calls by name.
type archInfo struct {
	name  string
	id    uint32
	mask  int
	calls syscallTable
}

// syscallTable is an architecture's system calls, sorted by name. It is
// static data (tables.go), not a map built at start-up: only the processes
// that compile a filter read it.
type syscallTable []struct {
	name string
	nr   int
}

// number is the system call's number on a, without the mask.
func (a *archInfo) number(name string) (int, bool) {
	i := sort.Search(len(a.calls), func(i int) bool { return a.calls[i].name >= name })
	if i < len(a.calls) && a.calls[i].name == name {
		return a.calls[i].nr, true
	}
	return 0, false
}
