package seccomp

import (
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// The filters use the static tables of tables.go; the library they were
// generated from is the reference (go generate writes them anew).
func TestTablesAreTheLibrarys(t *testing.T) {
	for _, c := range []struct {
		ours *archInfo
		lib  *arch.Info
	}{
		{archX86_64, arch.X86_64},
		{archI386, arch.I386},
		{archX32, arch.X32},
		{archAARCH64, arch.AARCH64},
		{archARM, arch.ARM},
	} {
		if c.ours.name != c.lib.Name || c.ours.id != uint32(c.lib.ID) || c.ours.mask != c.lib.SeccompMask {
			t.Errorf("%s: ours is %s, audit arch %#x, mask %#x; the library's %s, %#x, %#x",
				c.lib.Name, c.ours.name, c.ours.id, c.ours.mask, c.lib.Name, uint32(c.lib.ID), c.lib.SeccompMask)
		}
		if len(c.ours.calls) != len(c.lib.SyscallNames) {
			t.Errorf("%s: %d system calls, the library has %d: run go generate ./sandbox/seccomp", c.lib.Name, len(c.ours.calls), len(c.lib.SyscallNames))
		}
		for name := range c.lib.SyscallNames {
			// x32 has two numbers for some calls (see gen_tables.go): the
			// library's number → name table is the reference.
			if got, ok := c.ours.number(name); !ok || c.lib.SyscallNumbers[got] != name {
				t.Errorf("%s: %s is %d (known: %v), the library says %d is %q", c.lib.Name, name, got, ok, got, c.lib.SyscallNumbers[got])
			}
		}
		for i := 1; i < len(c.ours.calls); i++ {
			if c.ours.calls[i-1].name >= c.ours.calls[i].name {
				t.Errorf("%s: the table is not sorted at %s, %s", c.lib.Name, c.ours.calls[i-1].name, c.ours.calls[i].name)
			}
		}
	}
}
