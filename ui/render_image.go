package ui

import (
	"fmt"
	"strings"

	"glassbox/inspect/union"
	"glassbox/ui/words"
)

// imageLayout places the Image view's panels: a header, the layer list
// and the selected layer's details on the left, the files (or a file, or
// the waste) on the right, the footer.
type imageLayout struct {
	headerH, footerH, bodyH int
	leftW, rightW           int
	listH, detailH          int
}

const (
	treeInfoLines    = 3 // below the tree: the selected path and where it comes from
	fileHeaderLines  = 2
	wasteHeaderLines = 4
)

func layoutImage(w, h, layers int) imageLayout {
	l := imageLayout{headerH: 2, footerH: 2}
	if h < 30 {
		l.footerH = 1
	}
	l.bodyH = max(h-l.headerH-l.footerH, 6)
	l.leftW = max(34, w*2/5)
	l.rightW = w - l.leftW
	l.listH = min(max(layers+3, 5), l.bodyH/2)
	l.detailH = l.bodyH - l.listH
	return l
}

// view draws the Image view; it does no I/O.
func (v *imageView) view(w, h int) string {
	st := v.c.st
	if v.help {
		return renderKeysHelp(st, "glassbox — Image view keys", v.keys.FullHelp(), imageHelpGroups,
			[]string{"Layers are numbered from the base (#1) up; a sandbox's writable layer is the upper one"}, w, h)
	}
	lay := layoutImage(w, h, v.layerCount())
	header := v.renderHeader(w)
	footer := v.renderFooter(w, lay.footerH)
	var left, right string
	if v.im == nil {
		msg := "reading the layers of " + v.ref + "…"
		if v.err != "" {
			msg = v.err
		}
		left = frame(st, "Layers", false, []string{st.Dim.Render(msg)}, lay.leftW, lay.bodyH)
		right = frame(st, "Files", false, nil, lay.rightW, lay.bodyH)
	} else {
		list := frame(st, "Layers (top first)", v.focus == focusLayers, v.renderLayers(lay.leftW-4, lay.listH-2), lay.leftW, lay.listH)
		details := frame(st, "Layer "+union.Number(v.stack, v.layer)+" of "+fmt.Sprint(v.layerCount()), false, v.renderDetails(lay.leftW-4), lay.leftW, lay.detailH)
		left = list + "\n" + details
		title, content := v.renderRight(lay.rightW-4, lay.bodyH-2)
		right = frame(st, title, v.focus == focusFiles, content, lay.rightW, lay.bodyH)
	}
	parts := append(header, sideBySide(left, right))
	return strings.Join(append(parts, footer...), "\n")
}

func (v *imageView) renderHeader(w int) []string {
	st := v.c.st
	var l1, l2 string
	switch {
	case v.stack == nil:
		l1 = st.Title.Render("glassbox ▸ image view") + "  " + v.ref
	case v.stack.Sandbox != "":
		l1 = st.Title.Render("glassbox ▸ sandbox "+v.stack.Sandbox) + fmt.Sprintf("  %s  image %s  %d read-only %s + its upper layer, read every %s",
			strings.ToUpper(v.stack.Status), v.stack.Image, v.layerCount()-1, plural(v.layerCount()-1, "layer"), v.interval)
	default:
		l1 = st.Title.Render("glassbox ▸ image "+v.stack.Image) + fmt.Sprintf("  %d %s", v.layerCount(), plural(v.layerCount(), "layer"))
		if v.stack.ImageID != "" {
			l1 += "  id " + shortDigest(v.stack.ImageID)
		}
	}
	if v.im != nil {
		var size int64
		for _, s := range v.im.Stats {
			size += s.Size
		}
		l1 += " · " + words.Bytes(size)
		l2 = "waste: reading…"
		if ws := v.wastes[v.excludeBase]; ws != nil {
			l2 = fmt.Sprintf("efficiency %s · %s wasted of %s", words.Efficiency(ws.Efficiency), words.Bytes(ws.Wasted), words.Bytes(ws.Total))
			if note := words.BaseNote(v.stack, ws); note != "" {
				l2 += " · " + note
			}
		}
	}
	return []string{fit(l1, w), fit(st.Dim.Render(l2), w)}
}

func (v *imageView) renderFooter(w, lines int) []string {
	st := v.c.st
	status := v.status
	if status == "" {
		switch {
		case v.im == nil:
			status = "esc back · q quit"
		case v.live():
			status = "u on a file appends a byte inside the sandbox: watch the upper layer grow by the whole file (copy-up)"
		default:
			status = "layers are read-only; + added, ~ modified, - removed (what removed it is named below the tree)"
		}
	}
	keys := v.c.help.ShortHelpView(v.keys.footer())
	if lines < 2 {
		return []string{fit(st.Accent.Render(cut(status, w/2))+"  "+keys, w)}
	}
	if len([]rune(status)) > w {
		// A long status (a copy-up explained) takes the keys' line.
		l := firstLines(wrap(status, w), 2, w)
		return []string{fit(st.Accent.Render(l[0]), w), fit(st.Accent.Render(l[1]), w)}
	}
	return []string{fit(st.Accent.Render(cut(status, w)), w), fit(keys, w)}
}

// renderLayers is the layer list, top first: number, size, cache hit or
// miss, how many images and sandboxes use it, the step that made it.
func (v *imageView) renderLayers(w, h int) []string {
	st := v.c.st
	n := v.layerCount()
	out := []string{st.Dim.Render(cut("  LAYER      SIZE CACHE USERS  CREATED BY", w))}
	for row := v.layerTop; row < n && len(out) < h; row++ {
		i := n - 1 - row
		l := v.stack.Layers[i]
		sel := "  "
		if i == v.layer {
			sel = "▶ "
		}
		cache := l.Cache
		switch {
		case l.Upper:
			cache = "live"
		case cache == "" && l.Base:
			cache = "base"
		case cache == "":
			cache = "—"
		}
		users := fmt.Sprintf("%di %ds", len(l.Images), len(l.Sandboxes))
		line := fmt.Sprintf("%s%-6s %9s %-5s %-6s %s", sel, union.Number(v.stack, i), words.Bytes(v.im.Stats[i].Size), cache, users, l.CreatedBy)
		if i == v.layer {
			line = st.Accent.Render(cut(line, w))
		}
		out = append(out, cut(line, w))
	}
	return out
}

// renderDetails says everything about the selected layer.
func (v *imageView) renderDetails(w int) []string {
	st := v.c.st
	l := v.stack.Layers[v.layer]
	s := v.im.Stats[v.layer]
	var out []string
	out = append(out, firstLines(wrap(l.CreatedBy, w), 2, w)...)
	if l.Upper {
		out = append(out, st.Dim.Render(cut("writable: what the sandbox wrote, read live", w)))
	} else if l.Digest != "" {
		out = append(out, st.Dim.Render("digest "+shortDigest(l.Digest)))
	}
	facts := words.Bytes(s.Size) + " in " + entries(s.Files)
	if s.Whiteouts > 0 {
		facts += fmt.Sprintf(" · %d %s", s.Whiteouts, plural(s.Whiteouts, "whiteout"))
	}
	if s.Opaques > 0 {
		facts += fmt.Sprintf(" · %d opaque %s", s.Opaques, plural(s.Opaques, "dir"))
	}
	out = append(out, firstLines(wrap(facts, w), 2, w)...)
	switch l.Cache {
	case "hit":
		out = append(out, firstLines(wrap("build cache: hit (the step was not run again)", w), 2, w)...)
	case "miss":
		out = append(out, firstLines(wrap("build cache: miss: "+l.CacheWhy, w), 2, w)...)
	default:
		if !l.Upper {
			out = append(out, st.Dim.Render(cut("not made by glassbox build: no cache record", w)))
		}
	}
	out = append(out, firstLines(wrap(users(len(l.Images), "image", l.Images), w), 2, w)...)
	out = append(out, firstLines(wrap(users(len(l.Sandboxes), "sandbox", l.Sandboxes), w), 2, w)...)
	if l.Base {
		base := "the base image"
		if v.stack.BaseImage != "" {
			base += " " + v.stack.BaseImage
		}
		out = append(out, cut("part of "+base+" (FROM)", w))
	}
	if len(s.Unreadable) > 0 {
		out = append(out, st.Warn.Render(cut("not readable without root: "+strings.Join(s.Unreadable, " "), w)))
	}
	if s.OpaqueUnknown {
		out = append(out, st.Warn.Render(cut("opaque directories unknown: only root sees them", w)))
	}
	return out
}

func users(n int, kind string, names []string) string {
	if n == 0 {
		return "used by no " + kind
	}
	return fmt.Sprintf("used by %d %s: %s", n, plural(n, kind), strings.Join(names, ", "))
}

func (v *imageView) renderRight(w, h int) (string, []string) {
	switch v.pane {
	case paneFile:
		return v.renderFile(w, h)
	case paneWaste:
		return v.renderWaste(w, h)
	}
	return v.renderTree(w, h)
}

// marks are the change marks, spelled out so that they show without colour.
var marks = map[union.Mark]string{union.Unchanged: " ", union.Added: "+", union.Modified: "~", union.Removed: "-"}

// renderTree is the file tree: the rows in the window, then two lines on
// the path at the cursor.
func (v *imageView) renderTree(w, h int) (string, []string) {
	st := v.c.st
	num := union.Number(v.stack, v.layer)
	title := "Files: what " + num + " changed (a: merged up to it)"
	if v.merged {
		title = "Files: merged up to " + num + " (a: its changes)"
	}
	if v.rowsKey != v.key() {
		return title, []string{st.Dim.Render("building the tree…")}
	}
	rowsH := max(h-treeInfoLines, 1)
	var out []string
	sizeW, layerW := 9, 6
	for i := v.top; i < len(v.rows) && len(out) < rowsH; i++ {
		out = append(out, v.renderRow(v.rows[i], i == v.cursor, w, sizeW, layerW))
	}
	for len(out) < rowsH {
		out = append(out, "")
	}
	if len(v.rows) > 0 {
		out = append(out, v.renderInfo(v.rows[v.cursor].it, w)...)
	}
	return title, out
}

func (v *imageView) renderRow(r treeRow, cur bool, w, sizeW, layerW int) string {
	st := v.c.st
	it := r.it
	sel := " "
	if cur {
		sel = "▶"
	}
	name := it.Node.Name
	if r.depth == 0 {
		name = "/"
	}
	switch {
	case it.Mark == union.Removed:
	case it.Entry.Kind == union.Dir:
		if r.depth > 0 {
			name += "/"
		}
		if isDir(it) && !v.unfolded(r) {
			name += fmt.Sprintf(" (+%d)", it.Count)
		}
		if it.Entry.Opaque && !v.rowsKey.merged {
			name += " (opaque)"
		}
	case it.Entry.Kind == union.Symlink:
		name += " → " + it.Entry.Link
	}
	left := sel + marks[it.Mark] + " " + r.prefix() + name
	right := fmt.Sprintf("%*s %*s", sizeW, words.Bytes(it.Size), layerW, union.Number(v.stack, it.Layer))
	line := fit(left, w-len([]rune(right))-1) + " " + right
	switch {
	case cur:
		return st.FocusTitle.Render(line)
	case it.Mark == union.Added:
		return st.Good.Render(line)
	case it.Mark == union.Modified:
		return st.Warn.Render(line)
	case it.Mark == union.Removed:
		return st.Bad.Render(line)
	}
	return line
}

// renderInfo says where the path at the cursor comes from, or what
// removed it, in two lines.
func (v *imageView) renderInfo(it *union.Item, w int) []string {
	st := v.c.st
	e := it.Entry
	p := it.Path()
	what := e.Kind.String()
	switch {
	case e.Kind == union.File:
		what = words.Bytes(e.Size)
	case e.Kind == union.Dir:
		what = words.Bytes(it.Size) + " in " + entries(it.Count)
	case e.Kind == union.Symlink:
		what = "symlink to " + e.Link
	}
	l1 := cutLeft(p, w*2/3) + " · " + words.Mode(e) + " · " + what
	var l2 string
	layerName := func(i int) string {
		by := v.stack.Layers[i].CreatedBy
		return union.Number(v.stack, i) + " (" + by + ")"
	}
	switch {
	case it.Mark == union.Removed && it.Removal != nil:
		l2 = "removed by " + words.Removal(v.stack, it.Removal) + " (" + removalWhy[it.Removal.How] + ")"
	case it.Mark == union.Modified && it.Below != nil && v.stack.Layers[it.Layer].Upper && e.Kind == union.File && it.Below.Kind == union.File:
		l2 = fmt.Sprintf("copied up from %s: overlayfs copied all %s of it into the upper layer before the first write",
			union.Number(v.stack, it.BelowLayer), words.Bytes(it.Below.Size))
	case it.Mark == union.Modified && it.Below != nil:
		l2 = fmt.Sprintf("replaces the %s in %s (%s)", it.Below.Kind, union.Number(v.stack, it.BelowLayer), words.Bytes(it.Below.Size))
		if e.Kind == union.Dir && e.Opaque {
			l2 = "opaque: the layers below are not looked into here (" + opaqueWhy + ")"
		}
	case it.Mark == union.Added:
		l2 = "added by " + layerName(it.Layer)
	default:
		l2 = "from " + layerName(it.Layer)
		if pr, err := v.im.Which(p, v.layer); err == nil && len(pr.Shadows) > 0 {
			var sh []string
			for _, s := range pr.Shadows {
				sh = append(sh, union.Number(v.stack, s.Layer)+" "+shadowSize(s))
			}
			if e.Kind == union.Dir {
				l2 += "; merged with the directories below: " + strings.Join(sh, ", ")
			} else {
				l2 += "; hides the lower copies in " + strings.Join(sh, ", ")
			}
		}
	}
	out := []string{st.Title.Render(fit(l1, w))}
	for _, l := range firstLines(wrap(l2, w), treeInfoLines-1, w) {
		out = append(out, fit(l, w))
	}
	return out
}

// entries is a count of directory entries in words.
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

func shadowSize(o union.Occurrence) string {
	switch o.Kind {
	case union.File:
		return words.Bytes(o.Size)
	case union.Whiteout:
		return "whiteout"
	case union.Dir:
		return ""
	}
	return o.Kind.String()
}

const opaqueWhy = "trusted.overlay.opaque=y"

// removalWhy says how each kind of removal works.
var removalWhy = map[union.How]string{
	union.ByWhiteout: "a character device 0/0: overlayfs reads it as deleted",
	union.ByOpaque:   opaqueWhy + ": the layers below are not looked into",
	union.ByReplaced: "a file where a directory was hides all it held",
}

// firstLines keeps n lines of a wrapped text, the last one ending in "…"
// when more was cut.
func firstLines(lines []string, n, w int) []string {
	if len(lines) > n {
		lines = append(lines[:n-1:n-1], cut(strings.TrimRight(lines[n-1], " ")+" "+strings.TrimSpace(lines[n]), w))
	}
	return lines
}
