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
	var out []string
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
		// Long events wrap under their text rather than lose their end.
		body := wrap(e.Box+": "+e.Text, max(w-17, 10))
		out = append(out, st.Dim.Render(e.At.Format("15:04:05"))+" "+mark+" "+body[0])
		for _, l := range body[1:] {
			out = append(out, strings.Repeat(" ", 17)+l)
		}
	}
	if h > 0 && len(out) > h {
		out = out[len(out)-h:] // the newest stay in view
	}
	return out
}

// renderHelp is the ? screen, generated from the keymap.
func renderHelp(st *Styles, k KeyMap, w, h int) string {
	return renderKeysHelp(st, "glassbox — keys", k.FullHelp(), helpGroups,
		[]string{"Quitting leaves the sandboxes running (glassbox ps lists them)"}, w, h)
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
