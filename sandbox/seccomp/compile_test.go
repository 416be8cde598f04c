package seccomp

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// call is one system call as the filter sees it.
type call struct {
	arch *arch.Info
	name string
	nr   int // used when name is ""
	args [6]uint64
}

// run evaluates the filter on c in x/net/bpf's interpreter. It reads
// words big-endian where the kernel reads them in the machine's order, so
// the data is laid out big-endian here: the filter sees the same values.
func run(t *testing.T, f *Filter, c call) uint32 {
	t.Helper()
	raw := make([]bpf.Instruction, len(f.Program))
	for i, in := range f.Program {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}.Disassemble()
	}
	vm, err := bpf.NewVM(raw)
	if err != nil {
		t.Fatalf("the program does not load: %v", err)
	}
	nr := c.nr
	if c.name != "" {
		n, ok := c.arch.SyscallNames[c.name]
		if !ok {
			t.Fatalf("%s has no %s", c.arch.Name, c.name)
		}
		nr = n | c.arch.SeccompMask
	}
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[offNr:], uint32(nr))
	binary.BigEndian.PutUint32(data[offArch:], uint32(c.arch.ID))
	for i, v := range c.args {
		binary.BigEndian.PutUint32(data[offArgLo(uint(i)):], uint32(v))
		binary.BigEndian.PutUint32(data[offArgHi(uint(i)):], uint32(v>>32))
	}
	out, err := vm.Run(data)
	if err != nil {
		t.Fatalf("run %s: %v", c.name, err)
	}
	return uint32(out)
}

const (
	allow  = unix.SECCOMP_RET_ALLOW
	eperm  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	kill   = unix.SECCOMP_RET_KILL_PROCESS
)

var defaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

func TestDefaultProfile(t *testing.T) {
	f, err := DefaultFilter(defaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	a := arch.X86_64
	cases := []struct {
		c    call
		want uint32
	}{
		{call{arch: a, name: "read"}, allow},
		{call{arch: a, name: "mkdir"}, allow},
		{call{arch: a, name: "execve"}, allow},
		{call{arch: a, name: "chroot"}, allow}, // CAP_SYS_CHROOT is kept
		{call{arch: a, name: "mount"}, eperm},
		{call{arch: a, name: "umount2"}, eperm},
		{call{arch: a, name: "unshare"}, eperm},
		{call{arch: a, name: "setns"}, eperm},
		{call{arch: a, name: "keyctl"}, eperm},
		{call{arch: a, name: "add_key"}, eperm},
		{call{arch: a, name: "bpf"}, eperm},
		{call{arch: a, name: "perf_event_open"}, eperm},
		{call{arch: a, name: "kexec_load"}, eperm},
		{call{arch: a, name: "init_module"}, eperm},
		{call{arch: a, name: "finit_module"}, eperm},
		{call{arch: a, name: "reboot"}, eperm},
		{call{arch: a, name: "open_by_handle_at"}, eperm},
		{call{arch: a, name: "clock_settime"}, eperm},
		{call{arch: a, name: "clone3"}, enosys}, // so libc falls back to clone, whose flags are checked
		{call{arch: a, name: "clone", args: [6]uint64{uint64(unix.SIGCHLD)}}, allow},
		{call{arch: a, name: "clone", args: [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}}, eperm},
		{call{arch: a, name: "clone", args: [6]uint64{unix.CLONE_NEWNS}}, eperm},
		{call{arch: a, name: "socket", args: [6]uint64{unix.AF_INET}}, allow},
		{call{arch: a, name: "socket", args: [6]uint64{unix.AF_VSOCK}}, eperm},
		{call{arch: a, name: "socket", args: [6]uint64{41}}, allow},
		{call{arch: a, name: "personality", args: [6]uint64{0}}, allow},
		{call{arch: a, name: "personality", args: [6]uint64{0xffffffff}}, allow},
		{call{arch: a, name: "personality", args: [6]uint64{1}}, eperm},
		{call{arch: a, name: "personality", args: [6]uint64{1 << 32}}, eperm},
		{call{arch: a, nr: 0x7fff}, eperm},           // no such call
		{call{arch: arch.X32, name: "read"}, eperm},  // the x32 ABI is not in the list
		{call{arch: arch.I386, name: "read"}, allow}, // 32-bit x86 is, with its own numbers
		{call{arch: arch.I386, name: "mount"}, eperm},
		{call{arch: arch.AARCH64, name: "read"}, kill}, // a foreign architecture
	}
	for _, tc := range cases {
		name := tc.c.name
		if name == "" {
			name = fmt.Sprint(tc.c.nr)
		}
		if got := run(t, f, tc.c); got != tc.want {
			t.Errorf("%s %s(%#x): %#x, want %#x", tc.c.arch.Name, name, tc.c.args[0], got, tc.want)
		}
	}
	if f.Allowed < 300 || len(f.Denied) < 20 {
		t.Errorf("%s: docker's profile allows about 350 calls", f.Describe())
	}
	if n := len(f.Program); n > 1200 {
		t.Errorf("the default profile compiles to %d instructions", n)
	}
	notable := strings.Join(f.Notable(), " ")
	for _, want := range []string{"mount", "unshare", "setns", "bpf", "kexec_load", "open_by_handle_at"} {
		if !strings.Contains(notable, want) {
			t.Errorf("Notable() = %s: lacks %s", notable, want)
		}
	}
}

// Docker ties rules to capabilities: a sandbox that keeps CAP_SYS_ADMIN
// may mount and unshare, one with CAP_SYS_TIME may set the clock.
func TestDefaultProfileFollowsCapabilities(t *testing.T) {
	f, err := DefaultFilter(append(defaultCaps, "CAP_SYS_ADMIN", "CAP_SYS_TIME"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mount", "unshare", "setns", "clock_settime"} {
		if got := run(t, f, call{arch: arch.X86_64, name: name}); got != allow {
			t.Errorf("%s with CAP_SYS_ADMIN and CAP_SYS_TIME: %#x, want allow", name, got)
		}
	}
	if got := run(t, f, call{arch: arch.X86_64, name: "clone", args: [6]uint64{unix.CLONE_NEWUSER}}); got != allow {
		t.Errorf("clone(CLONE_NEWUSER) with CAP_SYS_ADMIN: %#x", got)
	}
	f, err = DefaultFilter(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, f, call{arch: arch.X86_64, name: "chroot"}); got != eperm {
		t.Errorf("chroot without CAP_SYS_CHROOT: %#x, want EPERM", got)
	}
}

func TestCustomProfile(t *testing.T) {
	f, err := Load([]byte(`{
		"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
			{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
			{"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
			{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 65280, "valueTwo": 21504, "op": "SCMP_CMP_MASKED_EQ"}]}
		]}`), defaultCaps)
	if err != nil {
		t.Fatal(err)
	}
	a := arch.X86_64
	for _, tc := range []struct {
		c    call
		want uint32
	}{
		{call{arch: a, name: "mkdir"}, eperm},
		{call{arch: a, name: "mkdirat"}, eperm},
		{call{arch: a, name: "getpid"}, enosys},
		{call{arch: a, name: "mount"}, allow},
		{call{arch: a, name: "kill", args: [6]uint64{1, 9}}, kill},
		{call{arch: a, name: "kill", args: [6]uint64{1, 15}}, allow},
		{call{arch: a, name: "ioctl", args: [6]uint64{0, unix.TCGETS}}, eperm}, // 0x5401 & 0xff00 == 0x5400
		{call{arch: a, name: "ioctl", args: [6]uint64{0, 0x8912}}, allow},
	} {
		if got := run(t, f, tc.c); got != tc.want {
			t.Errorf("%s(%v): %#x, want %#x", tc.c.name, tc.c.args[:2], got, tc.want)
		}
	}
}

func TestBadProfiles(t *testing.T) {
	for _, tc := range []struct{ profile, want string }{
		{`{"defaultAction": "SCMP_ACT_ALLOW",`, "not a seccomp profile"},
		{`{"defaultAction": "SCMP_ACT_ALLOW"} {}`, "data after"},
		{`{"defaultAction": "SCMP_ACT_ALOW"}`, `unknown action "SCMP_ACT_ALOW"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdri"], "action": "SCMP_ACT_ERRNO"}]}`, `unknown system call "mkdri"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_DENY"}]}`, `unknown action "SCMP_ACT_DENY"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "actoin": "SCMP_ACT_ERRNO"}]}`, `unknown field "actoin"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}`, "errnoRet goes only with"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "argument index 6"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}`, "unknown argument operator"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO"}, {"names": ["kill"], "action": "SCMP_ACT_KILL"}]}`, "two rules"},
		{`{"defaultAction": "SCMP_ACT_NOTIFY"}`, "listener"},
		{`{}`, "unconfined"},
	} {
		_, err := Load([]byte(tc.profile), defaultCaps)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s): %v, want an error saying %q", tc.profile, err, tc.want)
		}
	}
}

// Each comparison, on 64-bit values whose halves are equal, above and
// below each other, agrees with Go's.
func TestArgumentComparisons(t *testing.T) {
	ops := map[specs.LinuxSeccompOperator]func(a, v, v2 uint64) bool{
		specs.OpEqualTo:      func(a, v, _ uint64) bool { return a == v },
		specs.OpNotEqual:     func(a, v, _ uint64) bool { return a != v },
		specs.OpLessThan:     func(a, v, _ uint64) bool { return a < v },
		specs.OpLessEqual:    func(a, v, _ uint64) bool { return a <= v },
		specs.OpGreaterThan:  func(a, v, _ uint64) bool { return a > v },
		specs.OpGreaterEqual: func(a, v, _ uint64) bool { return a >= v },
		specs.OpMaskedEqual:  func(a, v, v2 uint64) bool { return a&v == v2 },
	}
	rng := rand.New(rand.NewSource(1))
	halves := []uint64{0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff}
	pick := func() uint64 {
		return halves[rng.Intn(len(halves))]<<32 | halves[rng.Intn(len(halves))]
	}
	for op, want := range ops {
		for i := 0; i < 200; i++ {
			v, v2 := pick(), pick()
			if op == specs.OpMaskedEqual {
				v2 &= v
			}
			f, err := Compile(&specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActErrno,
					Args: []specs.LinuxSeccompArg{{Index: 2, Value: v, ValueTwo: v2, Op: op}}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 20; j++ {
				a := pick()
				if j == 0 {
					a = v
				}
				got := run(t, f, call{arch: arch.X86_64, name: "getpid", args: [6]uint64{2: a}}) == eperm
				if got != want(a, v, v2) {
					t.Fatalf("%s: arg %#x against %#x/%#x: filter says %v, Go says %v", op, a, v, v2, got, !got)
				}
			}
		}
	}
}

func TestEncode(t *testing.T) {
	f := &Filter{Program: []Instruction{{Code: 0x15, Jt: 1, Jf: 2, K: 0x01020304}}}
	if got := f.Encode(); got != "1500010204030201" {
		t.Errorf("Encode() = %s (x86_64 and arm64 are little-endian)", got)
	}
}
