package ui

import (
	"fmt"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect/union"
)

// imageView is the Image view, a child component of the top model: an
// image's layers (or a sandbox's, its writable layer on top, read live),
// the file tree of the selected layer — what it changed, or the merged
// tree up to it —, a file viewer and the waste panel. Every read of the
// layers happens in a tea.Cmd; update only folds results in and moves the
// cursor, and view renders what is there.
type imageView struct {
	c        *common
	keys     ImageKeyMap
	images   Images
	acts     Actions
	interval time.Duration
	ref      string
	gen      int64 // tells this opening's messages from a closed one's

	stack *union.Stack
	im    *union.Image
	err   string

	layer  int  // the selected layer, an index into stack.Layers
	merged bool // show the merged tree up to the layer, not its changes
	focus  imageFocus
	pane   imagePane
	help   bool

	views    map[viewKey]*union.Item // built views of im
	expanded map[string]bool         // directories the user folded or unfolded
	rows     []treeRow
	rowsKey  viewKey
	cursor   int
	top      int
	layerTop int

	file        *fileView
	excludeBase bool
	wastes      map[bool]*union.Waste
	wasteTop    int

	status string
	copyUp *copyUpNote
}

type viewKey struct {
	layer  int
	merged bool
}

type imageFocus int

const (
	focusLayers imageFocus = iota
	focusFiles
)

type imagePane int

const (
	paneTree imagePane = iota
	paneFile
	paneWaste
)

// Messages of the Image view; gen ties each to one opening of the view.
type (
	imageLoadedMsg struct {
		gen   int64
		stack *union.Stack
		im    *union.Image
		key   viewKey
		root  *union.Item
		waste *union.Waste
		err   error
	}
	imageViewMsg struct {
		gen  int64
		im   *union.Image
		key  viewKey
		root *union.Item
	}
	imageWasteMsg struct {
		gen     int64
		im      *union.Image
		exclude bool
		waste   *union.Waste
	}
	imageFileMsg struct {
		gen  int64
		file *fileView
		err  error
	}
	imageTickMsg  struct{ gen int64 }
	imageUpperMsg struct {
		gen int64
		// afterCopyUp marks the read that follows a copy-up's write.
		afterCopyUp bool
		im          *union.Image // the re-read image; the same one when nothing changed
		key         viewKey
		root        *union.Item
		waste       *union.Waste
		err         error
	}
	imageCopyUpMsg struct {
		gen  int64
		path string
		err  error
	}
)

// imageGen numbers the openings of the Image view.
var imageGen atomic.Int64

func newImageView(c *common, images Images, acts Actions, interval time.Duration, ref string) *imageView {
	return &imageView{
		c: c, keys: DefaultImageKeyMap(), images: images, acts: acts, interval: interval, ref: ref, gen: imageGen.Add(1),
		views: map[viewKey]*union.Item{}, expanded: map[string]bool{}, wastes: map[bool]*union.Waste{},
	}
}

// live says the stack ends with a sandbox's writable layer, read again on
// every refresh.
func (v *imageView) live() bool {
	return v.stack != nil && len(v.stack.Layers) > 0 && v.stack.Layers[len(v.stack.Layers)-1].Upper
}

// init reads the stack: its description, every layer, the view of its top
// layer and the waste, all off the UI's goroutine.
func (v *imageView) init() tea.Cmd {
	gen, ref, images := v.gen, v.ref, v.images
	return func() tea.Msg {
		if images == nil {
			return imageLoadedMsg{gen: gen, err: fmt.Errorf("images cannot be read here")}
		}
		st, err := images.Stack(ref)
		if err != nil {
			return imageLoadedMsg{gen: gen, err: err}
		}
		im, err := union.Read(st)
		if err != nil {
			return imageLoadedMsg{gen: gen, stack: st, err: err}
		}
		key := viewKey{layer: im.Top()}
		return imageLoadedMsg{gen: gen, stack: st, im: im, key: key, root: buildView(im, key), waste: im.Waste(false)}
	}
}

func buildView(im *union.Image, k viewKey) *union.Item {
	if k.merged {
		return im.Merged(k.layer)
	}
	return im.Changes(k.layer)
}

func (v *imageView) key() viewKey { return viewKey{layer: v.layer, merged: v.merged} }

// viewCmd builds the view of the selected layer when it is not built yet.
func (v *imageView) viewCmd() tea.Cmd {
	k := v.key()
	if v.im == nil {
		return nil
	}
	if root, ok := v.views[k]; ok {
		v.setRows(k, root)
		return nil
	}
	gen, im := v.gen, v.im
	return func() tea.Msg { return imageViewMsg{gen: gen, im: im, key: k, root: buildView(im, k)} }
}

func (v *imageView) wasteCmd() tea.Cmd {
	if v.im == nil || v.wastes[v.excludeBase] != nil {
		return nil
	}
	gen, im, ex := v.gen, v.im, v.excludeBase
	return func() tea.Msg { return imageWasteMsg{gen: gen, im: im, exclude: ex, waste: im.Waste(ex)} }
}

// tick waits for the next refresh of a live stack.
func (v *imageView) tick() tea.Cmd {
	gen := v.gen
	return tea.Tick(v.interval, func(time.Time) tea.Msg { return imageTickMsg{gen: gen} })
}

// rereadCmd reads the upper layer again and, when it changed, rebuilds
// the view on screen and the waste with it.
func (v *imageView) rereadCmd(afterCopyUp bool) tea.Cmd {
	gen, im, k, ex := v.gen, v.im, v.key(), v.excludeBase
	return func() tea.Msg {
		next, err := im.Reread()
		if err != nil || next == im {
			return imageUpperMsg{gen: gen, im: im, err: err, afterCopyUp: afterCopyUp}
		}
		return imageUpperMsg{gen: gen, im: next, key: k, root: buildView(next, k), waste: next.Waste(ex), afterCopyUp: afterCopyUp}
	}
}

// apply folds one of the view's messages in. It returns false for a
// message that is not the view's, or is left over from a closed one.
func (v *imageView) apply(msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case imageLoadedMsg:
		if msg.gen != v.gen {
			return true, nil
		}
		v.stack = msg.stack
		if msg.err != nil {
			v.err = msg.err.Error()
			return true, nil
		}
		v.im, v.layer = msg.im, msg.key.layer
		v.views[msg.key] = msg.root
		v.wastes[false] = msg.waste
		v.setRows(msg.key, msg.root)
		v.focus = focusFiles
		if v.live() {
			return true, v.tick()
		}
		return true, nil
	case imageViewMsg:
		if msg.gen == v.gen && msg.im == v.im {
			v.views[msg.key] = msg.root
			if msg.key == v.key() {
				v.setRows(msg.key, msg.root)
			}
		}
		return true, nil
	case imageWasteMsg:
		if msg.gen == v.gen && msg.im == v.im {
			v.wastes[msg.exclude] = msg.waste
		}
		return true, nil
	case imageFileMsg:
		if msg.gen != v.gen {
			return true, nil
		}
		if msg.err != nil {
			v.status = msg.err.Error()
			return true, nil
		}
		v.file, v.pane = msg.file, paneFile
		return true, nil
	case imageTickMsg:
		if msg.gen != v.gen || v.im == nil {
			return true, nil
		}
		return true, v.rereadCmd(false)
	case imageUpperMsg:
		if msg.gen != v.gen {
			return true, nil
		}
		if msg.err != nil {
			v.status = "read the upper layer: " + msg.err.Error()
		} else if msg.im != v.im {
			v.swap(msg)
		}
		if msg.afterCopyUp {
			v.explainCopyUp()
			return true, nil // the tick already waiting goes on
		}
		return true, v.tick()
	case imageCopyUpMsg:
		if msg.gen != v.gen {
			return true, nil
		}
		if msg.err != nil {
			v.copyUp = nil
			v.status = "copy-up: " + msg.err.Error()
			return true, nil
		}
		if v.copyUp == nil || v.copyUp.path != msg.path {
			v.copyUp = v.noteCopyUp(msg.path)
		}
		v.copyUp.written = true
		v.status = fmt.Sprintf("appended 1 byte to %s; reading the upper layer…", msg.path)
		return true, v.rereadCmd(true)
	}
	return false, nil
}

// swap takes a re-read image in: the views of the old one are dropped,
// the one on screen is replaced keeping the cursor on its path.
func (v *imageView) swap(msg imageUpperMsg) {
	v.im = msg.im
	v.views = map[viewKey]*union.Item{}
	v.wastes = map[bool]*union.Waste{}
	if msg.waste != nil {
		v.wastes[v.excludeBase] = msg.waste
	}
	if msg.root != nil {
		v.views[msg.key] = msg.root
		if msg.key == v.key() {
			v.setRows(msg.key, msg.root)
		}
	}
}
