package words

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/tabwriter"

	"glassbox/inspect/union"
)

// The layer explorer's words: `glassbox image ls/cat/waste` and the UI's
// Image view say files, removals and waste the same way.

// Mode is an entry's type and permissions as ls -l writes them:
// "drwxr-xr-x", "lrwxrwxrwx", "-rwsr-xr-x", "c---------" for a whiteout.
func Mode(e *union.Entry) string {
	b := []byte("----------")
	switch {
	case e.Kind == union.Dir:
		b[0] = 'd'
	case e.Kind == union.Symlink:
		b[0] = 'l'
	case e.Mode&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case e.Mode&fs.ModeDevice != 0:
		b[0] = 'b'
	case e.Mode&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case e.Mode&fs.ModeSocket != 0:
		b[0] = 's'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if e.Mode&(1<<(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := func(bit fs.FileMode, at int, set, unset byte) {
		if e.Mode&bit != 0 {
			if b[at] == '-' {
				b[at] = unset
			} else {
				b[at] = set
			}
		}
	}
	special(fs.ModeSetuid, 3, 's', 'S')
	special(fs.ModeSetgid, 6, 's', 'S')
	special(fs.ModeSticky, 9, 't', 'T')
	return string(b)
}

// Removal says what removed a path and where: "whiteout /etc/hosts in #2".
func Removal(st *union.Stack, r *union.Removal) string {
	if r == nil {
		return ""
	}
	return r.Describe() + " in " + union.Number(st, r.Layer)
}

// RemovedBy is the kind of a removal as JSON spells it.
func RemovedBy(r *union.Removal) string {
	return map[union.How]string{union.ByWhiteout: "whiteout", union.ByOpaque: "opaque directory", union.ByReplaced: "replaced"}[r.How]
}

// Change is a layer's change to a path as docker diff marks it: A, C, D.
func Change(m union.Mark) string {
	return map[union.Mark]string{union.Added: "A", union.Modified: "C", union.Removed: "D"}[m]
}

// Efficiency is a share as a percentage: "93.2%".
func Efficiency(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// Numbers lists layers by their numbers: "#1,#3".
func Numbers(st *union.Stack, layers []int) string {
	var out []string
	for _, l := range layers {
		out = append(out, union.Number(st, l))
	}
	return strings.Join(out, ",")
}

// FileRow is one entry of `glassbox image ls`, and its JSON form.
type FileRow struct {
	Path    string      `json:"path"`
	Type    string      `json:"type"`
	Mode    string      `json:"mode"`
	Size    int64       `json:"size"` // a directory's: the bytes below it
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
	Link    string      `json:"link,omitempty"`
	Layer   string      `json:"layer"` // "#2", "upper"
	Digest  string      `json:"layer_digest,omitempty"`
	Change  string      `json:"change,omitempty"` // A, C, D in a layer's changes
	Removed *RemovalRow `json:"removed_by,omitempty"`
	Shadows []ShadowRow `json:"shadows,omitempty"`
	Opaque  bool        `json:"opaque,omitempty"`
	removal *union.Removal
}

// RemovalRow is what removed a path, in JSON.
type RemovalRow struct {
	Layer string `json:"layer"`
	Path  string `json:"path"`
	By    string `json:"by"` // "whiteout", "opaque directory", "replaced"
}

// ShadowRow is a lower copy of a path, in JSON.
type ShadowRow struct {
	Layer string `json:"layer"`
	Type  string `json:"type"`
	Size  int64  `json:"size"`
}

// Files lists a view of an image depth first. A merged view lists what a
// container sees (removed paths are left out); a layer's changes list its
// deletions too.
func Files(im *union.Image, root *union.Item, changes bool) []FileRow {
	rows := []FileRow{}
	var walk func(*union.Item)
	walk = func(it *union.Item) {
		e := it.Entry
		r := FileRow{
			Path: it.Path(), Type: e.Kind.String(), Mode: Mode(e), Size: it.Size,
			UID: e.UID, GID: e.GID, Link: e.Link, Layer: union.Number(im.Stack, it.Layer),
			Digest: im.Stack.Layers[it.Layer].Digest, Opaque: e.Opaque, removal: it.Removal,
		}
		if changes {
			r.Change = Change(it.Mark)
		}
		if rm := it.Removal; rm != nil {
			r.Removed = &RemovalRow{Layer: union.Number(im.Stack, rm.Layer), Path: rm.Path, By: RemovedBy(rm)}
		}
		if it.Mark != union.Removed && e.Kind != union.Dir {
			if pr, err := im.Which(r.Path, im.Top()); err == nil && pr.Layer == it.Layer {
				for _, s := range pr.Shadows {
					r.Shadows = append(r.Shadows, ShadowRow{Layer: union.Number(im.Stack, s.Layer), Type: s.Kind.String(), Size: s.Size})
				}
			}
		}
		if changes || it.Mark != union.Removed {
			rows = append(rows, r)
		}
		if it.Mark == union.Removed {
			return
		}
		for _, k := range it.Kids {
			walk(k)
		}
	}
	walk(root)
	return rows
}

// WriteFiles prints rows as `image ls` does: one line per path, ls -l
// style, with the layer that provides it.
func WriteFiles(w io.Writer, st *union.Stack, rows []FileRow, changes bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "MODE\tUID:GID\tSIZE\tLAYER\t  PATH"
	if changes {
		head = "\t" + head
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		name := "  " + r.Path
		if r.Link != "" {
			name += " -> " + r.Link
		}
		if r.removal != nil {
			name += "  (" + Removal(st, r.removal) + ")"
		}
		line := fmt.Sprintf("%s\t%d:%d\t%d\t%s\t%s", r.Mode, r.UID, r.GID, r.Size, r.Layer, name)
		if changes {
			line = r.Change + "\t" + line
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// WasteKinds explains each kind of waste in a few words.
var WasteKinds = [...]string{
	union.Overwritten: "copies a later layer wrote again (N−1 of N copies)",
	union.Deleted:     "added, then removed by a later layer",
	union.Leftover:    "package lists and caches, logs",
}

// WasteWhy is what made one item waste: its leftover rule or its removal.
func WasteWhy(st *union.Stack, it union.WasteItem) string {
	switch {
	case it.Rule != "":
		return it.Rule
	case it.Removal != nil:
		return it.Removal.Describe()
	}
	return ""
}

// BaseNote says whether the base image's layers were counted.
func BaseNote(st *union.Stack, w *union.Waste) string {
	base := "base image"
	if st.BaseImage != "" {
		base += " " + st.BaseImage
	}
	n := 0
	for _, l := range st.Layers {
		if l.Base {
			n++
		}
	}
	switch {
	case w.ExcludeBase && w.BaseLayers > 0:
		return fmt.Sprintf("%s left out (%d %s)", base, w.BaseLayers, plural(w.BaseLayers, "layer"))
	case w.ExcludeBase:
		return "no base image known: every layer counted"
	case n > 0:
		return fmt.Sprintf("%s counted (%d %s)", base, n, plural(n, "layer"))
	}
	return ""
}

// WriteWaste prints an image's waste as `image waste` does: the figures,
// then the top files responsible (top 0: all).
func WriteWaste(w io.Writer, im *union.Image, ws *union.Waste, top int) error {
	st := im.Stack
	var size int64
	for _, s := range im.Stats {
		size += s.Size
	}
	fmt.Fprintf(w, "image %s: %d %s, %s\n", st.Image, len(st.Layers), plural(len(st.Layers), "layer"), Bytes(size))
	fmt.Fprintf(w, "efficiency %s: %s wasted of %s counted\n", Efficiency(ws.Efficiency), Bytes(ws.Wasted), Bytes(ws.Total))
	for _, k := range []struct {
		name  string
		bytes int64
		kind  union.WasteKind
	}{{"overwritten", ws.Overwritten, union.Overwritten}, {"deleted", ws.Deleted, union.Deleted}, {"leftovers", ws.Leftovers, union.Leftover}} {
		fmt.Fprintf(w, "  %-11s %-10s %s\n", k.name, Bytes(k.bytes), WasteKinds[k.kind])
	}
	if note := BaseNote(st, ws); note != "" {
		if !ws.ExcludeBase {
			note += "; --exclude-base leaves it out"
		}
		fmt.Fprintln(w, note)
	}
	if len(ws.Items) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WASTED\tKIND\tCOPIES IN\tBY\tPATH")
	for i, it := range ws.Items {
		if top > 0 && i == top {
			fmt.Fprintf(tw, "…\t%d more\t\t\t(--top 0 lists all)\n", len(ws.Items)-top)
			break
		}
		what := it.Path
		if why := WasteWhy(st, it); why != "" {
			what += "  (" + why + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", Bytes(it.Bytes), it.Kind, Numbers(st, it.Copies), union.Number(st, it.By), what)
	}
	return tw.Flush()
}

// Threshold is one check of `image waste --ci` and its outcome.
type Threshold struct {
	Name  string `json:"name"`
	Limit string `json:"limit"`
	Value string `json:"value"`
	Pass  bool   `json:"pass"`
}

// WriteThresholds prints the checks and the result, as dive's CI mode.
func WriteThresholds(w io.Writer, checks []Threshold) {
	fmt.Fprintln(w)
	result := "PASS"
	for _, c := range checks {
		mark, cmp := "PASS", "within"
		if !c.Pass {
			mark, cmp, result = "FAIL", "beyond", "FAIL"
		}
		fmt.Fprintf(w, "  [%s] %s: %s, %s the limit %s\n", mark, c.Name, c.Value, cmp, c.Limit)
	}
	fmt.Fprintf(w, "Result: %s\n", result)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
