package union

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/inspect/union/uniontest"
)

var (
	bigOnce  sync.Once
	bigDir   string
	bigStack *Stack
)

// TestMain removes the big image the benchmarks share.
func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// sharedBigStack writes the big image once per test process.
func sharedBigStack(b *testing.B) *Stack {
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "glassbox-bench-")
		if err != nil {
			b.Fatal(err)
		}
		bigDir = dir
		bigStack = bigStackIn(b, dir)
	})
	if bigStack == nil {
		b.Fatal("the big image could not be written")
	}
	return bigStack
}

// bigStack reads uniontest.BigLayers as an image built FROM its first layer.
func bigStackIn(b *testing.B, dir string) *Stack {
	st := &Stack{Image: "big"}
	for i, d := range uniontest.BigLayers(b, dir) {
		st.Layers = append(st.Layers, Layer{Dir: d, CreatedBy: fmt.Sprintf("step %d", i+1), Base: i == 0})
	}
	return st
}

// BenchmarkAnalyse50k is what opening the Image view on an image of
// 50 000 files costs: read every layer, merge them, build the merged tree
// of the top layer and count the waste. Goal: ≤ 200 ms.
func BenchmarkAnalyse50k(b *testing.B) {
	st := sharedBigStack(b)
	var files int
	defer reportCPU(b)()
	for b.Loop() {
		im, err := Read(st)
		if err != nil {
			b.Fatal(err)
		}
		it := im.Merged(im.Top())
		w := im.Waste(false)
		files = it.Count
		if w.Wasted == 0 {
			b.Fatal("no waste found")
		}
	}
	b.ReportMetric(float64(files), "entries")
}

// BenchmarkRead50k is the reading part alone (the disk).
func BenchmarkRead50k(b *testing.B) {
	st := sharedBigStack(b)
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := Read(st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViews50k is one layer's changes and one merged tree, what
// selecting another layer costs.
func BenchmarkViews50k(b *testing.B) {
	im, err := Read(sharedBigStack(b))
	if err != nil {
		b.Fatal(err)
	}
	defer reportCPU(b)()
	for b.Loop() {
		im.Changes(2)
		im.Merged(2)
	}
}

// reportCPU adds the process's CPU time per operation (user + system, all
// threads) to a benchmark's figures: on a machine others share, wall time
// says how long one waited, CPU time how much work it was.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

// BenchmarkAnalyseBesideFind50k interleaves, in one run, the analysis of
// the image of 50 000 files with GNU find stat'ing the same layers
// (find -printf '%s'): the floor of walking them, as a peer's figure.
func BenchmarkAnalyseBesideFind50k(b *testing.B) {
	st := sharedBigStack(b)
	findBin, err := exec.LookPath("find")
	if err != nil {
		b.Fatal("find (GNU findutils) is the peer here: install it")
	}
	args := []string{}
	for _, l := range st.Layers {
		args = append(args, l.Dir)
	}
	args = append(args, "-printf", "%s %y\n")
	var analyse, find time.Duration
	for b.Loop() {
		t := time.Now()
		im, err := Read(st)
		if err != nil {
			b.Fatal(err)
		}
		im.Merged(im.Top())
		im.Waste(false)
		analyse += time.Since(t)
		t = time.Now()
		cmd := exec.Command(findBin, args...)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		find += time.Since(t)
	}
	b.ReportMetric(analyse.Seconds()*1000/float64(b.N), "analyse-ms/op")
	b.ReportMetric(find.Seconds()*1000/float64(b.N), "find-ms/op")
}
