package seccomp

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Instruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter.
type Instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Encode is the program as the init reads it: each instruction's eight
// bytes in this machine's order, in hex.
func (f *Filter) Encode() string {
	b := make([]byte, 0, 8*len(f.Program))
	for _, in := range f.Program {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	return hex.EncodeToString(b)
}

// The kernel takes at most this many instructions in one filter.
const maxInstructions = 4096

// Compile turns a resolved profile into a BPF program for this machine.
//
// The program checks the architecture first (a foreign one kills the
// process, as a 32-bit call would otherwise be read with the wrong table),
// then finds the call's number by binary search over ranges of numbers
// that behave alike — about ten comparisons for docker's profile, against
// one per listed call for a plain list — and either returns the range's
// action or, for calls with argument rules, tries the rules in the
// profile's order: the first whose conditions all hold decides; none, and
// the default action does.
func Compile(p *specs.LinuxSeccomp) (*Filter, error) {
	nat, subs, err := native()
	if err != nil {
		return nil, err
	}
	def, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	for i, sc := range p.Syscalls {
		for _, n := range sc.Names {
			if !knownAnywhere(n) {
				return nil, fmt.Errorf("syscalls[%d]: unknown system call %q", i, n)
			}
		}
	}
	arches := []*archInfo{nat}
	for _, a := range p.Architectures {
		if info := specArch[a]; info != nil {
			for _, s := range subs {
				if s == info {
					arches = append(arches, s)
				}
			}
		}
	}
	var as asm
	as.load(offArch)
	var natRules map[uint32][]rule
	for _, a := range arches {
		byNr, err := rulesFor(p, a)
		if err != nil {
			return nil, err
		}
		if a == nat {
			natRules = byNr
		}
		next := as.newLabel()
		as.jump(unix.BPF_JEQ, a.id, 1, 0)
		as.ja(next)
		as.load(offNr)
		as.tree(intervals(byNr, def), def)
		as.set(next)
	}
	as.ret(unix.SECCOMP_RET_KILL_PROCESS)
	prog, err := as.resolve()
	if err != nil {
		return nil, err
	}
	if len(prog) > maxInstructions {
		return nil, fmt.Errorf("the profile compiles to %d BPF instructions, more than the kernel's %d", len(prog), maxInstructions)
	}
	f := &Filter{Program: prog}
	for _, c := range nat.calls {
		name, rs := c.name, natRules[uint32(c.nr)]
		switch {
		case len(rs) == 0 && allows(def), len(rs) > 0 && len(rs[0].conds) == 0 && allows(rs[0].action):
			f.Allowed++
		case len(rs) == 0, len(rs[0].conds) == 0:
			f.Denied = append(f.Denied, name)
		}
	}
	sort.Strings(f.Denied)
	return f, nil
}

func allows(act uint32) bool {
	return act == unix.SECCOMP_RET_ALLOW || act == unix.SECCOMP_RET_LOG
}

// action is the kernel's return value for a profile's action.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	if errnoRet != nil && a != specs.ActErrno && a != specs.ActTrace {
		return 0, fmt.Errorf("errnoRet goes only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s", a)
	}
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if *errnoRet > 0xffff {
			return 0, fmt.Errorf("errnoRet %d: too large", *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data, nil
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActNotify:
		return 0, fmt.Errorf("%s needs a user-space listener, which glassbox does not run", a)
	case "":
		return 0, fmt.Errorf("no action")
	}
	return 0, fmt.Errorf("unknown action %q (use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG)", a)
}

// A rule is one profile entry as it applies to one system call.
type rule struct {
	action uint32
	conds  []specs.LinuxSeccompArg
}

// rulesFor maps each system call number of a to its rules, in the
// profile's order. An unconditional rule ends the list (later ones could
// never apply); one that contradicts an earlier unconditional rule is an
// error rather than a silent choice.
func rulesFor(p *specs.LinuxSeccomp, a *archInfo) (map[uint32][]rule, error) {
	byNr := map[uint32][]rule{}
	closed := map[uint32]string{}
	for i, sc := range p.Syscalls {
		act, err := action(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d] (%s): %w", i, quoteAll(sc.Names), err)
		}
		for _, c := range sc.Args {
			if err := checkArg(c); err != nil {
				return nil, fmt.Errorf("syscalls[%d] (%s): %w", i, quoteAll(sc.Names), err)
			}
		}
		for _, name := range sc.Names {
			n, ok := a.number(name)
			if !ok {
				continue // a call of another architecture
			}
			nr := uint32(n)
			if prev, ok := closed[nr]; ok {
				if rs := byNr[nr]; len(sc.Args) == 0 && rs[len(rs)-1].action != act {
					return nil, fmt.Errorf("syscalls[%d]: %s has two rules without conditions and with different actions (%s and %s)", i, name, prev, sc.Action)
				}
				continue
			}
			byNr[nr] = append(byNr[nr], rule{action: act, conds: sc.Args})
			if len(sc.Args) == 0 {
				closed[nr] = string(sc.Action)
			}
		}
	}
	return byNr, nil
}

func checkArg(c specs.LinuxSeccompArg) error {
	if c.Index > 5 {
		return fmt.Errorf("argument index %d: a system call has arguments 0 to 5", c.Index)
	}
	switch c.Op {
	case specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual:
		return nil
	}
	return fmt.Errorf("unknown argument operator %q (use SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ)", c.Op)
}

// An interval is a range of system call numbers, from start to the next
// interval's start, that share their rules (none: the default action).
type interval struct {
	start uint32
	rules []rule
}

func intervals(byNr map[uint32][]rule, def uint32) []interval {
	nrs := make([]uint32, 0, len(byNr))
	for nr := range byNr {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	out := []interval{{start: 0}}
	add := func(start uint32, rules []rule) {
		last := &out[len(out)-1]
		if last.start == start {
			last.rules = rules
			if n := len(out); n > 1 && sameRules(out[n-2].rules, rules) {
				out = out[:n-1]
			}
			return
		}
		if !sameRules(last.rules, rules) {
			out = append(out, interval{start: start, rules: rules})
		}
	}
	for _, nr := range nrs {
		rules := byNr[nr]
		if len(rules) == 1 && len(rules[0].conds) == 0 && rules[0].action == def {
			rules = nil
		}
		add(nr, rules)
		if nr != ^uint32(0) {
			add(nr+1, nil)
		}
	}
	return out
}

func sameRules(a, b []rule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].action != b[i].action || len(a[i].conds) != len(b[i].conds) {
			return false
		}
		for j := range a[i].conds {
			if a[i].conds[j] != b[i].conds[j] {
				return false
			}
		}
	}
	return true
}
