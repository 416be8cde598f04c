package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// fit cuts or pads s (which may hold escape codes) to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// cut shortens plain text to w cells with an ellipsis.
func cut(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	if w <= 1 {
		return ansi.Truncate(s, w, "")
	}
	return ansi.Truncate(s, w, "…")
}

// firstFit is the first of the wordings, longest first, that fits in w
// cells; the last, cut, when none does.
func firstFit(w int, wordings ...string) string {
	for _, s := range wordings {
		if ansi.StringWidth(s) <= w {
			return s
		}
	}
	return cut(wordings[len(wordings)-1], w)
}

// cutLeft keeps the end of s (paths, commands), marking the cut with "…".
func cutLeft(s string, w int) string {
	n := ansi.StringWidth(s)
	if n <= w {
		return s
	}
	if w <= 1 {
		return ansi.Truncate(s, w, "")
	}
	r := []rune(s)
	return "…" + string(r[len(r)-(w-1):])
}

// lines cuts a block to at most h lines, saying how many were left out.
func clampLines(block []string, h int) []string {
	if h <= 0 {
		return nil
	}
	if len(block) <= h {
		return block
	}
	out := append([]string(nil), block[:h-1]...)
	return append(out, fmt.Sprintf("… %d more", len(block)-h+1))
}

// clampHint cuts a block to at most h lines like clampLines, saying on
// the last line how many were left out and where to read them.
func clampHint(st *Styles, block []string, h int, hint string) []string {
	if h <= 0 || len(block) <= h {
		return clampLines(block, h)
	}
	out := append([]string(nil), block[:h-1]...)
	return append(out, st.Dim.Render(fmt.Sprintf("… %d more: %s", len(block)-h+1, hint)))
}

var sparkTicks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws a window of capacity samples (vs holds the latest ones,
// oldest first) in w cells scaled to top: each cell is the highest sample of
// its stretch of time, so a short spike still shows. Time with no samples
// yet is blank.
func sparkline(vs []float64, capacity, w int, top float64) string {
	if w <= 0 {
		return ""
	}
	capacity = max(capacity, len(vs), 1)
	if top <= 0 {
		for _, v := range vs {
			top = max(top, v)
		}
	}
	missing := capacity - len(vs)
	var b strings.Builder
	for c := range w {
		lo, hi := c*capacity/w, (c+1)*capacity/w
		if hi <= lo {
			hi = lo + 1
		}
		peak, seen := 0.0, false
		for i := lo; i < hi && i < capacity; i++ {
			if i < missing {
				continue
			}
			peak, seen = max(peak, vs[i-missing]), true
		}
		if !seen {
			b.WriteByte(' ')
			continue
		}
		i := 0
		if top > 0 {
			i = int(math.Round(peak / top * float64(len(sparkTicks)-1)))
		}
		b.WriteRune(sparkTicks[min(max0(i), len(sparkTicks)-1)])
	}
	return b.String()
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// padRight joins cells into columns of the given widths.
func columns(widths []int, cells ...string) string {
	var b strings.Builder
	for i, c := range cells {
		if i < len(widths) {
			if i == len(cells)-1 {
				b.WriteString(cut(c, widths[i]))
			} else {
				b.WriteString(fit(c, widths[i]))
			}
		} else {
			b.WriteString(c)
		}
	}
	return strings.TrimRight(b.String(), " ")
}
