package union

import (
	"cmp"
	"slices"
	"strings"
)

// WasteKind says why bytes are wasted.
type WasteKind uint8

const (
	// Overwritten: a copy of a file a later layer wrote again. Of N copies
	// of one path only the top one is seen; the N−1 below it are waste.
	Overwritten WasteKind = iota
	// Deleted: a copy a later layer removed (a whiteout, an opaque
	// directory, a file over its directory): added, then removed, still
	// stored in the layer that added it.
	Deleted
	// Leftover: a file still in the image that only the build needed:
	// package lists and caches, logs.
	Leftover
)

func (k WasteKind) String() string { return [...]string{"overwritten", "deleted", "leftover"}[k] }

// WasteItem is one path's wasted bytes of one kind.
type WasteItem struct {
	Path  string    `json:"path"`
	Kind  WasteKind `json:"kind"`
	Bytes int64     `json:"bytes"`
	// Copies are the wasted copies (layer indexes, lowest first).
	Copies []int `json:"copies"`
	// By is the layer that made them waste: the one that wrote the path
	// again or removed it, or for a leftover the one that has it.
	By int `json:"by"`
	// Removal says what deleted the path (Deleted).
	Removal *Removal `json:"removal,omitempty"`
	// Rule names the kind of leftover ("apt package lists", …).
	Rule string `json:"rule,omitempty"`
}

// Waste is an image's wasted space.
type Waste struct {
	// ExcludeBase says the base image's layers (BaseLayers of them) are
	// left out: their bytes count neither in Total nor as waste.
	ExcludeBase bool  `json:"exclude_base"`
	BaseLayers  int   `json:"base_layers"`
	Total       int64 `json:"total_bytes"` // the bytes of the layers counted
	Wasted      int64 `json:"wasted_bytes"`
	Overwritten int64 `json:"overwritten_bytes"`
	Deleted     int64 `json:"deleted_bytes"`
	Leftovers   int64 `json:"leftover_bytes"`
	// Efficiency is the share of Total that is not waste, from 0 to 1.
	Efficiency float64     `json:"efficiency"`
	Items      []WasteItem `json:"items"`
}

// leftoverRules are the files an image usually keeps by mistake.
var leftoverRules = []struct {
	name  string
	match func(p string) bool
}{
	{"apt package lists", func(p string) bool { return strings.HasPrefix(p, "/var/lib/apt/lists/") }},
	{"apt package cache", func(p string) bool { return strings.HasPrefix(p, "/var/cache/apt/") }},
	{"pip cache", func(p string) bool { return strings.Contains(p, "/.cache/pip/") }},
	{"npm cache", func(p string) bool { return strings.Contains(p, "/.npm/") }},
	{"log file", func(p string) bool { return strings.HasPrefix(p, "/var/log/") && strings.HasSuffix(p, ".log") }},
}

// leftoverRule names the rule a path falls under, or "".
func leftoverRule(p string) string {
	for _, r := range leftoverRules {
		if r.match(p) {
			return r.name
		}
	}
	return ""
}

type inode struct {
	layer int
	ino   uint64
}

// Waste counts the bytes the image stores but never shows (every copy of a
// path but the visible one, and the copies of removed paths) and the
// leftovers it still shows. With excludeBase, only the layers above the
// base image count. Hard links are counted once per layer, and a copy
// another name still shows is not waste.
func (im *Image) Waste(excludeBase bool) *Waste {
	w := &Waste{ExcludeBase: excludeBase}
	counted := make([]bool, len(im.layers))
	for l := range im.layers {
		base := excludeBase && im.Stack.Layers[l].Base
		if base {
			w.BaseLayers++
			continue
		}
		counted[l] = true
		w.Total += im.Stats[l].Size
	}
	top := im.Top()
	shown := map[inode]bool{} // hard-linked inodes the final view shows
	im.walkFinal(im.Root, top, hide{}, func(n *Node, s nodeState) {
		if s.vis >= 0 {
			if o := n.In[s.vis]; o.Kind == File && o.nlink > 1 {
				shown[inode{o.Layer, o.ino}] = true
			}
		}
	})
	wasted := map[inode]bool{}
	im.walkFinal(im.Root, top, hide{}, func(n *Node, s nodeState) {
		var items []WasteItem
		add := func(kind WasteKind, o Occurrence, by int, rm *Removal) {
			if !counted[o.Layer] || o.Size == 0 {
				return
			}
			if o.nlink > 1 {
				k := inode{o.Layer, o.ino}
				if shown[k] || wasted[k] {
					return
				}
				wasted[k] = true
			}
			for i := range items {
				if items[i].Kind == kind && items[i].By == by {
					items[i].Bytes += o.Size
					items[i].Copies = append(items[i].Copies, o.Layer)
					return
				}
			}
			items = append(items, WasteItem{Path: n.Path(), Kind: kind, Bytes: o.Size, Copies: []int{o.Layer}, By: by, Removal: rm})
		}
		for i, o := range n.In {
			if o.Kind != File || i == s.vis {
				continue
			}
			if i+1 < len(n.In) {
				next := n.In[i+1]
				if next.Kind == Whiteout {
					add(Deleted, o, next.Layer, &Removal{Layer: next.Layer, Path: n.Path(), How: ByWhiteout})
				} else {
					add(Overwritten, o, next.Layer, nil)
				}
				continue
			}
			if s.removed.node != nil { // hidden by a directory above it
				add(Deleted, o, s.removed.layer, s.removed.removal())
			}
		}
		if s.vis >= 0 {
			if o := n.In[s.vis]; o.Kind == File {
				if rule := leftoverRule(n.Path()); rule != "" {
					add(Leftover, o, o.Layer, nil)
					if len(items) > 0 && items[len(items)-1].Kind == Leftover {
						items[len(items)-1].Rule = rule
					}
				}
			}
		}
		for _, it := range items {
			w.Items = append(w.Items, it)
			w.Wasted += it.Bytes
			switch it.Kind {
			case Overwritten:
				w.Overwritten += it.Bytes
			case Deleted:
				w.Deleted += it.Bytes
			case Leftover:
				w.Leftovers += it.Bytes
			}
		}
	})
	slices.SortStableFunc(w.Items, func(a, b WasteItem) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	w.Efficiency = 1
	if w.Total > 0 {
		w.Efficiency = float64(w.Total-w.Wasted) / float64(w.Total)
	}
	return w
}

// walkFinal calls f for every node of the tree with its state in the view
// up to L, visible or not.
func (im *Image) walkFinal(n *Node, L int, h hide, f func(*Node, nodeState)) {
	s := n.state(L, h)
	f(n, s)
	for _, k := range n.Kids {
		im.walkFinal(k, L, s.kids, f)
	}
}
