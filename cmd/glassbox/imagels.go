package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"glassbox/inspect/union"
	"glassbox/ui/words"
)

// imageSubcommands are added below `glassbox image` (see newImageCmd).
var imageSubcommands = []func() *cobra.Command{newImageLsCmd, newImageCatCmd, newImageWasteCmd, newImageExploreCmd}

// splitLayer splits IMAGE[@LAYER]. Image references cannot hold "@"
// (glassbox takes no digests), so the last one starts the layer.
func splitLayer(arg string) (ref, layer string) {
	if i := strings.LastIndexByte(arg, '@'); i >= 0 {
		return arg[:i], arg[i+1:]
	}
	return arg, ""
}

// pickLayer finds the layer sel names in the stack: its number (1 is the
// base-most layer, as `glassbox image ls` and the UI number them),
// "upper" for a sandbox's writable layer, or a prefix of its digest. ""
// is the top-most layer.
func pickLayer(st *union.Stack, name, sel string) (int, error) {
	n := len(st.Layers)
	if sel == "" {
		return n - 1, nil
	}
	if i, err := strconv.Atoi(strings.TrimPrefix(sel, "#")); err == nil {
		if i < 1 || i > n {
			return 0, fmt.Errorf("%s has %d layers: @%s is out of range (1–%d, 1 is the base)", name, n, sel, n)
		}
		return i - 1, nil
	}
	if sel == "upper" && st.Layers[n-1].Upper {
		return n - 1, nil
	}
	hexPart := strings.TrimPrefix(sel, "sha256:")
	if len(hexPart) >= 4 {
		found := -1
		for i, l := range st.Layers {
			if strings.HasPrefix(strings.TrimPrefix(l.Digest, "sha256:"), hexPart) {
				if found >= 0 && st.Layers[found].Digest != l.Digest {
					return 0, fmt.Errorf("%s: layer %s is ambiguous: give more of the digest", name, sel)
				}
				found = i
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	return 0, fmt.Errorf("%s has no layer %q: name one by number (1–%d), or by a digest prefix of at least 4 digits (glassbox history %s lists them)", name, sel, n, st.Image)
}

// openImage reads IMAGE[@LAYER] for the headless verbs.
func openImage(cmd *cobra.Command, arg string) (*union.Image, int, string, error) {
	ref, sel := splitLayer(arg)
	if ref == "" {
		return nil, 0, "", errors.New("name an image: IMAGE[@LAYER]")
	}
	st, err := newStacks(stateRoots(cmd)).Image(ref)
	if err != nil {
		return nil, 0, "", err
	}
	layer, err := pickLayer(st, ref, sel)
	if err != nil {
		return nil, 0, "", err
	}
	im, err := union.Read(st)
	if err != nil {
		return nil, 0, "", err
	}
	warnUnread(cmd.ErrOrStderr(), im)
	label := ref
	if sel != "" {
		label += "@" + strings.TrimPrefix(union.Number(st, layer), "#")
	}
	return im, layer, label, nil
}

// warnUnread says what a reader without root could not see.
func warnUnread(w io.Writer, im *union.Image) {
	for i, s := range im.Stats {
		if len(s.Unreadable) > 0 {
			fmt.Fprintf(w, "glassbox: layer %s: not readable without root, left out: %s\n", union.Number(im.Stack, i), strings.Join(s.Unreadable, " "))
		}
		if s.OpaqueUnknown {
			fmt.Fprintf(w, "glassbox: layer %s: its record does not list its opaque directories and only root can see them: a directory it empties may show its old content\n", union.Number(im.Stack, i))
		}
	}
}

func newImageLsCmd() *cobra.Command {
	var asJSON, changes bool
	cmd := &cobra.Command{
		Use:   "ls [OPTIONS] IMAGE[@LAYER] [PATH]",
		Short: "List an image's files, as the layers up to one merge them, or what one layer changed",
		Long: `List the files of an image as a container started from it sees them: the
layers merged the way overlayfs merges them, top-most layer winning, each
path with the layer that provides it. @LAYER stops at that layer (1 is the
base; also a digest prefix); PATH lists only that path and what is below it.

With --changes, list what LAYER itself changed, marked as docker diff does:
A added, C changed, D deleted — with the whiteout or opaque directory that
deleted it. Directories show the bytes below them.`,
		Example: `  glassbox image ls busybox
  glassbox image ls app@2 /etc
  glassbox image ls --changes app@3
  glassbox image ls --json app /app/calculator`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, layer, label, err := openImage(cmd, args[0])
			if err != nil {
				return err
			}
			var root *union.Item
			if changes {
				root = im.Changes(layer)
			} else {
				root = im.Merged(layer)
			}
			if len(args) == 2 {
				if root, err = subtree(im, root, args[1], layer, label, changes); err != nil {
					return err
				}
			}
			rows := words.Files(im, root, changes)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return words.WriteFiles(cmd.OutOrStdout(), im.Stack, rows, changes)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON, with the lower copies each path shadows")
	cmd.Flags().BoolVar(&changes, "changes", false, "list what LAYER changed (A/C/D), not the merged tree")
	return cmd
}

// subtree finds PATH in a view, or says why it is not there. A merged
// view lists what a container sees: a removed path is not there.
func subtree(im *union.Image, root *union.Item, p string, layer int, label string, changes bool) (*union.Item, error) {
	p = "/" + strings.Trim(p, "/")
	it := root
	for _, name := range strings.Split(strings.Trim(p, "/"), "/") {
		if name == "" {
			break
		}
		var next *union.Item
		for _, k := range it.Kids {
			if k.Node.Name == name {
				next = k
				break
			}
		}
		if next == nil {
			pr, err := im.Which(p, layer)
			switch {
			case err != nil:
				return nil, fmt.Errorf("%s has no %s: %w", label, p, unwrapPath(err))
			case pr.Removed != nil:
				return nil, fmt.Errorf("%s has no %s: %w in layer %s (%s)", label, p, union.ErrRemoved, union.Number(im.Stack, pr.Removed.Layer), pr.Removed.Describe())
			}
			return nil, fmt.Errorf("%s: %s did not change in this layer", label, p)
		}
		it = next
		if it.Mark == union.Removed && !changes {
			rm := it.Removal
			return nil, fmt.Errorf("%s has no %s: %w in layer %s (%s)", label, p, union.ErrRemoved, union.Number(im.Stack, rm.Layer), rm.Describe())
		}
	}
	return it, nil
}

// unwrapPath drops the path an inner error repeats.
func unwrapPath(err error) error {
	if _, rest, ok := strings.Cut(err.Error(), ": "); ok {
		return errors.New(rest)
	}
	return err
}
