package sandbox_test

import (
	"slices"
	"testing"
	"time"

	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
)

// BenchmarkRunToHealth measures what a user waits for: from invoking
// `glassbox run` (the calculator, 256 MiB, 0.5 CPUs) to the calculator
// answering GET /health inside the sandbox's network namespace. It reports
// the median as ms/median (the mean of a noisy machine says little);
// .ci/bench-startup runs it 20 times.
func BenchmarkRunToHealth(b *testing.B) {
	sandboxtest.RequireRoot(b)
	roots := sandboxtest.TempRoots(b)
	bin := sandboxtest.Binary(b)
	// Build the image once, outside the measurement.
	store := image.NewStore(roots)
	store.Self = bin
	if _, err := store.Get(image.Builtin); err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := runToHealth(bin, roots)
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, d)
		// An equal idle gap before each run: the previous sandbox's network
		// namespace is freed asynchronously by the kernel, and idle vCPUs
		// halt, both of which change the next start.
		b.StopTimer()
		time.Sleep(100 * time.Millisecond)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
	b.ReportMetric(float64(times[0].Microseconds())/1000, "ms/min")
}
