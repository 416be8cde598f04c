// Package seccomp turns a seccomp profile in docker's format into the BPF
// program the sandbox's init installs just before it execs the workload.
//
// The default profile is docker's own (github.com/moby/profiles/seccomp,
// the list docker and its peers ship): about 370 system calls allowed, the
// rest — mount, unshare, setns, keyctl, bpf, perf_event_open, ptrace,
// kexec_load, init_module, reboot, open_by_handle_at, clock_settime, … —
// answer EPERM. Rules that docker ties to a capability (mount with
// CAP_SYS_ADMIN, clock_settime with CAP_SYS_TIME, …) are in only when the
// sandbox keeps that capability, as in docker. Profiles are read and
// resolved by the same library (includes, excludes, kernel versions); the
// compiler that turns the result into BPF is this package's (compile.go).
package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The values of --security-opt seccomp=… that are not a file.
const (
	Default    = "default"
	Unconfined = "unconfined"
)

// Filter is a profile compiled for this machine's architecture.
type Filter struct {
	// Program is the BPF program, as the kernel takes it.
	Program []Instruction
	// Allowed counts the system calls of the native architecture the
	// profile allows without condition.
	Allowed int
	// Denied are the native system calls the profile refuses outright,
	// sorted by name.
	Denied []string
}

// DefaultFilter is docker's default profile compiled for a sandbox that
// keeps the capabilities caps (names as CAP_SYS_ADMIN): for docker's
// default set the program compiled at build time (prebuilt.go), else
// CompileDefault's.
func DefaultFilter(caps []string) (*Filter, error) {
	if f := prebuiltDefault.lookup(caps); f != nil {
		return f, nil
	}
	return CompileDefault(caps)
}

// CompileDefault compiles docker's default profile for a sandbox that
// keeps the capabilities caps.
func CompileDefault(caps []string) (*Filter, error) {
	p, err := mobyseccomp.GetDefaultProfile(ociSpec(caps))
	if err != nil {
		return nil, fmt.Errorf("the default seccomp profile: %w", err)
	}
	return Compile(p)
}

// Load compiles a profile in docker's JSON format (what
// `--security-opt seccomp=FILE` names). Bad JSON, an unknown action, an
// unknown system call or a bad argument rule is an error that says which.
func Load(profile []byte, caps []string) (*Filter, error) {
	if err := checkJSON(profile); err != nil {
		return nil, err
	}
	p, err := mobyseccomp.LoadProfile(string(profile), ociSpec(caps))
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("the profile has no defaultAction and no syscalls; use seccomp=unconfined for no filter")
	}
	return Compile(p)
}

// checkJSON refuses what the profile reader would take silently: trailing
// data, and fields of a rule it does not know (a misspelt "action" would
// otherwise leave a rule without one).
func checkJSON(profile []byte) error {
	dec := json.NewDecoder(bytes.NewReader(profile))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return fmt.Errorf("not a seccomp profile (JSON): %w", err)
	}
	if dec.More() {
		return errors.New("not a seccomp profile: data after the JSON object")
	}
	var rules []map[string]json.RawMessage
	if raw, ok := top["syscalls"]; ok {
		if err := json.Unmarshal(raw, &rules); err != nil {
			return fmt.Errorf("syscalls: %w", err)
		}
	}
	known := map[string]bool{"names": true, "name": true, "action": true, "errnoRet": true, "args": true,
		"comment": true, "includes": true, "excludes": true}
	for i, r := range rules {
		for k := range r {
			if !known[k] {
				return fmt.Errorf("syscalls[%d]: unknown field %q (a rule has names, action, errnoRet, args, includes, excludes, comment)", i, k)
			}
		}
		if _, ok := r["action"]; !ok {
			return fmt.Errorf("syscalls[%d]: no action", i)
		}
	}
	return nil
}

// ociSpec is what the profile reader needs of the sandbox: the
// capabilities it keeps, which switch docker's conditional rules.
func ociSpec(caps []string) *specs.Spec {
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
}

// Native is the architecture of this machine, and the ones whose system
// calls its kernel also takes (32-bit x86 on x86_64, 32-bit ARM on arm64).
func native() (*archInfo, []*archInfo, error) {
	switch runtime.GOARCH {
	case "amd64":
		return archX86_64, []*archInfo{archI386}, nil
	case "arm64":
		return archAARCH64, []*archInfo{archARM}, nil
	}
	return nil, nil, fmt.Errorf("seccomp filters are not supported on %s; use --security-opt seccomp=unconfined", runtime.GOARCH)
}

// specArch maps the profile's architecture names to syscall tables.
var specArch = map[specs.Arch]*archInfo{
	specs.ArchX86_64:  archX86_64,
	specs.ArchX86:     archI386,
	specs.ArchAARCH64: archAARCH64,
	specs.ArchARM:     archARM,
}

// knownAnywhere says whether name is a system call of some architecture:
// docker's profile names 32-bit calls (fstat64, _llseek, …) that x86_64
// lacks, which are skipped there; a name no architecture has is a typo.
func knownAnywhere(name string) bool {
	for _, a := range []*archInfo{archX86_64, archI386, archX32, archAARCH64, archARM} {
		if _, ok := a.number(name); ok {
			return true
		}
	}
	return otherArchSyscalls[name]
}

// otherArchSyscalls are system calls of architectures without a table here
// that docker's profile names for them.
var otherArchSyscalls = map[string]bool{
	"sync_file_range2": true, "swapcontext": true, "s390_pci_mmio_read": true, "s390_pci_mmio_write": true,
	"s390_runtime_instr": true, "riscv_flush_icache": true, "arm_sync_file_range": true, "arm_fadvise64_64": true,
	"breakpoint": true, "riscv_hwprobe": true, "cacheflush": true, "set_tls": true, "spu_create": true, "spu_run": true,
	"subpage_prot": true, "sys_debug_setcontext": true, "s390_guarded_storage": true, "s390_sthyi": true,
}

// Describe is the filter in one line, for the record and `inspect`.
func (f *Filter) Describe() string {
	return fmt.Sprintf("%d system calls allowed, %d denied", f.Allowed, len(f.Denied))
}

// Notable are the denials worth naming to a person: each is a known way out
// of a container.
func (f *Filter) Notable() []string {
	denied := map[string]bool{}
	for _, n := range f.Denied {
		denied[n] = true
	}
	var out []string
	for _, n := range notable {
		if denied[n] {
			out = append(out, n)
		}
	}
	return out
}

var notable = []string{
	"mount", "umount2", "unshare", "setns", "pivot_root", "chroot", "keyctl", "add_key", "bpf",
	"perf_event_open", "ptrace", "process_vm_readv", "kexec_load", "init_module", "finit_module",
	"delete_module", "reboot", "open_by_handle_at", "name_to_handle_at", "clock_settime", "settimeofday",
	"sethostname", "swapon", "acct", "userfaultfd", "io_uring_setup", "iopl", "ioperm", "syslog",
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
