package union

import (
	"path"
	"strings"
)

// How overlayfs merges a path, from the top-most layer down: the first
// layer that has it provides it; a whiteout there means it is deleted; a
// directory is merged with the directories below it until one of them is
// opaque (it hides the layers below) or a layer has a non-directory there
// (a file or whiteout ends the merge); a file hides everything below.

// Mark says how a path changed in a layer (Changes), or that a merged view
// shows it as removed (Merged).
type Mark uint8

const (
	Unchanged Mark = iota
	Added
	Modified
	Removed
)

func (m Mark) String() string { return [...]string{"unchanged", "added", "modified", "removed"}[m] }

// How says what removed a path.
type How uint8

const (
	// ByWhiteout: a whiteout (character device 0/0) at Removal.Path, the
	// path itself or a directory above it.
	ByWhiteout How = iota
	// ByOpaque: the opaque directory Removal.Path hides what the layers
	// below it have inside it.
	ByOpaque
	// ByReplaced: a file or symlink took the place of the directory
	// Removal.Path, hiding everything that was inside it.
	ByReplaced
)

// Removal is what removed a path: the whiteout or opaque directory behind
// it, and the layer that has it.
type Removal struct {
	Layer int    `json:"layer"`
	Path  string `json:"path"`
	How   How    `json:"how"`
}

// cause is what removed a path, before it is worded as a Removal (most
// are never needed, so no path is built for them).
type cause struct {
	layer int
	node  *Node // the whiteout's, opaque directory's or replaced directory's; nil: none
	how   How
}

func (c cause) removal() *Removal {
	if c.node == nil {
		return nil
	}
	return &Removal{Layer: c.layer, Path: c.node.Path(), How: c.how}
}

// hide is what a directory's state means for its children: entries in
// layers below `below` are hidden, by `by`.
type hide struct {
	below int
	by    cause
}

// nodeState is a node as the layers up to some layer show it.
type nodeState struct {
	vis     int   // index into Node.In of the visible entry; -1 if none
	last    int   // index of the top-most non-whiteout entry, -1 if none
	removed cause // set when the path existed but is not visible
	kids    hide
}

// state resolves n as the layers up to L show it, given what its parent
// hides (h).
func (n *Node) state(L int, h hide) nodeState {
	s := nodeState{vis: -1, last: -1}
	top := -1
	for i := len(n.In) - 1; i >= 0; i-- {
		if n.In[i].Layer <= L {
			top = i
			break
		}
	}
	if top < 0 {
		return s
	}
	for i := top; i >= 0; i-- {
		if n.In[i].Kind != Whiteout {
			s.last = i
			break
		}
	}
	o := n.In[top]
	if o.Layer < h.below {
		if s.last >= 0 {
			s.removed = h.by
		}
		s.kids = h
		return s
	}
	if o.Kind == Whiteout {
		switch {
		case s.last >= 0 && n.In[s.last].Layer >= h.below:
			s.removed = cause{o.Layer, n, ByWhiteout}
		case s.last >= 0:
			s.removed = h.by
		}
		s.kids = hide{below: o.Layer + 1, by: s.removed}
		return s
	}
	s.vis = top
	if o.Kind != Dir {
		s.kids = hide{below: o.Layer + 1, by: cause{o.Layer, n, ByReplaced}}
		return s
	}
	s.kids = h
	for i := top; i >= 0 && n.In[i].Layer >= h.below; i-- {
		oi := n.In[i]
		if oi.Kind == Whiteout {
			s.kids = hide{below: oi.Layer + 1, by: cause{oi.Layer, n, ByWhiteout}}
			break
		}
		if oi.Kind != Dir {
			s.kids = hide{below: oi.Layer + 1, by: cause{oi.Layer, n, ByReplaced}}
			break
		}
		if oi.Opaque && oi.Layer > 0 {
			s.kids = hide{below: oi.Layer, by: cause{oi.Layer, n, ByOpaque}}
			break
		}
	}
	return s
}

// Item is one path in a view of the tree.
type Item struct {
	Node *Node
	Mark Mark
	// Entry is what the view shows: the visible entry, or for a removed
	// path the last one it had; Layer is the layer it comes from.
	Entry *Entry
	Layer int
	// Removal says what removed a Removed path.
	Removal *Removal
	// Below is, in a layer's changes, the entry the path had in the layers
	// below (for a modified path) and the layer that had it.
	Below      *Entry
	BelowLayer int
	// Size is a file's bytes; for a directory, the bytes of the files below
	// it in the view; for a removed directory, what it held.
	Size int64
	// Count is the number of entries below a directory in the view.
	Count int
	Kids  []*Item
}

// Merged is the tree as overlayfs shows it with the layers up to L
// (indexes from 0), with each removed path shown once, where its removal
// shows: a path removed with its directory is inside the removed
// directory, not listed again.
func (im *Image) Merged(L int) *Item {
	L = im.clamp(L)
	return im.mergedItem(im.Root, L, hide{})
}

func (im *Image) mergedItem(n *Node, L int, h hide) *Item {
	s := n.state(L, h)
	if s.vis < 0 {
		if s.removed.node == nil {
			return nil
		}
		o := n.In[s.last]
		it := &Item{Node: n, Mark: Removed, Entry: o.Entry, Layer: o.Layer, Removal: s.removed.removal()}
		it.Size = removedBytes(n, s.removed.layer-1)
		return it
	}
	o := n.In[s.vis]
	it := &Item{Node: n, Entry: o.Entry, Layer: o.Layer}
	if o.Kind != Dir {
		it.Size = o.Size
		return it
	}
	for _, k := range n.Kids {
		c := im.mergedItem(k, L, s.kids)
		if c == nil {
			continue
		}
		it.Kids = append(it.Kids, c)
		if c.Mark != Removed {
			it.Size += c.Size
			it.Count += c.Count + 1
		}
	}
	return it
}

// removedBytes is about what a removed path held: the top-most file entry
// of every path below it, up to layer L.
func removedBytes(n *Node, L int) int64 {
	var size int64
	for i := len(n.In) - 1; i >= 0; i-- {
		if o := n.In[i]; o.Layer <= L {
			if o.Kind == File {
				return o.Size
			}
			if o.Kind != Dir {
				return 0
			}
			break
		}
	}
	for _, k := range n.Kids {
		size += removedBytes(k, L)
	}
	return size
}

// Changes is what layer L changed relative to the layers below it: every
// path it has, marked added, modified or removed (a whiteout; directories
// that only hold changes are unchanged), and the paths its opaque
// directories (or a file over a directory) hide, marked removed.
func (im *Image) Changes(L int) *Item {
	L = im.clamp(L)
	it := im.changeItem(im.Root, L, hide{}, hide{})
	it.Mark = Unchanged // every layer has a root
	return it
}

func (im *Image) changeItem(n *Node, L int, hPrev, hCur hide) *Item {
	prev := n.state(L-1, hPrev)
	cur := n.state(L, hCur)
	e := n.at(L)
	if e == nil {
		if prev.vis >= 0 && cur.vis < 0 && cur.removed.node != nil {
			o := n.In[prev.vis]
			it := &Item{Node: n, Mark: Removed, Entry: o.Entry, Layer: o.Layer, Removal: cur.removed.removal()}
			it.Size = removedBytes(n, L-1)
			return it
		}
		return nil
	}
	it := &Item{Node: n, Entry: e, Layer: L}
	if prev.vis >= 0 {
		it.Below, it.BelowLayer = n.In[prev.vis].Entry, n.In[prev.vis].Layer
	}
	switch {
	case e.Kind == Whiteout:
		it.Mark, it.Removal = Removed, cur.removed.removal()
		if it.Below != nil {
			it.Entry, it.Layer = it.Below, it.BelowLayer
			it.Size = removedBytes(n, L-1)
		}
		return it
	case it.Below == nil:
		it.Mark = Added
	case e.Kind == Dir && it.Below.Kind == Dir:
		if e.Opaque || e.Mode != it.Below.Mode || e.UID != it.Below.UID || e.GID != it.Below.GID {
			it.Mark = Modified
		}
	default:
		it.Mark = Modified
	}
	if e.Kind != Dir {
		it.Size = e.Size
		return it
	}
	for _, k := range n.Kids {
		c := im.changeItem(k, L, prev.kids, cur.kids)
		if c == nil {
			continue
		}
		it.Kids = append(it.Kids, c)
		if c.Mark != Removed {
			it.Size += c.Size
			it.Count += c.Count + 1
		}
	}
	return it
}

func (im *Image) clamp(L int) int {
	return min(max(L, 0), len(im.layers)-1)
}

// Top is the index of the stack's top-most layer.
func (im *Image) Top() int { return len(im.layers) - 1 }

// Path is the item's absolute path.
func (it *Item) Path() string { return it.Node.Path() }

// sameTree says whether two reads of a layer found the same entries with
// the same sizes, modes and modification times.
func sameTree(a, b *Entry) bool {
	if a.Name != b.Name || a.Kind != b.Kind || a.Size != b.Size || a.Mode != b.Mode ||
		a.UID != b.UID || a.GID != b.GID || a.Link != b.Link || a.Opaque != b.Opaque ||
		!a.ModTime.Equal(b.ModTime) || len(a.kids) != len(b.kids) {
		return false
	}
	for i := range a.kids {
		if !sameTree(a.kids[i], b.kids[i]) {
			return false
		}
	}
	return true
}

// splitPath turns an absolute path into its names ("/" has none).
func splitPath(p string) []string {
	p = strings.Trim(path.Clean("/"+p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
