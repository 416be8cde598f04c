package ui

import (
	"fmt"
	"strings"
)

// renderEvents shows the newest events at the bottom, as a log reads.
func renderEvents(st *Styles, evs []Event, w, h int) []string {
	if len(evs) == 0 {
		return []string{st.Dim.Render("nothing yet: state changes, OOM kills, restarts and signals appear here")}
	}
	if h > 0 && len(evs) > h {
		evs = evs[len(evs)-h:]
	}
	// Each event is a block of lines (a long one wraps under its text);
	// the newest blocks that fit stay in view, whole.
	var blocks [][]string
	for _, e := range evs {
		mark := fmt.Sprintf("%-7s", eventMarker(e.Kind))
		switch e.Kind {
		case EvOOM, EvError:
			mark = st.Bad.Render(mark)
		case EvRestart, EvSignal:
			mark = st.Warn.Render(mark)
		case EvHealth, EvState:
			mark = st.Accent.Render(mark)
		default:
			mark = st.Dim.Render(mark)
		}
		body := wrap(e.Box+": "+e.Text, max(w-17, 10))
		block := []string{st.Dim.Render(e.At.Format("15:04:05")) + " " + mark + " " + body[0]}
		for _, l := range body[1:] {
			block = append(block, strings.Repeat(" ", 17)+l)
		}
		blocks = append(blocks, block)
	}
	return newestThatFit(blocks, w, h)
}

// newestThatFit lays out the newest event blocks in h lines. When they do
// not all fit whole, each is cut to fewer lines (down to one, ending in
// "…") if that keeps more of them in view — an OOM kill stays on screen
// beside the long consequence that follows it — and the newest then takes
// the lines left over.
func newestThatFit(blocks [][]string, w, h int) []string {
	var out []string
	if h <= 0 {
		for _, b := range blocks {
			out = append(out, b...)
		}
		return out
	}
	fits := func(limit int) int {
		n, used := 0, 0
		for i := len(blocks) - 1; i >= 0 && used+min(len(blocks[i]), limit) <= h; i-- {
			n, used = n+1, used+min(len(blocks[i]), limit)
		}
		return n
	}
	limit, shown := h, fits(h)
	for _, l := range []int{2, 1} {
		if n := fits(l); n > shown {
			limit, shown = l, n
		}
	}
	kept := blocks[len(blocks)-shown:]
	used := 0
	for _, b := range kept[:len(kept)-1] {
		used += min(len(b), limit)
	}
	for i, b := range kept {
		if i == len(kept)-1 {
			limit = h - used // the newest takes what is left
		}
		out = append(out, cutBlock(b, limit, w)...)
	}
	return out
}

// cutBlock is an event's first n lines, the last marked "…" when more
// were left out.
func cutBlock(b []string, n, w int) []string {
	if len(b) <= n {
		return b
	}
	out := append([]string(nil), b[:n]...)
	out[n-1] = cut(out[n-1]+"…", w)
	return out
}

// helpLines are the ? screen's lines, generated from the keymap.
func helpLines(st *Styles, k KeyMap, w int) []string {
	return keysHelpLines(st, "glassbox — keys", k.FullHelp(), helpGroups,
		[]string{"Quitting leaves the sandboxes running: glassbox ps lists them, glassbox stop NAME stops one."}, w)
}

// renderHelp is the ? screen, scrolled to line off.
func renderHelp(st *Styles, k KeyMap, off, w, h int) string {
	return frame(st, "Help", true, window(st, helpLines(st, k, w-4), off, h-2), w, h)
}

// renderTooSmall replaces everything when the terminal cannot hold the screen.
func renderTooSmall(w, h int) string {
	msg := fmt.Sprintf("terminal too small: need %d×%d, have %d×%d", minWidth, minHeight, w, h)
	hint := "enlarge the window, or press q to quit"
	if w <= 0 {
		return msg
	}
	var b strings.Builder
	b.WriteString(cut(msg, w) + "\n" + cut(hint, w))
	return b.String()
}
