package cgroup

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	units "github.com/docker/go-units"
)

const (
	// MinMemory is the smallest memory limit accepted: below it not even the
	// sandbox's init starts (docker refuses below 6 MiB for the same reason).
	MinMemory = 6 << 20
	// DefaultCPUPeriodUS is the CFS period used by CPUs (the kernel's default).
	DefaultCPUPeriodUS = 100000
	// The kernel accepts CFS periods from 1 ms to 1 s and quotas of at least 1 ms.
	minCPUPeriodUS = 1000
	maxCPUPeriodUS = 1000000
	minCPUQuotaUS  = 1000
)

// CPUs turns a docker-style "--cpus" value (0.5 = half a core) into a CFS
// quota and period, with the default period of 100 ms.
func CPUs(cpus float64) (quotaUS int64, periodUS uint64) {
	if cpus <= 0 {
		return 0, 0
	}
	return int64(math.Round(cpus * DefaultCPUPeriodUS)), DefaultCPUPeriodUS
}

// CPUs is the CPU limit in cores (quota / period), 0 when unlimited.
func (r Resources) CPUs() float64 {
	if r.CPUQuotaUS <= 0 || r.CPUPeriodUS == 0 {
		return 0
	}
	return float64(r.CPUQuotaUS) / float64(r.CPUPeriodUS)
}

// ParseMemory parses a docker-style memory size ("256m", "1g", "64MiB",
// "1048576"); units are powers of 1024.
func ParseMemory(s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, fmt.Errorf("memory %q: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("memory %q: must not be negative", s)
	}
	return n, nil
}

// Validate rejects limits that make no sense, before anything is created.
func (r Resources) Validate() error {
	var errs []string
	switch {
	case r.MemoryBytes < 0:
		errs = append(errs, fmt.Sprintf("memory limit %d is negative (0 means no limit)", r.MemoryBytes))
	case r.MemoryBytes > 0 && r.MemoryBytes < MinMemory:
		errs = append(errs, fmt.Sprintf("memory limit %s is below the minimum of %s",
			units.BytesSize(float64(r.MemoryBytes)), units.BytesSize(MinMemory)))
	}
	switch {
	case r.CPUQuotaUS < 0:
		errs = append(errs, fmt.Sprintf("cpu quota %dµs is negative (0 means no limit)", r.CPUQuotaUS))
	case r.CPUQuotaUS > 0 && r.CPUPeriodUS == 0:
		errs = append(errs, fmt.Sprintf("cpu quota %dµs has no period (set CPUPeriodUS, usually %d; cgroup.CPUs(n) gives both)",
			r.CPUQuotaUS, DefaultCPUPeriodUS))
	case r.CPUQuotaUS > 0 && r.CPUQuotaUS < minCPUQuotaUS:
		errs = append(errs, fmt.Sprintf("cpu quota %dµs is below the kernel's minimum of %dµs", r.CPUQuotaUS, minCPUQuotaUS))
	}
	if r.CPUPeriodUS != 0 && (r.CPUPeriodUS < minCPUPeriodUS || r.CPUPeriodUS > maxCPUPeriodUS) {
		errs = append(errs, fmt.Sprintf("cpu period %dµs is outside the kernel's range %d–%dµs",
			r.CPUPeriodUS, minCPUPeriodUS, maxCPUPeriodUS))
	} else if cpus := r.CPUs(); cpus > float64(runtime.NumCPU()) {
		errs = append(errs, fmt.Sprintf("cpu limit %.2f is more than the %d CPUs of this host", cpus, runtime.NumCPU()))
	}
	if r.PidsLimit < 0 {
		errs = append(errs, fmt.Sprintf("pids limit %d is negative (0 means no limit)", r.PidsLimit))
	}
	if len(errs) > 0 {
		return errors.New("invalid cgroup limits: " + strings.Join(errs, "; "))
	}
	return nil
}
