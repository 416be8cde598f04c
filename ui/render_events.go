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
	n, first := 0, len(blocks)
	for first > 0 && (h <= 0 || n+len(blocks[first-1]) <= h) {
		first--
		n += len(blocks[first])
	}
	if first == len(blocks) && first > 0 {
		// The newest alone is taller than the panel: its start.
		return blocks[first-1][:h]
	}
	var out []string
	for _, b := range blocks[first:] {
		out = append(out, b...)
	}
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
