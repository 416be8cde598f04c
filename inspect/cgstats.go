package inspect

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"
)

// The cgroup files are read directly rather than through containerd's
// cgroup1/cgroup2 Stat(): those open every file of every controller on each
// call (dozens of opens, a protobuf message per refresh) and drop the
// figures this tool is about — v1's oom_kill count in memory.oom_control,
// PSI, memory.peak — and the file each figure came from. cgroups.Mode() is
// still what tells the host's layout (see Host).

// cgroupReader holds the cgroup files of one sandbox open across refreshes.
// A nil file is one the kernel does not provide (a controller not enabled,
// an older kernel): its figures stay Valid=false.
type cgroupReader struct {
	mode string

	memUsage, memLimit, memPeak, memStat, memEvents *heldFile
	memOOMControl, memFailcnt, memKmem, memSwap     *heldFile

	cpuUsage, cpuStat, cpuMax, cfsQuota, cfsPeriod *heldFile

	pidsCurrent, pidsMax *heldFile

	psi     [3]*heldFile // cpu, memory, io
	freezer *heldFile    // v2 cgroup.events, v1 freezer.state
	procs   *heldFile    // cgroup.procs of the memory (v1) / unified (v2) cgroup

	psiSources map[string]string

	// Limits are set when the sandbox starts and (in glassbox) never
	// changed: they are re-read every slowRefresh, not every refresh.
	limits   limitValues
	limitsAt time.Time
}

type limitValues struct {
	mem, quota, period, pids Value
	ok                       bool
}

var psiKinds = [3]string{"cpu", "memory", "io"}

// openCgroup opens the files of a cgroup. Files that do not exist are
// skipped; other failures are returned as messages for Snapshot.Errors.
func openCgroup(mode string, dirs map[string]string, unifiedPath string) (*cgroupReader, []string) {
	r := &cgroupReader{mode: mode}
	var errs []string
	open := func(dir, name string) *heldFile {
		if dir == "" {
			return nil
		}
		f, err := openHeld(filepath.Join(dir, name))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err.Error())
			}
			return nil
		}
		return f
	}
	mem := dirFor(mode, dirs, "memory")
	cpu := dirFor(mode, dirs, "cpu")
	pids := dirFor(mode, dirs, "pids")
	if mode == ModeV2 {
		r.memUsage = open(mem, "memory.current")
		r.memLimit = open(mem, "memory.max")
		r.memPeak = open(mem, "memory.peak")
		r.memStat = open(mem, "memory.stat")
		r.memEvents = open(mem, "memory.events")
		r.memSwap = open(mem, "memory.swap.current")
		r.cpuStat = open(cpu, "cpu.stat")
		r.cpuMax = open(cpu, "cpu.max")
		r.freezer = open(dirs["unified"], "cgroup.events")
		r.procs = open(dirs["unified"], "cgroup.procs")
	} else {
		r.memUsage = open(mem, "memory.usage_in_bytes")
		r.memLimit = open(mem, "memory.limit_in_bytes")
		r.memPeak = open(mem, "memory.max_usage_in_bytes")
		r.memStat = open(mem, "memory.stat")
		r.memOOMControl = open(mem, "memory.oom_control")
		r.memFailcnt = open(mem, "memory.failcnt")
		r.memKmem = open(mem, "memory.kmem.usage_in_bytes")
		r.memSwap = open(mem, "memory.memsw.usage_in_bytes")
		r.cpuUsage = open(dirFor(mode, dirs, "cpuacct"), "cpuacct.usage")
		r.cpuStat = open(cpu, "cpu.stat")
		r.cfsQuota = open(cpu, "cpu.cfs_quota_us")
		r.cfsPeriod = open(cpu, "cpu.cfs_period_us")
		r.freezer = open(dirs["freezer"], "freezer.state")
		procsDir := mem
		if procsDir == "" {
			procsDir = pids
		}
		r.procs = open(procsDir, "cgroup.procs")
	}
	r.pidsCurrent = open(pids, "pids.current")
	r.pidsMax = open(pids, "pids.max")
	// PSI is per cgroup only in a cgroup2 hierarchy. On hybrid hosts the
	// process's cgroup2 path is usually "/", whose files are the whole
	// host's pressure, not the sandbox's: show them only below the root.
	if u := dirs["unified"]; u != "" && (mode == ModeV2 || (unifiedPath != "/" && unifiedPath != "")) {
		r.psiSources = map[string]string{}
		for i, k := range psiKinds {
			r.psi[i] = open(u, k+".pressure")
			if r.psi[i] != nil {
				r.psiSources[k] = r.psi[i].path
			}
		}
	}
	return r, errs
}

func (r *cgroupReader) files() []*heldFile {
	return []*heldFile{r.memUsage, r.memLimit, r.memPeak, r.memStat, r.memEvents,
		r.memOOMControl, r.memFailcnt, r.memKmem, r.memSwap,
		r.cpuUsage, r.cpuStat, r.cpuMax, r.cfsQuota, r.cfsPeriod,
		r.pidsCurrent, r.pidsMax, r.psi[0], r.psi[1], r.psi[2], r.freezer, r.procs}
}

func (r *cgroupReader) close() {
	for _, f := range r.files() {
		f.close()
	}
}

// collector gathers read errors for Snapshot.Errors.
type collector struct {
	errs []string
	buf  []byte
}

func (c *collector) add(err error) {
	if err != nil {
		c.errs = append(c.errs, err.Error())
	}
}

// read returns a held file's content, or nil (and records why).
func (c *collector) read(f *heldFile) []byte {
	if f == nil {
		return nil
	}
	b, err := f.read(c.buf)
	if err != nil {
		c.add(err)
		return nil
	}
	return b
}

// number reads a file holding one number into v.
func (c *collector) number(f *heldFile, v *Value) {
	b := c.read(f)
	if b == nil {
		return
	}
	n, ok := parseInt(b)
	if !ok {
		c.add(&pathError{op: "parse", path: f.path, err: errSyntax})
		return
	}
	*v = Value{Value: n, Source: f.path, Valid: true}
}

// limit reads a limit file into v; Valid=false (with the source kept) when
// it says "no limit".
func (c *collector) limit(f *heldFile, v *Value) {
	b := c.read(f)
	if b == nil {
		return
	}
	n, unlimited, ok := limitValue(b)
	if !ok {
		c.add(&pathError{op: "parse", path: f.path, err: errSyntax})
		return
	}
	*v = Value{Value: n, Source: f.path, Valid: !unlimited}
}

// read fills cg's figures from the held files.
func (r *cgroupReader) read(c *collector, cg *Cgroup, now time.Time) {
	r.readLimits(c, now)
	m := &cg.Memory
	c.number(r.memUsage, &m.Usage)
	m.Limit = r.limits.mem
	c.number(r.memPeak, &m.Peak)
	if b := c.read(r.memStat); b != nil {
		parseMemoryStat(r.mode, b, r.memStat.path, m)
	}
	if r.mode == ModeV2 {
		if b := c.read(r.memEvents); b != nil {
			parseMemoryEvents(b, r.memEvents.path, m)
		}
		c.number(r.memSwap, &m.SwapUsage)
	} else {
		if b := c.read(r.memOOMControl); b != nil {
			parseOOMControl(b, r.memOOMControl.path, m)
		}
		c.number(r.memFailcnt, &m.FailCount)
		c.number(r.memKmem, &m.Kernel)
		// memsw counts memory+swap; the swap part is the difference.
		var memsw Value
		c.number(r.memSwap, &memsw)
		if memsw.Valid && m.Usage.Valid {
			m.SwapUsage = Value{Value: max(memsw.Value-m.Usage.Value, 0), Source: memsw.Source, Valid: true}
		}
	}

	p := &cg.CPU
	if r.mode == ModeV2 {
		if b := c.read(r.cpuStat); b != nil {
			parseCPUStat(r.mode, b, r.cpuStat.path, p)
		}
	} else {
		c.number(r.cpuUsage, &p.UsageNS)
		if b := c.read(r.cpuStat); b != nil {
			parseCPUStat(r.mode, b, r.cpuStat.path, p)
		}
	}
	p.QuotaUS, p.PeriodUS = r.limits.quota, r.limits.period

	c.number(r.pidsCurrent, &cg.Pids.Current)
	cg.Pids.Limit = r.limits.pids

	for i, f := range r.psi {
		if b := c.read(f); b != nil {
			if v, ok := parsePSISome10(b); ok {
				if cg.Pressure == nil {
					cg.Pressure = make(map[string]float64, 3)
				}
				cg.Pressure[psiKinds[i]] = v
			}
		}
	}
	cg.PressureSources = r.psiSources

	if b := c.read(r.freezer); b != nil {
		cg.Frozen = parseFrozen(r.mode, b)
		cg.FrozenSource = r.freezer.path
	}
}

func (r *cgroupReader) readLimits(c *collector, now time.Time) {
	if r.limits.ok && now.Sub(r.limitsAt) < slowRefresh {
		return
	}
	n := len(c.errs)
	var l limitValues
	c.limit(r.memLimit, &l.mem)
	if r.mode == ModeV2 {
		if b := c.read(r.cpuMax); b != nil {
			var p CPU
			if err := parseCPUMax(b, r.cpuMax.path, &p); err != nil {
				c.add(err)
			}
			l.quota, l.period = p.QuotaUS, p.PeriodUS
		}
	} else {
		c.limit(r.cfsQuota, &l.quota)
		c.number(r.cfsPeriod, &l.period)
	}
	c.limit(r.pidsMax, &l.pids)
	l.ok = len(c.errs) == n
	r.limits, r.limitsAt = l, now
}

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
