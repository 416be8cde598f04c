//go:build linux

package inspect

import (
	"errors"
	"io/fs"
	"path/filepath"
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

	pidsCurrent, pidsMax, pidsEvents *heldFile

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
		r.procs.setShortRecords()
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
		r.procs.setShortRecords()
		r.procs.setFreshOpen()
	}
	r.pidsCurrent = open(pids, "pids.current")
	r.pidsMax = open(pids, "pids.max")
	r.pidsEvents = open(pids, "pids.events")
	// PSI is per cgroup only in a cgroup2 hierarchy. On hybrid hosts the
	// process's cgroup2 path is usually "/", whose files are the whole
	// host's pressure, not the sandbox's: show them only below the root.
	if u := dirs["unified"]; u != "" && (mode == ModeV2 || (unifiedPath != "/" && unifiedPath != "")) {
		r.psiSources = map[string]string{}
		for i, k := range PressureKinds {
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
		r.pidsCurrent, r.pidsMax, r.pidsEvents, r.psi[0], r.psi[1], r.psi[2], r.freezer, r.procs}
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
	if b := c.read(r.pidsEvents); b != nil {
		parsePidsEvents(b, r.pidsEvents.path, &cg.Pids)
	}

	for i, f := range r.psi {
		if b := c.read(f); b != nil {
			if v, ok := parsePSISome10(b); ok {
				if cg.Pressure == nil {
					cg.Pressure = make(map[string]float64, 3)
				}
				cg.Pressure[PressureKinds[i]] = v
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
