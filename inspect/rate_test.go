package inspect

import (
	"math"
	"testing"
	"time"
)

func cpuSnap(at time.Duration, usageNS, periods, throttled, throttledNS, quota, period int64, src string) *Snapshot {
	v := func(n int64) Value { return Value{Value: n, Source: src, Valid: true} }
	c := CPU{UsageNS: v(usageNS), Periods: v(periods), Throttled: v(throttled), ThrottledNS: v(throttledNS), PeriodUS: v(period)}
	if quota > 0 {
		c.QuotaUS = v(quota)
	} else {
		c.QuotaUS = Value{Source: src}
	}
	return &Snapshot{Taken: time.Unix(1000, 0).Add(at), Cgroup: Cgroup{CPU: c}}
}

func TestRate(t *testing.T) {
	tests := []struct {
		name                        string
		prev, cur                   *Snapshot
		cores, pct                  float64
		periods, throttled, throtNS int64
		interval                    float64
	}{
		{
			name:  "half a core used, quota 0.5: 100%, throttled in 9 of 10 periods",
			prev:  cpuSnap(0, 1e9, 100, 50, 2e9, 50000, 100000, "a"),
			cur:   cpuSnap(time.Second, 1.5e9, 110, 59, 2.4e9, 50000, 100000, "a"),
			cores: 0.5, pct: 100, periods: 10, throttled: 9, throtNS: 4e8, interval: 1,
		},
		{
			name:  "two cores over two seconds, no quota",
			prev:  cpuSnap(0, 0, 0, 0, 0, 0, 100000, "a"),
			cur:   cpuSnap(2*time.Second, 4e9, 0, 0, 0, 0, 100000, "a"),
			cores: 2, pct: 0, interval: 2,
		},
		{
			name:  "quarter core of a 2-core quota: 12.5%",
			prev:  cpuSnap(0, 0, 0, 0, 0, 200000, 100000, "a"),
			cur:   cpuSnap(4*time.Second, 1e9, 40, 0, 0, 200000, 100000, "a"),
			cores: 0.25, pct: 12.5, periods: 40, interval: 4,
		},
		{
			name: "counter went backwards (cgroup recreated): no rates",
			prev: cpuSnap(0, 5e9, 100, 10, 1e9, 50000, 100000, "a"),
			cur:  cpuSnap(time.Second, 1e9, 5, 1, 1e8, 50000, 100000, "a"),
		},
		{
			name: "another cgroup's files: no rates",
			prev: cpuSnap(0, 1e9, 1, 1, 1, 50000, 100000, "a"),
			cur:  cpuSnap(time.Second, 2e9, 2, 2, 2, 50000, 100000, "b"),
		},
		{
			name: "same instant: nothing",
			prev: cpuSnap(0, 1e9, 1, 1, 1, 50000, 100000, "a"),
			cur:  cpuSnap(0, 2e9, 2, 2, 2, 50000, 100000, "a"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Rate(tt.prev, tt.cur)
			c := tt.cur.Cgroup.CPU
			if math.Abs(c.CoresUsed-tt.cores) > 1e-9 || math.Abs(c.PercentOfQuota-tt.pct) > 1e-9 || c.PeriodsDelta != tt.periods ||
				c.ThrottledDelta != tt.throttled || c.ThrottledNSDelta != tt.throtNS || c.IntervalSeconds != tt.interval {
				t.Errorf("got cores %v pct %v periods %d throttled %d (%d ns) over %v", c.CoresUsed, c.PercentOfQuota,
					c.PeriodsDelta, c.ThrottledDelta, c.ThrottledNSDelta, c.IntervalSeconds)
			}
		})
	}
	Rate(nil, cpuSnap(0, 0, 0, 0, 0, 0, 0, "a")) // must not panic
}

// Each process's cores come from its own CPU time; one that was not in the
// previous snapshot has none yet.
func TestRateProcesses(t *testing.T) {
	prev := cpuSnap(0, 0, 0, 0, 0, 0, 100000, "a")
	cur := cpuSnap(2*time.Second, 1e9, 0, 0, 0, 0, 100000, "a")
	prev.Processes = []Process{{HostPID: 10, CPUTime: 1}, {HostPID: 11, CPUTime: 5}}
	cur.Processes = []Process{{HostPID: 10, CPUTime: 2}, {HostPID: 12, CPUTime: 3}}
	Rate(prev, cur)
	if c := cur.Processes[0].CPUCores; c == nil || *c != 0.5 {
		t.Errorf("pid 10: %v, want 0.5 cores", c)
	}
	if c := cur.Processes[1].CPUCores; c != nil {
		t.Errorf("pid 12, new: %v, want none", *c)
	}
}
