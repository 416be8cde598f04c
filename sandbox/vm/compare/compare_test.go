package compare

import (
	"strings"
	"testing"
	"time"
)

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
