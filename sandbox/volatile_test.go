package sandbox

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v595", true},
		{"5.10.0-28-amd64", true},
		{"5.10", true},
		{"5.9.16", false},
		{"4.19.0-26-amd64", false},
		{"6.1.0-13-amd64", true},
		{"10.0", true},
		{"5.15-rc1", true},
		{"garbage", false},
		{"", false},
	} {
		if got := kernelAtLeast(c.release, 5, 10); got != c.want {
			t.Errorf("kernelAtLeast(%q, 5, 10) = %v, want %v", c.release, got, c.want)
		}
	}
}
