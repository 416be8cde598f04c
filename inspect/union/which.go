package union

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrNotFound is wrapped by the errors for a path the view does not have,
// ErrRemoved by those for a path a layer removed.
var (
	ErrNotFound = errors.New("no such file or directory")
	ErrRemoved  = errors.New("removed")
)

// Provenance answers "where does this path come from?" in the view of the
// layers up to some layer.
type Provenance struct {
	Path string `json:"path"`
	// Layer provides the visible Entry; -1 when the path is removed.
	Layer int    `json:"layer"`
	Entry *Entry `json:"entry,omitempty"`
	// Shadows are the path's entries in the layers below Layer, top first:
	// the lower copies the visible one hides.
	Shadows []Occurrence `json:"shadows,omitempty"`
	// Removed says what removed the path when it is not visible.
	Removed *Removal `json:"removed,omitempty"`
	// LastLayer and Last are, for a removed path, the last entry it had.
	LastLayer int    `json:"-"`
	Last      *Entry `json:"-"`
}

// step walks one name down from a node whose state is s.
func step(n *Node, s nodeState, name string, L int) (*Node, nodeState, bool) {
	k := n.kid(name)
	if k == nil {
		return nil, nodeState{}, false
	}
	ks := k.state(L, s.kids)
	if ks.vis < 0 && ks.removed.node == nil {
		return nil, nodeState{}, false
	}
	return k, ks, true
}

// Which says which layer provides p (not following symlinks) in the view
// of the layers up to L, and which lower copies it shadows; for a removed
// path, what removed it. A path that never existed is an ErrNotFound.
func (im *Image) Which(p string, L int) (Provenance, error) {
	L = im.clamp(L)
	p = path.Clean("/" + p)
	n, s := im.Root, im.Root.state(L, hide{})
	for _, name := range splitPath(p) {
		// A removed directory is walked too: what was in it is removed with it.
		shown := s.vis
		if shown < 0 {
			shown = s.last
		}
		if n.In[shown].Kind != Dir {
			return Provenance{}, fmt.Errorf("%s: %s is not a directory", p, n.Path())
		}
		var ok bool
		if n, s, ok = step(n, s, name, L); !ok {
			return Provenance{}, fmt.Errorf("%s: %w", p, ErrNotFound)
		}
	}
	pr := Provenance{Path: p, Layer: -1, LastLayer: -1}
	if s.vis < 0 {
		pr.Removed = s.removed.removal()
		if s.last >= 0 {
			pr.LastLayer, pr.Last = n.In[s.last].Layer, n.In[s.last].Entry
		}
		return pr, nil
	}
	pr.Layer, pr.Entry = n.In[s.vis].Layer, n.In[s.vis].Entry
	for i := s.vis - 1; i >= 0; i-- {
		pr.Shadows = append(pr.Shadows, n.In[i])
	}
	return pr, nil
}

// maxLinks is how many symlinks a path may go through, as Linux's MAXSYMLINKS.
const maxLinks = 40

// Resolve follows symlinks in p inside the image, as a process whose root
// is the merged view of the layers up to L would: absolute targets start
// at the image's root, and ".." stops there. It returns the path with no
// symlink left in it, and that path's provenance.
func (im *Image) Resolve(p string, L int) (string, Provenance, error) {
	L = im.clamp(L)
	orig := p
	links := 0
	todo := splitPath(p)
	var done []string
	type frame struct {
		n *Node
		s nodeState
	}
	stack := []frame{{im.Root, im.Root.state(L, hide{})}}
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		cur := stack[len(stack)-1]
		switch name {
		case ".", "":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
				done = done[:len(done)-1]
			}
			continue
		}
		if cur.s.vis < 0 || cur.n.In[cur.s.vis].Kind != Dir {
			return "", Provenance{}, fmt.Errorf("%s: /%s is not a directory", orig, strings.Join(done, "/"))
		}
		k, ks, ok := step(cur.n, cur.s, name, L)
		if !ok {
			return "", Provenance{}, fmt.Errorf("%s: %w", orig, ErrNotFound)
		}
		if ks.vis < 0 {
			r := ks.removed.removal()
			return "", Provenance{}, fmt.Errorf("%s: %w in layer %s (%s)", orig, ErrRemoved, Number(im.Stack, r.Layer), r.Describe())
		}
		if e := k.In[ks.vis]; e.Kind == Symlink {
			links++
			if links > maxLinks {
				return "", Provenance{}, fmt.Errorf("%s: too many levels of symbolic links", orig)
			}
			target := splitPath(e.Link)
			if strings.HasPrefix(e.Link, "/") {
				stack, done = stack[:1], nil
			} else {
				target = strings.Split(e.Link, "/")
			}
			todo = append(target, todo...)
			continue
		}
		stack = append(stack, frame{k, ks})
		done = append(done, name)
	}
	final := "/" + strings.Join(done, "/")
	pr, err := im.Which(final, L)
	return final, pr, err
}
