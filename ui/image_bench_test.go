package ui

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/inspect/union"
	"glassbox/inspect/union/uniontest"
)

// bigExplorer is the Image view on an image of 50 000 files, loaded, its
// merged tree up to the top layer entirely unfolded (every file a row).
func bigExplorer(b *testing.B) Model {
	st := &union.Stack{Image: "big"}
	for i, d := range uniontest.BigLayers(b, b.TempDir()) {
		st.Layers = append(st.Layers, union.Layer{Dir: d, CreatedBy: fmt.Sprintf("step %d", i+1), Base: i == 0})
	}
	m := exploreModel(b, 120, 40, &fakeImages{stacks: map[string]*union.Stack{"big": st}}, nil, "big")
	m = typeKeys(b, m, "a")
	v := m.img
	var unfold func(*union.Item)
	unfold = func(it *union.Item) {
		if isDir(it) {
			v.expanded[it.Path()] = true
			for _, k := range it.Kids {
				unfold(k)
			}
		}
	}
	root := v.views[v.key()]
	unfold(root)
	v.setRows(v.key(), root)
	// Every path a row: the visible ones, and the removed ones once each.
	if len(v.rows) < root.Count {
		b.Fatalf("%d rows, want the %d entries of the merged tree unfolded", len(v.rows), root.Count)
	}
	return m
}

// BenchmarkImageScrollFrame50k is one frame while scrolling the tree of
// 50 000 files: a key (down, or a page down every tenth) through Update,
// then View. Goal: ≤ 16 ms (60 frames a second).
func BenchmarkImageScrollFrame50k(b *testing.B) {
	m := bigExplorer(b)
	down, page := keyMsg("down"), keyMsg("pgdown")
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		k := down
		if i%10 == 9 {
			k = page
		}
		i++
		next, _ := m.Update(k)
		m = next.(Model)
		_ = m.View()
	}
	b.ReportMetric(float64(len(m.img.rows)), "rows")
}

// BenchmarkImageFold50k folds and unfolds the root of the unfolded tree
// of 50 000 files: the most a key can make Update do.
func BenchmarkImageFold50k(b *testing.B) {
	m := bigExplorer(b)
	m = typeKeys(b, m, "g")
	defer reportCPU(b)()
	for b.Loop() {
		next, _ := m.Update(keyMsg("left"))
		next, _ = next.(Model).Update(keyMsg("right"))
		m = next.(Model)
	}
}

// reportCPU adds the process's CPU time per operation (user + system, all
// threads): on a machine others share, wall time says how long one
// waited, CPU time how much work it was.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N)/1e6, "cpu-ms/op") }
}
