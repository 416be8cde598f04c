package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect/union"
)

// treeRow is one line of the file tree: an item at a depth. lasts has bit
// d set when the row's ancestor at depth d (or the row, at its own depth)
// is the last child of its directory: the guide lines are drawn from it.
type treeRow struct {
	it    *union.Item
	depth int
	lasts uint64
}

// prefix draws the guide lines before the row's name: "│   ├── ".
func (r treeRow) prefix() string {
	if r.depth == 0 {
		return ""
	}
	var b strings.Builder
	for d := 1; d < r.depth; d++ {
		if d < 64 && r.lasts&(1<<d) != 0 {
			b.WriteString("    ")
		} else {
			b.WriteString("│   ")
		}
	}
	if r.depth < 64 && r.lasts&(1<<r.depth) != 0 {
		b.WriteString("└── ")
	} else {
		b.WriteString("├── ")
	}
	return b.String()
}

// isDir says the item is a directory the tree can unfold.
func isDir(it *union.Item) bool {
	return it.Mark != union.Removed && it.Entry.Kind == union.Dir && len(it.Kids) > 0
}

// unfolded says whether a directory shows its children: as the user left
// it, otherwise every directory in a layer's changes (they are what the
// layer did) and only the root in a merged tree (it may hold 50 000 files).
func (v *imageView) unfolded(r treeRow) bool {
	if o, ok := v.expanded[r.it.Path()]; ok {
		return o
	}
	return !v.rowsKey.merged || r.depth == 0
}

// flatten appends the rows of it's children, and theirs while unfolded.
func (v *imageView) flatten(rows []treeRow, parent treeRow) []treeRow {
	for i, k := range parent.it.Kids {
		r := treeRow{it: k, depth: parent.depth + 1, lasts: parent.lasts}
		if i == len(parent.it.Kids)-1 && r.depth < 64 {
			r.lasts |= 1 << r.depth
		}
		rows = append(rows, r)
		if isDir(k) && v.unfolded(r) {
			rows = v.flatten(rows, r)
		}
	}
	return rows
}

// setRows shows a view, keeping the cursor on the path it was on when the
// new view has it.
func (v *imageView) setRows(k viewKey, root *union.Item) {
	at := ""
	if v.cursor < len(v.rows) {
		at = v.rows[v.cursor].it.Path()
	}
	v.rowsKey = k
	top := treeRow{it: root}
	v.rows = v.flatten([]treeRow{top}, top)
	v.cursor = 0
	for i, r := range v.rows {
		if r.it.Path() == at {
			v.cursor = i
			break
		}
	}
	v.scrollTree()
}

// fold unfolds or folds the directory at the cursor: only its rows change.
func (v *imageView) fold(open bool) {
	if v.cursor >= len(v.rows) {
		return
	}
	r := v.rows[v.cursor]
	if !isDir(r.it) || v.unfolded(r) == open {
		return
	}
	v.expanded[r.it.Path()] = open
	if !open {
		end := v.cursor + 1
		for end < len(v.rows) && v.rows[end].depth > r.depth {
			end++
		}
		v.rows = append(v.rows[:v.cursor+1], v.rows[end:]...)
		return
	}
	kids := v.flatten(nil, r)
	rest := append(kids, v.rows[v.cursor+1:]...)
	v.rows = append(v.rows[:v.cursor+1], rest...)
}

// parent moves the cursor to the directory holding the row at the cursor.
func (v *imageView) parent() {
	d := v.rows[v.cursor].depth
	for i := v.cursor - 1; i >= 0; i-- {
		if v.rows[i].depth < d {
			v.cursor = i
			return
		}
	}
}

// treeHeight is how many rows of the tree the panel shows.
func (v *imageView) treeHeight() int {
	return max(layoutImage(v.c.width, v.c.height, v.layerCount()).bodyH-2-treeInfoLines, 1)
}

func (v *imageView) layerCount() int {
	if v.stack == nil {
		return 0
	}
	return len(v.stack.Layers)
}

func (v *imageView) scrollTree() {
	h := v.treeHeight()
	v.cursor = min(max(v.cursor, 0), max(len(v.rows)-1, 0))
	if v.cursor < v.top {
		v.top = v.cursor
	}
	if v.cursor >= v.top+h {
		v.top = v.cursor - h + 1
	}
	v.top = min(max(v.top, 0), max(len(v.rows)-h, 0))
}

// selectLayer moves to another layer (list order is top first: up is a
// higher layer).
func (v *imageView) selectLayer(i int) tea.Cmd {
	n := v.layerCount()
	if n == 0 {
		return nil
	}
	i = min(max(i, 0), n-1)
	if i == v.layer {
		return nil
	}
	v.layer = i
	listH := layoutImage(v.c.width, v.c.height, n).listH - 3
	row := n - 1 - i
	if row < v.layerTop {
		v.layerTop = row
	}
	if row >= v.layerTop+listH {
		v.layerTop = row - listH + 1
	}
	v.pane, v.file = paneTree, nil
	return v.viewCmd()
}

// page is how far pgup and pgdn move.
func (v *imageView) page() int { return max(v.treeHeight()-1, 1) }

// handleKey maps a key to a state change or a command. It returns done
// when the user leaves the view.
func (v *imageView) handleKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := v.keys
	if v.help {
		if key.Matches(msg, k.Help) || key.Matches(msg, k.Back) {
			v.help = false
		}
		return nil, false
	}
	switch {
	case key.Matches(msg, k.Help):
		v.help = true
		return nil, false
	case key.Matches(msg, k.Back):
		if v.pane != paneTree {
			v.pane, v.file = paneTree, nil
			return nil, false
		}
		return nil, true
	case key.Matches(msg, k.Focus):
		if v.focus == focusLayers {
			v.focus = focusFiles
		} else {
			v.focus = focusLayers
		}
		return nil, false
	case key.Matches(msg, k.Merged):
		v.merged = !v.merged
		v.pane, v.file = paneTree, nil
		return v.viewCmd(), false
	case key.Matches(msg, k.Waste):
		if v.pane == paneWaste {
			v.pane = paneTree
			return nil, false
		}
		v.pane, v.file, v.wasteTop = paneWaste, nil, 0
		return v.wasteCmd(), false
	case key.Matches(msg, k.Base):
		v.excludeBase = !v.excludeBase
		v.wasteTop = 0
		return v.wasteCmd(), false
	case key.Matches(msg, k.CopyUp):
		return v.askCopyUp(), false
	}
	if v.focus == focusLayers {
		return v.layerKey(msg), false
	}
	switch v.pane {
	case paneFile:
		if f := v.file; f != nil {
			v.scroll(msg, &f.scroll, len(f.lines), fileHeaderLines)
		}
	case paneWaste:
		if w := v.wastes[v.excludeBase]; w != nil {
			v.scroll(msg, &v.wasteTop, len(w.Items), wasteHeaderLines)
		}
	default:
		return v.treeKey(msg), false
	}
	return nil, false
}

// layerKey moves through the layer list, top first.
func (v *imageView) layerKey(msg tea.KeyMsg) tea.Cmd {
	k, n := v.keys, v.layerCount()
	switch {
	case key.Matches(msg, k.Up):
		return v.selectLayer(v.layer + 1)
	case key.Matches(msg, k.Down):
		return v.selectLayer(v.layer - 1)
	case key.Matches(msg, k.Home):
		return v.selectLayer(n - 1)
	case key.Matches(msg, k.End):
		return v.selectLayer(0)
	case key.Matches(msg, k.Open), key.Matches(msg, k.Expand):
		v.focus = focusFiles
	}
	return nil
}

// treeKey moves through the file tree, folds directories, opens files.
func (v *imageView) treeKey(msg tea.KeyMsg) tea.Cmd {
	k := v.keys
	if len(v.rows) == 0 {
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		v.cursor--
	case key.Matches(msg, k.Down):
		v.cursor++
	case key.Matches(msg, k.PageUp):
		v.cursor -= v.page()
	case key.Matches(msg, k.PageDown):
		v.cursor += v.page()
	case key.Matches(msg, k.Home):
		v.cursor = 0
	case key.Matches(msg, k.End):
		v.cursor = len(v.rows) - 1
	case key.Matches(msg, k.Expand):
		v.fold(true)
	case key.Matches(msg, k.Collapse):
		r := v.rows[v.cursor]
		if isDir(r.it) && v.unfolded(r) {
			v.fold(false)
		} else {
			v.parent()
		}
	case key.Matches(msg, k.Open):
		r := v.rows[v.cursor]
		switch {
		case isDir(r.it):
			v.fold(!v.unfolded(r))
		case r.it.Entry.Kind == union.File || r.it.Entry.Kind == union.Symlink:
			v.status = ""
			return v.fileCmd(r.it)
		default:
			v.status = r.it.Path() + ": a " + r.it.Entry.Kind.String() + " has no content to show"
		}
	}
	v.scrollTree()
	return nil
}

// scroll moves a list of n lines shown header lines below the panel's
// top by one key: a line, a page, to either end.
func (v *imageView) scroll(msg tea.KeyMsg, top *int, n, header int) {
	k := v.keys
	h := max(layoutImage(v.c.width, v.c.height, v.layerCount()).bodyH-2-header, 1)
	switch {
	case key.Matches(msg, k.Up):
		*top--
	case key.Matches(msg, k.Down):
		*top++
	case key.Matches(msg, k.PageUp):
		*top -= h - 1
	case key.Matches(msg, k.PageDown):
		*top += h - 1
	case key.Matches(msg, k.Home):
		*top = 0
	case key.Matches(msg, k.End):
		*top = n
	}
	*top = min(max(*top, 0), max(n-h, 0))
}

// askCopyUp appends a byte to the file at the cursor, inside the sandbox.
func (v *imageView) askCopyUp() tea.Cmd {
	if !v.live() {
		v.status = "copy-up needs a sandbox: it is what a running container's first write to a lower file costs (glassbox image explore SANDBOX)"
		return nil
	}
	if v.stack.Status != "running" {
		v.status = "copy-up needs the sandbox running; it is " + v.stack.Status
		return nil
	}
	if v.pane != paneTree || len(v.rows) == 0 {
		return nil
	}
	it := v.rows[v.cursor].it
	if it.Mark == union.Removed || it.Entry.Kind != union.File {
		v.status = "copy-up: pick a regular file (overlayfs copies a file up on its first write)"
		return nil
	}
	v.copyUp = v.noteCopyUp(it.Path())
	v.status = "appending 1 byte to " + it.Path() + " inside " + v.stack.Sandbox + "…"
	return v.copyUpCmd(it.Path())
}
