package inspect

// Rate fills cur's rate fields from the counters of prev and cur, two
// snapshots of the same sandbox: the cgroup's cores used (CPU-seconds per
// second), % of the quota, and the periods, throttled periods and throttled
// time since prev; and each process's cores. It is the one place a rate is
// computed (the kernel gives only cumulative counters): the Inspector calls
// it on every snapshot after its first, and what shows a rate reads it
// from there. It leaves the cgroup's rates zero (IntervalSeconds too) when
// the counters are missing, come from different files (another cgroup), or
// went backwards (a counter reset: the cgroup was recreated).
func Rate(prev, cur *Snapshot) {
	if prev == nil || cur == nil {
		return
	}
	p, c := &prev.Cgroup.CPU, &cur.Cgroup.CPU
	c.CoresUsed, c.PercentOfQuota, c.ThrottledDelta, c.PeriodsDelta, c.ThrottledNSDelta, c.IntervalSeconds = 0, 0, 0, 0, 0, 0
	for i := range cur.Processes {
		cur.Processes[i].CPUCores = nil
	}
	dt := cur.Taken.Sub(prev.Taken).Seconds()
	if dt <= 0 {
		return
	}
	rateFirewall(prev, cur, dt)
	before := make(map[int]float64, len(prev.Processes))
	for _, p := range prev.Processes {
		before[p.HostPID] = p.CPUTime
	}
	for i := range cur.Processes {
		p := &cur.Processes[i]
		if t, ok := before[p.HostPID]; ok && p.CPUTime >= t {
			cores := (p.CPUTime - t) / dt
			p.CPUCores = &cores
		}
	}
	if d, ok := delta(p.UsageNS, c.UsageNS); ok {
		c.IntervalSeconds = dt
		c.CoresUsed = float64(d) / 1e9 / dt
		if c.QuotaUS.Valid && c.PeriodUS.Valid && c.QuotaUS.Value > 0 && c.PeriodUS.Value > 0 {
			quotaCores := float64(c.QuotaUS.Value) / float64(c.PeriodUS.Value)
			c.PercentOfQuota = c.CoresUsed / quotaCores * 100
		}
	}
	if d, ok := delta(p.Periods, c.Periods); ok {
		c.PeriodsDelta = d
	}
	if d, ok := delta(p.Throttled, c.Throttled); ok {
		c.ThrottledDelta = d
	}
	if d, ok := delta(p.ThrottledNS, c.ThrottledNS); ok {
		c.ThrottledNSDelta = d
	}
}

func delta(a, b Value) (int64, bool) {
	if !a.Valid || !b.Valid || a.Source != b.Source || b.Value < a.Value {
		return 0, false
	}
	return b.Value - a.Value, true
}

// QuotaCores is the CPU quota in cores (quota/period), 0 when unlimited.
func (c CPU) QuotaCores() float64 {
	if !c.QuotaUS.Valid || !c.PeriodUS.Valid || c.PeriodUS.Value <= 0 {
		return 0
	}
	return float64(c.QuotaUS.Value) / float64(c.PeriodUS.Value)
}
