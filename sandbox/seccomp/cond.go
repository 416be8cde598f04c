package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cond emits a test of argument i that falls through when it holds and
// jumps to fail when it does not. BPF compares 32 bits at a time, so each
// 64-bit comparison looks at the high half first and at the low half only
// when the high halves are equal. Offsets in comments count from the
// instruction after the jump.
func (a *asm) cond(i uint, op specs.LinuxSeccompOperator, v, v2 uint64, fail int) {
	hi, lo := uint32(v>>32), uint32(v)
	switch op {
	case specs.OpEqualTo:
		a.load(offArgHi(i))
		a.jump(unix.BPF_JEQ, hi, 1, 0)
		a.ja(fail)
		a.load(offArgLo(i))
		a.jump(unix.BPF_JEQ, lo, 1, 0)
		a.ja(fail)
	case specs.OpMaskedEqual: // (arg & v) == v2
		a.load(offArgHi(i))
		a.and(hi)
		a.jump(unix.BPF_JEQ, uint32(v2>>32), 1, 0)
		a.ja(fail)
		a.load(offArgLo(i))
		a.and(lo)
		a.jump(unix.BPF_JEQ, uint32(v2), 1, 0)
		a.ja(fail)
	case specs.OpNotEqual:
		a.load(offArgHi(i))
		a.jump(unix.BPF_JEQ, hi, 0, 3) // high halves differ: holds
		a.load(offArgLo(i))
		a.jump(unix.BPF_JEQ, lo, 0, 1) // low halves differ: holds
		a.ja(fail)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		last := uint16(unix.BPF_JGT)
		if op == specs.OpGreaterEqual {
			last = unix.BPF_JGE
		}
		a.load(offArgHi(i))
		a.jump(unix.BPF_JGT, hi, 5, 0) // high half above: holds
		a.jump(unix.BPF_JEQ, hi, 1, 0)
		a.ja(fail) // high half below
		a.load(offArgLo(i))
		a.jump(last, lo, 1, 0)
		a.ja(fail)
	case specs.OpLessThan, specs.OpLessEqual:
		// The negations of >= and >: BPF has no "less than" jump.
		last := uint16(unix.BPF_JGE)
		if op == specs.OpLessEqual {
			last = unix.BPF_JGT
		}
		a.load(offArgHi(i))
		a.jump(unix.BPF_JGE, hi, 0, 5) // high half below: holds
		a.jump(unix.BPF_JEQ, hi, 1, 0)
		a.ja(fail) // high half above
		a.load(offArgLo(i))
		a.jump(last, lo, 0, 1)
		a.ja(fail)
	}
}
