package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/seccomp"
	"glassbox/sandbox/state"
)

// Security is what the workload may do to the kernel, docker's way: its
// capabilities (the default set changed by CapAdd and CapDrop), its
// seccomp filter (docker's default profile unless told otherwise) and
// whether its root filesystem is read-only. no_new_privs is always set.
type Security struct {
	CapAdd  []string `json:"cap_add,omitempty"`
	CapDrop []string `json:"cap_drop,omitempty"`
	// Seccomp is "" or seccomp.Default for docker's default profile,
	// seccomp.Unconfined for no filter, or the name of the file whose
	// content is SeccompProfile.
	Seccomp        string `json:"seccomp,omitempty"`
	SeccompProfile []byte `json:"seccomp_profile,omitempty"`
	// ReadOnly mounts the root filesystem read-only; /tmp and /run are
	// writable tmpfs.
	ReadOnly bool `json:"read_only,omitempty"`
	// Privileged is docker's --privileged, which glassbox refuses
	// (ErrPrivileged).
	Privileged bool `json:"privileged,omitempty"`

	// Resolved is what ValidateInput made of the above. It travels with
	// the configuration, so a supervisor starts (and restarts) from it
	// without compiling the profile again.
	Resolved *ResolvedSecurity `json:"resolved,omitempty"`
}

// ResolvedSecurity is what the init is told and the record says.
type ResolvedSecurity struct {
	// CapMask is the capabilities the workload keeps (bit n = capability n).
	CapMask uint64 `json:"cap_mask"`
	// Filter is the compiled seccomp program as the init reads it
	// (seccomp.Filter.Encode); empty when unconfined.
	Filter string         `json:"filter,omitempty"`
	Record state.Security `json:"record"`
}

// ErrPrivileged is the answer to --privileged.
var ErrPrivileged = errors.New("--privileged is not offered: it would give the workload every capability, " +
	"every host device and no seccomp filter, and with them the means to mount the host's disks, load kernel " +
	"modules and walk out of its namespaces — no sandbox would be left to look at. Add the capability the " +
	"workload needs with --cap-add, or lift the filter with --security-opt seccomp=unconfined")

// SecurityOpt applies one --security-opt value, as docker spells them:
// seccomp=unconfined, seccomp=PROFILE.json (docker's format; the file is
// read now, compiled by ValidateInput), no-new-privileges (always on:
// accepted).
func (s *Security) SecurityOpt(opt string) error {
	key, val, hasVal := strings.Cut(opt, "=")
	if !hasVal {
		key, val, hasVal = strings.Cut(opt, ":") // the older spelling
	}
	switch key {
	case "no-new-privileges":
		if !hasVal || val == "true" {
			return nil
		}
		return fmt.Errorf("%s: glassbox always sets no_new_privs, so no setuid program can gain privileges", opt)
	case "seccomp":
		switch val {
		case "":
			return fmt.Errorf("%s: say seccomp=unconfined or seccomp=PROFILE.json", opt)
		case seccomp.Unconfined, seccomp.Default:
			s.Seccomp, s.SeccompProfile = val, nil
			return nil
		}
		data, err := os.ReadFile(val)
		if err != nil {
			return fmt.Errorf("seccomp profile: %w", err)
		}
		name := val
		if abs, err := filepath.Abs(val); err == nil {
			name = abs
		}
		s.Seccomp, s.SeccompProfile = name, data
		return nil
	case "apparmor", "label", "systempaths", "mask", "unmask":
		return fmt.Errorf("%s: not offered; glassbox has no LSM profiles and always masks the kernel's /proc and /sys files", opt)
	}
	return fmt.Errorf("%s: unknown option (glassbox knows seccomp=unconfined, seccomp=PROFILE.json and no-new-privileges)", opt)
}

// resolve checks the capabilities and compiles the profile.
func (s *Security) resolve() (*ResolvedSecurity, error) {
	if s.Privileged {
		return nil, ErrPrivileged
	}
	caps, err := nsinit.Capabilities(s.CapAdd, s.CapDrop)
	if err != nil {
		return nil, err
	}
	r := &ResolvedSecurity{CapMask: caps, Record: state.Security{Caps: nsinit.CapList(caps), ReadOnly: s.ReadOnly}}
	var f *seccomp.Filter
	switch s.Seccomp {
	case seccomp.Unconfined:
		r.Record.Seccomp = seccomp.Unconfined
		return r, nil
	case "", seccomp.Default:
		r.Record.Seccomp = seccomp.Default
		f, err = seccomp.DefaultFilter(r.Record.Caps)
	default:
		r.Record.Seccomp = s.Seccomp
		if f, err = seccomp.Load(s.SeccompProfile, r.Record.Caps); err != nil {
			err = fmt.Errorf("seccomp profile %s: %w", s.Seccomp, err)
		}
	}
	if err != nil {
		return nil, err
	}
	r.Filter = f.Encode()
	r.Record.SeccompSummary = f.Describe()
	r.Record.SeccompBlocks = f.Notable()
	return r, nil
}
