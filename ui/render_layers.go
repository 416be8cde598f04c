package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"glassbox/ui/words"
)

// renderLayers draws the overlay stack the way overlayfs resolves a path:
// from the top. The writable upper layer belongs to this sandbox alone; the
// read-only lower layers come from the image and may be shared.
func renderLayers(st *Styles, b *box, w, h int) []string {
	if b == nil || b.snap == nil {
		return []string{st.Dim.Render("no snapshot yet")}
	}
	fs := b.snap.Filesystem
	if fs.RootType == "" && len(fs.Lowers) == 0 {
		return []string{st.Dim.Render("root filesystem not readable (sandbox not running)")}
	}
	var out []string
	up := fs.Upper
	out = append(out, st.Accent.Render("▓▓ rw ")+fmt.Sprintf("upper  %s, %d changed", words.Bytes(up.SizeBytes), up.ChangedFiles)+st.Dim.Render("  only this sandbox"))
	if up.Dir != "" {
		out = append(out, st.Dim.Render("   "+cutLeft(up.Dir, w-3)))
	}
	for i, l := range fs.Lowers {
		n := len(fs.Lowers) - i
		what := l.CreatedBy
		if what == "" {
			what = filepath.Base(l.Dir)
		}
		shared := fmt.Sprintf("shared by %d", l.SharedBy)
		size := words.Bytes(l.SizeBytes)
		left := fmt.Sprintf("░░ ro #%d ", n)
		right := "  " + size + " · " + shared
		room := w - len([]rune(left)) - len([]rune(right))
		if room >= len([]rune(what)) {
			out = append(out, left+fit(what, room)+st.Dim.Render(right))
			continue
		}
		out = append(out, left+st.Dim.Render(size+" · "+shared), "         "+cut(what, w-9))
	}
	mp := "/"
	out = append(out, st.Dim.Render(fmt.Sprintf("══ %s mounted at %s: upper over %d read-only %s", orNone(fs.RootType), mp, len(fs.Lowers), plural(len(fs.Lowers), "layer"))))
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// shortDigest cuts sha256:<hex> to 12 hex digits, as image tools do.
func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
