package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"

	"glassbox/inspect/union"
	"glassbox/ui/words"
)

// renderFile is the file viewer: a text with line numbers, or a binary's
// type, size and first bytes.
func (v *imageView) renderFile(w, h int) (string, []string) {
	st := v.c.st
	f := v.file
	c := f.content
	title := "File " + c.Path + " (" + union.Number(v.stack, c.Layer) + ")"
	about := words.Bytes(c.Size) + " · " + c.Type
	if c.Resolved != c.Path {
		about = "→ " + c.Resolved + " · " + about
	}
	if c.Binary {
		about = "binary: " + c.Type + " · " + words.Bytes(c.Size) + " · its first bytes:"
	}
	shown := ""
	if c.Truncated && !c.Binary {
		shown = fmt.Sprintf("the first %s of %s shown", words.Bytes(int64(len(c.Data))), words.Bytes(c.Size))
	}
	out := []string{st.Title.Render(cut(about, w)), st.Dim.Render(cut(shown, w))}
	numW := len(fmt.Sprint(len(f.lines)))
	for i := f.scroll; i < len(f.lines) && len(out) < h; i++ {
		line := f.lines[i]
		if !c.Binary {
			line = st.Dim.Render(fmt.Sprintf("%*d ", numW, i+1)) + line
		}
		out = append(out, fit(line, w))
	}
	if len(f.lines) == 0 {
		out = append(out, st.Dim.Render("(empty)"))
	}
	return title, out
}

// renderWaste is the waste panel: the efficiency, the bytes by kind, and
// the files responsible, most bytes first.
func (v *imageView) renderWaste(w, h int) (string, []string) {
	st := v.c.st
	ws := v.wastes[v.excludeBase]
	title := "Waste: " + v.stack.Image
	if v.stack.Sandbox != "" {
		title = "Waste: sandbox " + v.stack.Sandbox + " (its upper layer counted)"
	}
	if ws == nil {
		return title, []string{st.Dim.Render("counting…")}
	}
	base := words.BaseNote(v.stack, ws)
	switch {
	case base == "":
		base = "no base image known: every layer counted"
	case ws.ExcludeBase:
		base += " (b counts it)"
	default:
		base += " (b leaves it out)"
	}
	out := []string{
		st.Title.Render(cut(fmt.Sprintf("efficiency %s · %s wasted of %s counted", words.Efficiency(ws.Efficiency), words.Bytes(ws.Wasted), words.Bytes(ws.Total)), w)),
		cut(fmt.Sprintf("overwritten %s · deleted %s · leftovers %s", words.Bytes(ws.Overwritten), words.Bytes(ws.Deleted), words.Bytes(ws.Leftovers)), w),
		st.Dim.Render(cut(base, w)),
	}
	if len(ws.Items) == 0 {
		return title, append(out, "", "nothing wasted: no file is stored twice, removed later, or left over")
	}
	out = append(out, st.Dim.Render(cut(fmt.Sprintf("%-10s %-11s %-7s %-6s %s", "WASTED", "KIND", "IN", "BY", "PATH"), w)))
	for i := v.wasteTop; i < len(ws.Items) && len(out) < h; i++ {
		it := ws.Items[i]
		what := it.Path
		if why := words.WasteWhy(v.stack, it); why != "" {
			what += "  (" + why + ")"
		}
		line := fmt.Sprintf("%-10s %-11s %-7s %-6s %s", words.Bytes(it.Bytes), it.Kind, words.Numbers(v.stack, it.Copies), union.Number(v.stack, it.By), what)
		out = append(out, cut(line, w))
	}
	if more := len(ws.Items) - v.wasteTop - (h - wasteHeaderLines); more > 0 && len(out) == h {
		out[h-1] = st.Dim.Render(cut(fmt.Sprintf("… %d more (↓ scrolls)", more+1), w))
	}
	return title, out
}

// renderKeysHelp is a ? screen made from a keymap's groups, from the top
// (the Image view's; the main screen's scrolls, renderHelp).
func renderKeysHelp(st *Styles, title string, groups [][]key.Binding, names []string, notes []string, w, h int) string {
	return frame(st, "Help", true, window(st, keysHelpLines(st, title, groups, names, notes, w-4), 0, h-2), w, h)
}

// keysHelpLines are a help screen's lines, w cells wide: each group of
// keys under its name (a long description wraps under itself), then the
// notes and the closing hint.
func keysHelpLines(st *Styles, title string, groups [][]key.Binding, names []string, notes []string, w int) []string {
	lines := []string{st.Title.Render(title)}
	for i, group := range groups {
		if i > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, st.Label.Render(cut(names[i], w)))
		for _, b := range group {
			hk := b.Help()
			desc := wrap(hk.Desc, max(w-16, 10))
			lines = append(lines, "  "+st.Key.Render(fit(hk.Key, 14))+desc[0])
			for _, d := range desc[1:] {
				lines = append(lines, strings.Repeat(" ", 16)+d)
			}
		}
	}
	// The closing hint shares the last note's line when it fits.
	closing := "press ? or esc to close"
	for i, n := range notes {
		if i == len(notes)-1 && len([]rune(n+" · "+closing)) <= w {
			n, closing = n+" · "+closing, ""
		}
		for _, l := range wrap(n, w) {
			lines = append(lines, st.Dim.Render(l))
		}
	}
	if closing != "" {
		lines = append(lines, st.Dim.Render(closing))
	}
	return lines
}
