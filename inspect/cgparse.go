//go:build linux

package inspect

import (
	"bytes"
	"strconv"
)

// Parsers of the cgroup files, v1 and v2 (Documentation/admin-guide/
// cgroup-v1/memory.rst, cgroup-v2.rst).

// parseMemoryStat takes the breakdown from memory.stat. The names differ:
// v2 has anon/file/shmem/kernel; v1 has rss/cache/shmem and, for the
// cgroup with its children, total_rss/total_cache/total_shmem (preferred).
// In both, file (v1 cache) includes shmem: tmpfs and shared memory are
// page cache to the kernel.
func parseMemoryStat(mode string, b []byte, src string, m *Memory) {
	set := func(v *Value, n []byte) {
		if x, ok := parseInt(n); ok {
			*v = Value{Value: x, Source: src, Valid: true}
		}
	}
	var kernelParts int64
	var haveKernel, haveParts bool
	flatKeyed(b, func(k, v []byte) {
		if mode == ModeV2 {
			switch string(k) {
			case "anon":
				set(&m.Anon, v)
			case "file":
				set(&m.File, v)
			case "shmem":
				set(&m.Shmem, v)
			case "kernel":
				set(&m.Kernel, v)
				haveKernel = true
			case "kernel_stack", "slab", "sock", "percpu", "pagetables", "vmalloc":
				// Kernels before 5.18 have no "kernel" line: add its parts.
				if x, ok := parseInt(v); ok {
					kernelParts += x
					haveParts = true
				}
			}
			return
		}
		switch string(k) {
		case "total_rss":
			set(&m.Anon, v)
		case "total_cache":
			set(&m.File, v)
		case "total_shmem":
			set(&m.Shmem, v)
		case "rss":
			if !m.Anon.Valid {
				set(&m.Anon, v)
			}
		case "cache":
			if !m.File.Valid {
				set(&m.File, v)
			}
		case "shmem":
			if !m.Shmem.Valid {
				set(&m.Shmem, v)
			}
		}
	})
	if mode == ModeV2 && !haveKernel && haveParts {
		m.Kernel = Value{Value: kernelParts, Source: src, Valid: true}
	}
}

// parseMemoryEvents reads v2 memory.events: "oom" counts the times the
// limit was hit and the OOM path ran, "oom_kill" the processes killed.
func parseMemoryEvents(b []byte, src string, m *Memory) {
	flatKeyed(b, func(k, v []byte) {
		x, ok := parseInt(v)
		if !ok {
			return
		}
		switch string(k) {
		case "oom":
			m.OOM = Value{Value: x, Source: src, Valid: true}
		case "oom_kill":
			m.OOMKills = Value{Value: x, Source: src, Valid: true}
		}
	})
}

// parsePidsEvents reads pids.events: "max" counts the forks (and clones)
// that failed because the cgroup was at pids.max.
func parsePidsEvents(b []byte, src string, p *Pids) {
	flatKeyed(b, func(k, v []byte) {
		if x, ok := parseInt(v); ok && string(k) == "max" {
			p.Refused = Value{Value: x, Source: src, Valid: true}
		}
	})
}

// parseOOMControl reads v1 memory.oom_control. v1 keeps no count of OOM
// events, only whether the cgroup is under OOM now (under_oom, which stays
// 1 only while oom_kill_disable holds tasks) and, since 4.13, oom_kill.
func parseOOMControl(b []byte, src string, m *Memory) {
	flatKeyed(b, func(k, v []byte) {
		x, ok := parseInt(v)
		if !ok {
			return
		}
		switch string(k) {
		case "under_oom":
			m.UnderOOM = Value{Value: x, Source: src, Valid: true}
		case "oom_kill":
			m.OOMKills = Value{Value: x, Source: src, Valid: true}
		}
	})
}

// parseCPUStat reads cpu.stat. v2 counts in microseconds (usage_usec,
// throttled_usec); v1's cpu.stat has only the CFS figures, throttled_time
// in nanoseconds (usage is cpuacct.usage there).
func parseCPUStat(mode string, b []byte, src string, p *CPU) {
	flatKeyed(b, func(k, v []byte) {
		x, ok := parseInt(v)
		if !ok {
			return
		}
		val := Value{Value: x, Source: src, Valid: true}
		switch string(k) {
		case "nr_periods":
			p.Periods = val
		case "nr_throttled":
			p.Throttled = val
		case "throttled_time": // v1, ns
			p.ThrottledNS = val
		case "throttled_usec": // v2
			val.Value *= 1000
			p.ThrottledNS = val
		case "usage_usec":
			if mode == ModeV2 {
				val.Value *= 1000
				p.UsageNS = val
			}
		}
	})
}

// parseCPUMax reads v2 cpu.max: "$MAX $PERIOD", MAX being "max" for no quota.
func parseCPUMax(b []byte, src string, p *CPU) error {
	f := bytes.Fields(b)
	if len(f) != 2 {
		return &pathError{op: "parse", path: src, err: errSyntax}
	}
	q, unlimited, ok := limitValue(f[0])
	period, ok2 := parseInt(f[1])
	if !ok || !ok2 {
		return &pathError{op: "parse", path: src, err: errSyntax}
	}
	p.QuotaUS = Value{Value: q, Source: src, Valid: !unlimited}
	p.PeriodUS = Value{Value: period, Source: src, Valid: true}
	return nil
}

// parsePSISome10 reads "some avg10=1.52 avg60=… total=…" from a *.pressure
// file: the share of the last 10 s in which some task waited, in %.
func parsePSISome10(b []byte) (float64, bool) {
	line, _ := nextLine(b)
	if !bytes.HasPrefix(line, []byte("some ")) {
		return 0, false
	}
	for f := range bytes.FieldsSeq(line[5:]) {
		if v, ok := bytes.CutPrefix(f, []byte("avg10=")); ok {
			x, err := strconv.ParseFloat(string(v), 64)
			return x, err == nil
		}
	}
	return 0, false
}

// parseFrozen reads v2 cgroup.events ("frozen 1") or v1 freezer.state
// ("FROZEN"; "FREEZING" is not frozen yet).
func parseFrozen(mode string, b []byte) bool {
	if mode != ModeV2 {
		return string(bytes.TrimSpace(b)) == "FROZEN"
	}
	frozen := false
	flatKeyed(b, func(k, v []byte) {
		if string(k) == "frozen" {
			frozen = string(bytes.TrimSpace(v)) == "1"
		}
	})
	return frozen
}
