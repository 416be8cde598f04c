// Package union reads a stack of image layers the way overlayfs merges
// them, to explain the union file system: what each layer added, changed
// and removed; the merged tree up to any layer; which layer provides a path
// and which lower copies it hides; what is in a file; and how many bytes an
// image wastes.
//
// It only reads. A layer is a directory in overlayfs's own format (the
// image store's, and a sandbox's writable upper directory): a deleted path
// is a whiteout, a character device 0/0; a directory that hides what the
// layers below have inside it is opaque, with the extended attribute
// trusted.overlay.opaque (user.overlay.opaque on user-namespace mounts) set
// to "y". Reading needs read access to the directories, not root, except
// that trusted.* attributes are invisible without CAP_SYS_ADMIN: a layer
// whose record lists its opaque directories (Layer.Opaque) is read right
// either way.
package union

import (
	"fmt"
	"io/fs"
	"runtime"
	"time"
)

// Stack is what to read: an image's layers, base first, and for a sandbox
// its writable upper layer last. What the store knows about each layer
// rides along for the views.
type Stack struct {
	// Image is the image's name as it was asked for, ImageID its id.
	Image   string `json:"image"`
	ImageID string `json:"image_id,omitempty"`
	// Sandbox names the sandbox whose upper layer is on top ("" for an
	// image alone); SandboxID and Status are its id and state.
	Sandbox   string  `json:"sandbox,omitempty"`
	SandboxID string  `json:"sandbox_id,omitempty"`
	Status    string  `json:"status,omitempty"`
	Layers    []Layer `json:"layers"`
	// BaseImage names the image the base layers come from ("" if unknown).
	BaseImage string `json:"base_image,omitempty"`
}

// Layer is one directory of a stack and what is known about it.
type Layer struct {
	Dir       string    `json:"dir"`
	Digest    string    `json:"digest,omitempty"` // sha256:<hex>; "" for an upper layer
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created,omitempty"`
	// Cache is "hit" or "miss" for a step glassbox built ("" otherwise),
	// and CacheWhy the reason a step missed.
	Cache    string `json:"cache,omitempty"`
	CacheWhy string `json:"cache_why,omitempty"`
	// Images and Sandboxes name the images in the store and the sandboxes
	// (in any state) that use the layer.
	Images    []string `json:"images,omitempty"`
	Sandboxes []string `json:"sandboxes,omitempty"`
	// Base says the layer belongs to the image this one was built FROM.
	Base bool `json:"base,omitempty"`
	// Upper says it is a sandbox's writable layer, read live.
	Upper bool `json:"upper,omitempty"`
	// Opaque lists the layer's opaque directories as its record keeps
	// them, or is nil when the record does not say (then the extended
	// attributes are read, which needs root for trusted.*).
	Opaque []string `json:"opaque,omitempty"`
}

// Kind is what an entry of a layer is.
type Kind uint8

const (
	File Kind = iota
	Dir
	Symlink
	Whiteout // a character device 0/0: the path is deleted
	Other    // a fifo, socket or device node
)

func (k Kind) String() string {
	return [...]string{"file", "dir", "symlink", "whiteout", "other"}[k]
}

// Entry is one path in one layer.
type Entry struct {
	Name    string      `json:"-"`
	Kind    Kind        `json:"kind"`
	Mode    fs.FileMode `json:"mode"`
	Size    int64       `json:"size"` // bytes of a regular file's content
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
	Link    string      `json:"link,omitempty"` // a symlink's target
	Opaque  bool        `json:"opaque,omitempty"`
	ModTime time.Time   `json:"-"`

	ino   uint64
	nlink uint32
	kids  []*Entry // a directory's entries, sorted by name
}

// LayerStats are the facts gathered while a layer is read.
type LayerStats struct {
	Size      int64 `json:"size"`  // bytes of regular file content (a hard-linked file once)
	Files     int   `json:"files"` // entries of any kind, whiteouts included
	Whiteouts int   `json:"whiteouts"`
	Opaques   int   `json:"opaque_dirs"`
	// Unreadable lists directories that could not be listed (permissions).
	Unreadable []string `json:"unreadable,omitempty"`
	// OpaqueUnknown says opaque directories may have been missed: the
	// record does not list them and trusted.* attributes cannot be read.
	OpaqueUnknown bool `json:"opaque_unknown,omitempty"`
}

// Image is a stack as read: one merged tree of every path any layer has,
// each path with the entry every layer has for it.
type Image struct {
	Stack  *Stack
	Root   *Node
	Stats  []LayerStats // per layer, as Stack.Layers
	layers []*Entry     // each layer's root entry
	Read   time.Time
}

// Node is one path of the merged tree.
type Node struct {
	Name   string
	Parent *Node
	Kids   []*Node // sorted by name
	// In has the path's entry in each layer that has it, lowest layer first.
	In []Occurrence
}

// Occurrence is a path's entry in one layer.
type Occurrence struct {
	Layer int
	*Entry
}

// Path is the node's absolute path inside the image.
func (n *Node) Path() string {
	if n.Parent == nil {
		return "/"
	}
	if n.Parent.Parent == nil {
		return "/" + n.Name
	}
	return n.Parent.Path() + "/" + n.Name
}

// at returns the node's entry in layer l, or nil.
func (n *Node) at(l int) *Entry {
	for _, o := range n.In {
		if o.Layer == l {
			return o.Entry
		}
	}
	return nil
}

// kid finds a child by name.
func (n *Node) kid(name string) *Node {
	lo, hi := 0, len(n.Kids)
	for lo < hi {
		m := (lo + hi) / 2
		if n.Kids[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(n.Kids) && n.Kids[lo].Name == name {
		return n.Kids[lo]
	}
	return nil
}

// Read reads every layer of the stack and merges them.
func Read(st *Stack) (*Image, error) {
	if st == nil || len(st.Layers) == 0 {
		return nil, fmt.Errorf("nothing to read: the stack has no layers")
	}
	roots, stats, err := readLayers(st.Layers)
	if err != nil {
		return nil, err
	}
	return merge(st, roots, stats), nil
}

// Reread reads the stack's upper layer again, keeping what was read of the
// others (they are read-only). It returns im itself when nothing in the
// upper layer changed.
func (im *Image) Reread() (*Image, error) {
	last := len(im.Stack.Layers) - 1
	if last < 0 || !im.Stack.Layers[last].Upper {
		return im, nil
	}
	root, s, err := readLayer(im.Stack.Layers[last], make(chan struct{}, runtime.GOMAXPROCS(0)-1))
	if err != nil {
		return nil, fmt.Errorf("read the upper layer: %w", err)
	}
	if sameTree(root, im.layers[last]) {
		return im, nil
	}
	roots := append(append([]*Entry(nil), im.layers[:last]...), root)
	stats := append(append([]LayerStats(nil), im.Stats[:last]...), s)
	return merge(im.Stack, roots, stats), nil
}

// Number is how a layer is called on screen and on the command line: #1
// for the base-most layer, "upper" for a sandbox's writable one.
func Number(st *Stack, i int) string {
	if i >= 0 && i < len(st.Layers) && st.Layers[i].Upper {
		return "upper"
	}
	return fmt.Sprintf("#%d", i+1)
}

// merge builds the merged tree from each layer's tree, lowest layer first.
func merge(st *Stack, roots []*Entry, stats []LayerStats) *Image {
	im := &Image{Stack: st, Stats: stats, layers: roots, Root: &Node{}, Read: time.Now()}
	for l, r := range roots {
		im.Root.In = append(im.Root.In, Occurrence{Layer: l, Entry: r})
		mergeKids(im.Root, l, r.kids)
	}
	return im
}

// mergeKids merges one layer's sorted entries of a directory into the
// node's sorted children.
func mergeKids(n *Node, l int, kids []*Entry) {
	if len(kids) == 0 {
		return
	}
	var out []*Node
	grow := false
	// Whether anything is new decides between merging in place and
	// building a new slice.
	i, j := 0, 0
	for i < len(n.Kids) && j < len(kids) {
		switch {
		case n.Kids[i].Name < kids[j].Name:
			i++
		case n.Kids[i].Name > kids[j].Name:
			grow = true
			j = len(kids)
		default:
			i++
			j++
		}
	}
	if j < len(kids) {
		grow = true
	}
	if grow {
		out = make([]*Node, 0, len(n.Kids)+len(kids))
	}
	i, j = 0, 0
	for i < len(n.Kids) || j < len(kids) {
		var c *Node
		var e *Entry
		switch {
		case j >= len(kids) || (i < len(n.Kids) && n.Kids[i].Name < kids[j].Name):
			c = n.Kids[i]
			i++
		case i >= len(n.Kids) || n.Kids[i].Name > kids[j].Name:
			e = kids[j]
			c = &Node{Name: e.Name, Parent: n}
			j++
		default:
			c, e = n.Kids[i], kids[j]
			i++
			j++
		}
		if e != nil {
			c.In = append(c.In, Occurrence{Layer: l, Entry: e})
			if e.Kind == Dir {
				mergeKids(c, l, e.kids)
			}
		}
		if grow {
			out = append(out, c)
		}
	}
	if grow {
		n.Kids = out
	}
}
