package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect/union"
	"glassbox/ui/words"
)

// Copy-up, live: u on a file of a sandbox's lower layers appends a byte
// to it inside the sandbox; the upper layer is read at once, and what the
// write cost is said: the whole file, copied up first.

// copyUpNote is a copy-up asked for, waiting for the upper layer's next
// read to be explained.
type copyUpNote struct {
	path       string
	upperSize  int64 // the upper layer's bytes before
	lowerSize  int64 // the file's bytes in the layer below
	lowerLayer int
	already    bool // the upper layer has the file already: nothing to copy
	written    bool // the byte is written; the next read shows it
}

// copyUpCmd appends one byte to the file inside the sandbox.
func (v *imageView) copyUpCmd(p string) tea.Cmd {
	gen, acts, id := v.gen, v.acts, v.stack.SandboxID
	return func() tea.Msg {
		if acts == nil {
			return imageCopyUpMsg{gen: gen, path: p, err: fmt.Errorf("writing into sandboxes is not available here")}
		}
		written, _, err := acts.CopyUp(id, p)
		if written == "" {
			written = p
		}
		return imageCopyUpMsg{gen: gen, path: written, err: err}
	}
}

// noteCopyUp remembers what a copy-up of p is about to cost.
func (v *imageView) noteCopyUp(p string) *copyUpNote {
	n := &copyUpNote{path: p, lowerLayer: -1}
	top := len(v.stack.Layers) - 1
	n.upperSize = v.im.Stats[top].Size
	if pr, err := v.im.Which(p, top); err == nil && pr.Layer == top {
		n.already = true
	}
	if pr, err := v.im.Which(p, top-1); err == nil && pr.Entry != nil && pr.Entry.Kind == union.File {
		n.lowerSize, n.lowerLayer = pr.Entry.Size, pr.Layer
	}
	return n
}

// explainCopyUp says, once the upper layer was read after a copy-up, what
// it cost.
func (v *imageView) explainCopyUp() {
	n := v.copyUp
	if n == nil || !n.written {
		return
	}
	v.copyUp = nil
	top := len(v.stack.Layers) - 1
	after := v.im.Stats[top].Size
	if n.already {
		v.status = fmt.Sprintf("appended 1 byte to %s, which the upper layer had already: no copy-up this time (upper layer %s → %s)",
			n.path, words.Bytes(n.upperSize), words.Bytes(after))
		return
	}
	if n.lowerLayer < 0 {
		v.status = fmt.Sprintf("appended 1 byte to %s: no lower layer has it, so nothing was copied up (upper layer %s → %s)",
			n.path, words.Bytes(n.upperSize), words.Bytes(after))
		return
	}
	v.status = fmt.Sprintf("copy-up: 1 byte appended to %s made overlayfs copy all %s of it up from %s first: upper layer %s → %s",
		n.path, words.Bytes(n.lowerSize), union.Number(v.stack, n.lowerLayer), words.Bytes(n.upperSize), words.Bytes(after))
}
