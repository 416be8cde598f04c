package seccomp

import (
	"reflect"
	"runtime"
	"slices"
	"testing"

	"glassbox/sandbox/nsinit"
)

// The prebuilt default filter is the compiler's output for docker's
// default capabilities, and those are nsinit's defaults: otherwise it is
// stale (run go generate ./sandbox/seccomp), or never used.
func TestPrebuiltDefaultIsCurrent(t *testing.T) {
	p := prebuiltDefault
	mask, err := nsinit.Capabilities(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if caps := slices.Sorted(slices.Values(nsinit.CapList(mask))); !reflect.DeepEqual(p.caps, caps) {
		t.Errorf("prebuilt for %v, but the default capabilities are %v: run go generate ./sandbox/seccomp", p.caps, caps)
	}
	if p.arch != runtime.GOARCH || !kernelAtLeast(p.minKernel) {
		t.Skipf("prebuilt for %s from kernel %d.%d: not used here", p.arch, p.minKernel[0], p.minKernel[1])
	}
	want, err := CompileDefault(p.caps)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DefaultFilter(p.caps)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the prebuilt default filter differs from a fresh compile (%d vs %d instructions): run go generate ./sandbox/seccomp", len(got.Program), len(want.Program))
	}
	// Each caller gets its own copy.
	got.Program[0].K++
	if again, _ := DefaultFilter(p.caps); again.Program[0] != want.Program[0] {
		t.Error("DefaultFilter hands out the prebuilt program itself, not a copy")
	}
}

// The order the capabilities come in does not matter.
func TestPrebuiltAnyOrder(t *testing.T) {
	if prebuiltDefault.arch != runtime.GOARCH || !kernelAtLeast(prebuiltDefault.minKernel) {
		t.Skip("prebuilt filter not used here")
	}
	if f := prebuiltDefault.lookup(defaultCaps); f == nil {
		t.Error("docker's default capabilities in docker's order did not find the prebuilt filter")
	}
}

// Another capability set is compiled, not taken from the prebuilt one.
func TestPrebuiltOnlyForItsCaps(t *testing.T) {
	caps := append(append([]string{}, prebuiltDefault.caps...), "CAP_SYS_ADMIN")
	if f := prebuiltDefault.lookup(caps); f != nil {
		t.Error("lookup answered for another capability set")
	}
}

func TestKernelAtLeast(t *testing.T) {
	if !kernelAtLeast([2]int{2, 6}) {
		t.Error("this kernel is not at least 2.6?")
	}
	if kernelAtLeast([2]int{999, 0}) {
		t.Error("this kernel is at least 999.0?")
	}
}
