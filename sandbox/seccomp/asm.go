package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Offsets in the kernel's struct seccomp_data: the call's number, its
// architecture, and six 64-bit arguments (little-endian machines: the low
// half first).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

func offArgLo(i uint) uint32 { return offArgs + 8*uint32(i) }
func offArgHi(i uint) uint32 { return offArgs + 8*uint32(i) + 4 }

// asm builds a program whose conditional jumps only ever skip one
// instruction or none; every longer way goes through an unconditional jump
// (32-bit offset) to a label, so no jump runs out of the 8-bit range of a
// conditional one however large the profile.
type asm struct {
	prog   []Instruction
	labels []int // label → instruction index, -1 until set
	fixups []fixup
}

type fixup struct{ at, label int }

func (a *asm) emit(code uint16, jt, jf uint8, k uint32) {
	a.prog = append(a.prog, Instruction{Code: code, Jt: jt, Jf: jf, K: k})
}

func (a *asm) load(off uint32) { a.emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0, 0, off) }
func (a *asm) and(k uint32)    { a.emit(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, 0, 0, k) }
func (a *asm) ret(k uint32)    { a.emit(unix.BPF_RET|unix.BPF_K, 0, 0, k) }

func (a *asm) jump(op uint16, k uint32, jt, jf uint8) {
	a.emit(unix.BPF_JMP|op|unix.BPF_K, jt, jf, k)
}

func (a *asm) newLabel() int {
	a.labels = append(a.labels, -1)
	return len(a.labels) - 1
}

func (a *asm) set(l int) { a.labels[l] = len(a.prog) }

func (a *asm) ja(l int) {
	a.fixups = append(a.fixups, fixup{at: len(a.prog), label: l})
	a.emit(unix.BPF_JMP|unix.BPF_JA, 0, 0, 0)
}

func (a *asm) resolve() ([]Instruction, error) {
	for _, f := range a.fixups {
		to := a.labels[f.label]
		if to <= f.at {
			return nil, fmt.Errorf("seccomp compiler: jump from %d to %d is not forward", f.at, to)
		}
		a.prog[f.at].K = uint32(to - f.at - 1)
	}
	return a.prog, nil
}

// tree dispatches on the call number in A over the intervals by binary
// search: at each node, numbers from the right half's start go right.
func (a *asm) tree(iv []interval, def uint32) {
	if len(iv) == 1 {
		a.leaf(iv[0].rules, def)
		return
	}
	mid := len(iv) / 2
	right := a.newLabel()
	a.jump(unix.BPF_JGE, iv[mid].start, 0, 1)
	a.ja(right)
	a.tree(iv[:mid], def)
	a.set(right)
	a.tree(iv[mid:], def)
}

// leaf tries the rules in order; the first whose conditions all hold
// returns its action.
func (a *asm) leaf(rules []rule, def uint32) {
	for _, r := range rules {
		fail := a.newLabel()
		for _, c := range r.conds {
			a.cond(c.Index, c.Op, c.Value, c.ValueTwo, fail)
		}
		a.ret(r.action)
		a.set(fail)
		if len(r.conds) == 0 {
			return // nothing after an unconditional rule is reached
		}
	}
	a.ret(def)
}
