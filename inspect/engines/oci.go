package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"glassbox/sandbox/state"
)

// bundleSpec reads an OCI bundle's config.json: what the runtime was asked
// to run (runc, crun, containerd's shims and podman's conmon all start
// from one).
func bundleSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(bundle, "config.json"), err)
	}
	return &s, nil
}

// specLimits are the cgroup limits an OCI spec asks for.
func specLimits(s *specs.Spec) state.Limits {
	var l state.Limits
	if s == nil || s.Linux == nil || s.Linux.Resources == nil {
		return l
	}
	r := s.Linux.Resources
	if m := r.Memory; m != nil && m.Limit != nil && *m.Limit > 0 {
		l.MemoryBytes = *m.Limit
	}
	if c := r.CPU; c != nil && c.Quota != nil && *c.Quota > 0 {
		l.CPUQuotaUS = *c.Quota
		l.CPUPeriodUS = 100000
		if c.Period != nil && *c.Period > 0 {
			l.CPUPeriodUS = *c.Period
		}
		l.CPUs = float64(l.CPUQuotaUS) / float64(l.CPUPeriodUS)
	}
	if p := r.Pids; p != nil && p.Limit != nil && *p.Limit > 0 {
		l.PidsLimit = *p.Limit
	}
	return l
}

// specRoot is the root directory a spec names, made absolute against its
// bundle as the runtime does.
func specRoot(s *specs.Spec, bundle string) string {
	if s == nil || s.Root == nil || s.Root.Path == "" {
		return ""
	}
	if filepath.IsAbs(s.Root.Path) {
		return s.Root.Path
	}
	return filepath.Join(bundle, s.Root.Path)
}
