package union

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// items lists waste items as "KIND PATH BYTES copies BY [rule]" lines.
func items(w *Waste, st *Stack) string {
	var b strings.Builder
	for _, it := range w.Items {
		var copies []string
		for _, l := range it.Copies {
			copies = append(copies, Number(st, l))
		}
		fmt.Fprintf(&b, "%s %s %d %s by %s", it.Kind, it.Path, it.Bytes, strings.Join(copies, ","), Number(st, it.By))
		if it.Rule != "" {
			b.WriteString(" " + it.Rule)
		}
		if it.Removal != nil {
			b.WriteString(" (" + it.Removal.Describe() + ")")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// The N−1 rule: of N copies of a path only the top one is seen, so N−1
// are waste (not N, as dive counts); a path added and removed later is
// waste in full; leftovers still in the image are waste.
func TestWasteCountsRight(t *testing.T) {
	im := courseImage(t)
	w := im.Waste(false)
	want := `
deleted /big 30000 #2 by #3 (whiteout /big)
overwritten /bin/busybox 5000 #1 by #3
leftover /var/lib/apt/lists/deb_main 4000 #2 by #2 apt package lists
deleted /var/cache/app/b 2000 #1 by #2 (opaque directory /var/cache/app)
deleted /var/cache/app/a 1000 #1 by #2 (opaque directory /var/cache/app)
leftover /var/log/build.log 700 #2 by #2 log file
leftover /root/.cache/pip/wheel 300 #3 by #3 pip cache
overwritten /etc/passwd 120 #2 by #3
deleted /etc/hosts 50 #1 by #2 (whiteout /etc/hosts)
overwritten /etc/passwd 11 #1 by #2
`
	if got := items(w, im.Stack); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("waste items:\n%s\nwant:\n%s", got, want)
	}
	total := int64(8061 + 34835 + 5431)
	if w.Total != total || w.Overwritten != 5000+120+11 || w.Deleted != 30000+2000+1000+50 || w.Leftovers != 4000+700+300 {
		t.Errorf("total %d overwritten %d deleted %d leftovers %d", w.Total, w.Overwritten, w.Deleted, w.Leftovers)
	}
	if w.Wasted != 5131+33050+5000 {
		t.Errorf("wasted %d, want %d", w.Wasted, 5131+33050+5000)
	}
	if want := float64(total-43181) / float64(total); math.Abs(w.Efficiency-want) > 1e-12 {
		t.Errorf("efficiency %v, want %v", w.Efficiency, want)
	}
}

// Leaving the base image out: its bytes count neither in the total nor as
// waste, even where a later layer made them dead.
func TestWasteWithoutTheBase(t *testing.T) {
	im := courseImage(t)
	im.Stack.Layers[0].Base = true
	w := im.Waste(true)
	want := `
deleted /big 30000 #2 by #3 (whiteout /big)
leftover /var/lib/apt/lists/deb_main 4000 #2 by #2 apt package lists
leftover /var/log/build.log 700 #2 by #2 log file
leftover /root/.cache/pip/wheel 300 #3 by #3 pip cache
overwritten /etc/passwd 120 #2 by #3
`
	if got := items(w, im.Stack); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("waste items:\n%s\nwant:\n%s", got, want)
	}
	if w.BaseLayers != 1 || w.Total != 34835+5431 || w.Wasted != 35120 {
		t.Errorf("base layers %d total %d wasted %d", w.BaseLayers, w.Total, w.Wasted)
	}
	if want := float64(40266-35120) / 40266; math.Abs(w.Efficiency-want) > 1e-12 {
		t.Errorf("efficiency %v, want %v", w.Efficiency, want)
	}
	// Without the toggle the base counts again.
	if all := im.Waste(false); all.Wasted != 43181 || all.BaseLayers != 0 {
		t.Errorf("all layers: wasted %d, base layers %d", all.Wasted, all.BaseLayers)
	}
}

// N copies of one path: N−1 are waste, whatever N is.
func TestWasteNMinusOne(t *testing.T) {
	for n := 1; n <= 4; n++ {
		var specs []string
		for range n {
			specs = append(specs, "f /app/data 1000")
		}
		im := fixtureImage(t, specs...)
		w := im.Waste(false)
		if w.Wasted != int64(1000*(n-1)) || w.Total != int64(1000*n) {
			t.Errorf("%d copies: wasted %d of %d, want %d", n, w.Wasted, w.Total, 1000*(n-1))
		}
		if want := 1 / float64(n); math.Abs(w.Efficiency-want) > 1e-12 {
			t.Errorf("%d copies: efficiency %v, want %v", n, w.Efficiency, want)
		}
	}
}

// Hard links: bytes are stored once per layer, and a copy another name
// still shows is not waste.
func TestWasteHardLinks(t *testing.T) {
	im := fixtureImage(t, `
f /a 100
h /b /a
f /c 70
h /d /c`, `
w /a
w /c
w /d`)
	w := im.Waste(false)
	if w.Total != 170 || w.Wasted != 70 || len(w.Items) != 1 || w.Items[0].Path != "/c" {
		t.Errorf("total %d wasted %d items:\n%s", w.Total, w.Wasted, items(w, im.Stack))
	}
}

// Files hidden by a removed or replaced directory are deleted waste, named
// by what removed them.
func TestWasteUnderRemovedDirectories(t *testing.T) {
	im := fixtureImage(t, removals...)
	want := `
deleted /d/f 60 #1 by #2 (whiteout /d)
deleted /d/e 40 #1 by #2 (whiteout /d)
deleted /a/x 10 #1 by #2 (directory /a replaced by a non-directory)
overwritten /q 7 #1 by #2
`
	if got := items(im.Waste(false), im.Stack); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("waste items:\n%s\nwant:\n%s", got, want)
	}
}

func TestWasteOfAnEmptyImage(t *testing.T) {
	im := fixtureImage(t, "d /etc")
	if w := im.Waste(false); w.Efficiency != 1 || w.Total != 0 || len(w.Items) != 0 {
		t.Errorf("%+v", w)
	}
}
