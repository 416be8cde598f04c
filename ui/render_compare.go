package ui

import (
	"fmt"
	"strings"
	"time"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// renderCompare is the comparison screen: the table, VM and sandbox side
// by side with the host for reference, filling in as figures arrive; below
// it the selected row's meaning and where each of its figures came from;
// then what is being measured now, and the keys.
func renderCompare(st *Styles, r *compareRun, now time.Time, w, h int) string {
	if r == nil {
		return frame(st, "VM vs sandbox", true, []string{"press v to compare"}, w, h)
	}
	inner := w - 4
	rows := r.rows()
	sel := min(r.sel, len(rows)-1)

	var top []string
	if r.setup {
		setup := words.CompareSetup(&r.c)
		if h < 30 { // short terminals: the VM and how qemu ran
			setup = []string{setup[0], setup[len(setup)-1]}
		}
		for _, l := range setup {
			top = append(top, st.Dim.Render(cut(l, inner)))
		}
	} else {
		top = append(top, st.Dim.Render("finding qemu, a kernel and the calculator image…"))
	}
	top = append(top, "")
	labelW := 18
	colW := (inner - labelW) / 3
	var heads []string
	for _, s := range state.CompareSides {
		heads = append(heads, words.CompareSideName(s))
	}
	top = append(top, st.Label.Render(compareLine("", heads, labelW, colW)))
	for i, row := range rows {
		cells := words.CompareCells(&r.c, row)
		marker := "  "
		if i == sel {
			marker = "▶ "
		}
		line := compareLine(marker+words.CompareLabel(row), cells, labelW, colW)
		if i == sel {
			line = st.Accent.Render(line)
		}
		top = append(top, line)
	}
	topH := len(top) + 2

	status := compareStatus(st, r, now)
	footer := st.Footer.Render(cut("↑/↓ pick a row · esc back (stops a comparison still running) · q quit", w))
	aboutH := h - topH - 2
	about := []string{}
	if sel >= 0 {
		row := rows[sel]
		about = append(about, wrap(words.CompareMeaning(row), inner)...)
		for _, s := range state.CompareSides {
			f, ok := r.c.Get(s, row)
			if !ok {
				continue
			}
			src := f.Source
			if d := words.CompareDetail(f); d != "" {
				src = d + " — " + src
			}
			for j, l := range wrap(words.CompareSideName(s)+": "+src, inner-2) {
				if j > 0 {
					l = "  " + l
				}
				about = append(about, st.Dim.Render(l))
			}
		}
	}
	title := "VM vs sandbox: the calculator in each, measured on this machine"
	parts := []string{frame(st, title, true, top, w, topH)}
	if aboutH >= 3 {
		label := "About"
		if sel >= 0 {
			label = "About: " + words.CompareLabel(rows[sel])
		}
		parts = append(parts, frame(st, label, false, about, w, aboutH))
	}
	parts = append(parts, fit(status, w), fit(footer, w))
	return strings.Join(parts, "\n")
}

// compareLine lays out a row: its label, then one cell per column.
func compareLine(label string, cells []string, labelW, colW int) string {
	var b strings.Builder
	b.WriteString(fit(label, labelW))
	for _, c := range cells {
		b.WriteString(fit(cut(c, colW-1), colW))
	}
	return b.String()
}

// compareStatus says what is happening: the step being measured and for
// how long, the clean-up after a stop, or how it ended.
func compareStatus(st *Styles, r *compareRun, now time.Time) string {
	switch {
	case r.done && r.err != "":
		return st.Bad.Render("✗ " + r.err)
	case r.done:
		return st.Good.Render(fmt.Sprintf("✓ measured in %s; everything it started is stopped and removed", words.Span(r.ended.Sub(r.started))))
	case r.stopping:
		return st.Warn.Render("stopping: removing the VMs and sandboxes it started…")
	case r.current != "":
		return st.Accent.Render(fmt.Sprintf("… %s  %s", r.current, words.Seconds(now.Sub(r.since).Seconds())))
	case r.last != "":
		return st.Dim.Render("✓ " + r.last)
	}
	return ""
}
