package seccomp

//go:generate go run gen_default.go

import (
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// prebuilt is docker's default profile compiled at build time for the one
// capability set nearly every sandbox keeps — docker's default — on one
// architecture (default_gen.go, written by go generate with this
// package's own compiler; TestPrebuiltDefaultIsCurrent fails when it is
// stale). Compiling it costs every start 0.4 to 2 ms of the CLI's CPU;
// this costs a copy. Any other capability set, architecture or an older
// kernel than the profile's newest kernel condition compiles as before.
type prebuilt struct {
	arch      string   // GOARCH it was compiled for
	minKernel [2]int   // the profile's newest "from kernel" condition: older kernels resolve it otherwise
	caps      []string // sorted
	filter    Filter
}

// lookup is the prebuilt filter for caps on this machine, or nil.
func (p *prebuilt) lookup(caps []string) *Filter {
	// The profile asks only whether a capability is in the set.
	if p.arch != runtime.GOARCH || !slices.Equal(p.caps, slices.Sorted(slices.Values(caps))) || !kernelAtLeast(p.minKernel) {
		return nil
	}
	f := p.filter
	f.Program = slices.Clone(f.Program)
	f.Denied = slices.Clone(f.Denied)
	return &f
}

// kernelAtLeast says whether the running kernel is version v[0].v[1] or
// newer; false when its release cannot be read.
func kernelAtLeast(v [2]int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	fields := strings.FieldsFunc(rel, func(r rune) bool { return r < '0' || r > '9' })
	if len(fields) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(fields[0])
	minor, err2 := strconv.Atoi(fields[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major > v[0] || major == v[0] && minor >= v[1]
}
