package compare

import (
	"strings"
	"testing"
	"time"
)

func TestMissingListsEveryExpectedFigure(t *testing.T) {
	c := &Comparison{}
	all := len(c.Missing())
	// 3 kernel rows × 3 sides, start and disk × 2, memory, throughput, density × 3.
	if all != 9+4+9 {
		t.Errorf("an empty comparison misses %d figures, want 22: %v", all, c.Missing())
	}
	c.Set(Figure{Row: Disk, Side: VM, Value: 1})
	if len(c.Missing()) != all-1 {
		t.Errorf("after one figure: %d missing, want %d", len(c.Missing()), all-1)
	}
	c.Set(Figure{Row: Disk, Side: Host, Value: 1}) // not expected: changes nothing
	if len(c.Missing()) != all-1 {
		t.Errorf("an unexpected figure changed the count: %v", c.Missing())
	}
	c.VMs, c.Sandboxes = 2, 0
	if m := strings.Join(c.Missing(), " "); !strings.Contains(m, "vm/started") || strings.Contains(m, "sandbox/started") {
		t.Errorf("with --vms 2 only: %s", m)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Rounds: -1}, "--rounds -1"},
		{Options{Rounds: 21}, "--rounds 21"},
		{Options{VMs: -1}, "--vms -1"},
		{Options{Sandboxes: 1001}, "--sandboxes 1001"},
		{Options{Load: time.Millisecond}, "--load 1ms"},
		{Options{VMs: 100000}, "more than 3/4"},
	} {
		if err := tc.o.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.o, err, tc.want)
		}
	}
	o := Options{}
	if err := o.Validate(); err != nil || o.Rounds != DefaultRounds || o.MemoryMB != DefaultMemoryMB || o.Load != DefaultLoad {
		t.Errorf("defaults: %+v %v", o, err)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}
