package words

import (
	"fmt"
	"strings"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// SeccompMode words a Seccomp: value of /proc/PID/status.
func SeccompMode(mode, filters int) string {
	switch mode {
	case 0:
		return "none (mode 0): every system call reaches the kernel"
	case 1:
		return "strict (mode 1): read, write, exit and sigreturn only"
	}
	if filters == 1 {
		return "filter (mode 2), 1 filter"
	}
	return fmt.Sprintf("filter (mode 2), %d filters", filters)
}

// SeccompProfile words the record's profile: which one, what it allows
// and what it refuses.
func SeccompProfile(sec state.Security) string {
	var s string
	switch sec.Seccomp {
	case "", "default":
		s = "docker's default profile"
	case "unconfined":
		return "none (--security-opt seccomp=unconfined)"
	default:
		s = "profile " + sec.Seccomp
	}
	if sec.SeccompSummary != "" {
		s += ": " + sec.SeccompSummary
	}
	return s
}

// SeccompBlocks names what the filter refuses that a way out would need.
func SeccompBlocks(sec state.Security) string {
	if len(sec.SeccompBlocks) == 0 {
		return ""
	}
	return "refuses " + strings.Join(sec.SeccompBlocks, ", ")
}

// security is the workload's reach into the kernel: its seccomp filter
// and capabilities as /proc/PID/status shows them, and what the runtime
// was asked for.
func (r *reporter) security(s *inspect.Snapshot) {
	var work *inspect.Process
	for i := range s.Processes {
		p := &s.Processes[i]
		if work == nil || (s.Sandbox != nil && p.HostPID == s.Sandbox.WorkloadPID) {
			work = p
		}
	}
	if work == nil {
		return
	}
	r.section(fmt.Sprintf("Security (PID %d)%s", work.HostPID, r.src(work.Source)))
	r.line("  seccomp: %s", SeccompMode(work.Seccomp, work.SeccompFilters))
	if sb := s.Sandbox; sb != nil && sb.Security.Seccomp != "" {
		r.line("  profile: %s", SeccompProfile(sb.Security))
		if b := SeccompBlocks(sb.Security); b != "" {
			r.line("  the filter %s", b)
		}
	}
	r.line("  user: %s", UserText(s.Sandbox, work))
	r.line("  capabilities: %s", capsSummary(work.Caps))
	nnp := "not set"
	if work.NoNewPrivs {
		nnp = "set: no setuid program or file capability gives privileges back"
	}
	r.line("  no_new_privs: %s", nnp)
	if sb := s.Sandbox; sb != nil && sb.Security.Seccomp != "" {
		root := "writable"
		if sb.Security.ReadOnly {
			root = "read-only (/tmp and /run are writable tmpfs)"
		}
		r.line("  root filesystem: %s", root)
	}
	for _, p := range s.Processes {
		if p.HostPID != work.HostPID {
			r.line("  PID %d: seccomp %s; capabilities %s", p.HostPID, SeccompMode(p.Seccomp, p.SeccompFilters), capsSummary(p.Caps))
		}
	}
}

// UserText says who a sandbox's workload runs as: the ids the kernel
// holds, and what the image's USER or run -u asked for.
func UserText(sb *state.Sandbox, p *inspect.Process) string {
	ids := fmt.Sprintf("uid %d, gid %d", p.UID, p.GID)
	if p.UID == 0 {
		ids += " (root)"
	}
	if sb == nil {
		return ids
	}
	asked := "root: neither the image's USER nor run -u names another"
	if sb.User.Spec != "" {
		asked = fmt.Sprintf("%s, as the image's USER or run -u asked", sb.User.Spec)
	}
	if len(sb.User.Groups) > 0 {
		asked += fmt.Sprintf("; supplementary groups %v", sb.User.Groups)
	}
	return ids + " — " + asked
}
