package ui

import (
	"strings"
	"testing"
)

// The Explain panel of Processes says what the app's seccomp filter
// refuses, and the full screen names /proc/PID/status as the source of
// the mode.
func TestExplainSeccomp(t *testing.T) {
	s := calc().snap(t0)
	text := explanation(PanelProcesses, s)
	for _, want := range []string{"seccomp filter", "docker's default profile: 306 system calls allowed, 71 denied",
		"refuses mount, umount2, unshare, setns, keyctl, bpf, ptrace, kexec_load (EPERM)", "keeps 14 capabilities (chown dac_override fowner", "audit_write setfcap)"} {
		if !strings.Contains(text, want) {
			t.Errorf("Explain(Processes) lacks %q: %s", want, text)
		}
	}
	var found bool
	for _, src := range sources(PanelProcesses, s) {
		if strings.Contains(src[0], "Seccomp 2, Seccomp_filters 1") && src[1] == "/proc/4250/status" {
			found = true
		}
	}
	if !found {
		t.Errorf("no source for the app's seccomp mode: %v", sources(PanelProcesses, s))
	}
	s.Sandbox.Security.Seccomp = "unconfined"
	if text := explanation(PanelProcesses, s); !strings.Contains(text, "unfiltered: no seccomp profile") {
		t.Errorf("unconfined: %s", text)
	}
}
