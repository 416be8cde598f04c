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
	if fs.RootType != "overlay" {
		return renderPlainRoot(st, b, w)
	}
	foreign := b.record().Engine != ""
	var out []string
	up := fs.Upper
	out = append(out, st.Accent.Render("▓▓ rw ")+fmt.Sprintf("upper  %s, %d changed", words.Bytes(up.SizeBytes), up.ChangedFiles)+st.Dim.Render("  only this sandbox"))
	if up.Dir != "" {
		out = append(out, st.Dim.Render("   "+cutLeft(up.Dir, w-3)))
	}
	for i, l := range fs.Lowers {
		what := l.CreatedBy
		if what == "" {
			what = filepath.Base(l.Dir)
			if l.Resolved != "" { // docker's l/ link: name the layer's own directory
				what = filepath.Base(filepath.Dir(l.Resolved))
			}
		}
		shared := words.SharedBy(l.SharedBy, l.SharedWith)
		if foreign { // glassbox counts only its own sandboxes' layers
			shared = "layer " + orNone(shortDigest(l.Digest))
		}
		size := words.Bytes(l.SizeBytes)
		left := "░░ ro " + words.LayerNumber(i, len(fs.Lowers)) + " "
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

// renderPlainRoot is a root that is no overlay: a runtime given a plain
// directory (a runc bundle's rootfs) bind-mounts it and pivots into it, so
// mountinfo shows the filesystem it lives on and the directory of it.
func renderPlainRoot(st *Styles, b *box, w int) []string {
	fs := b.snap.Filesystem
	out := []string{st.Accent.Render("▓▓ / ") + fmt.Sprintf("%s %s, no layers", orNone(fs.RootType), fs.RootSource)}
	if fs.RootDir != "" && fs.RootDir != "/" {
		dir := fs.RootDir
		if fs.RootHostDir != "" {
			dir = fs.RootHostDir // where a person finds it on the host
		}
		out = append(out, "   directory "+cutLeft(dir, w-13), st.Dim.Render("   bind-mounted as the root"))
	}
	if c := b.snap.Container; c != nil && c.Bundle != "" {
		out = append(out, st.Dim.Render("   bundle "+cutLeft(c.Bundle, w-10)))
	}
	for _, m := range fs.Mounts {
		if m.MountPoint == "/" && m.ReadOnly {
			out = append(out, st.Dim.Render("   mounted read-only"))
			break
		}
	}
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
