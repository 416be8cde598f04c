package lesson

import (
	"fmt"
	"strings"

	"glassbox/inspect"
	"glassbox/ui/words"
)

// Checks of the union filesystem: the layer stack, a file written, layers
// shared, a whiteout, a copy-up, and a writable layer gone with its sandbox.

func init() {
	register("layers", Check{Args: 1, About: "the sandbox's root is an overlay: read-only image layers under one writable layer",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			fs := b.Snap.Filesystem
			if fs.RootType != "overlay" || len(fs.Lowers) == 0 || fs.Upper.Dir == "" {
				return waiting("%s: reading its root mount", b.Name)
			}
			var made []string
			for _, l := range fs.Lowers {
				made = append(made, fmt.Sprintf("%s (%s)", words.Bytes(l.SizeBytes), firstWords(l.CreatedBy, 4)))
			}
			return done("%d read-only layer(s) below — %s — and on top the writable layer %s, %d change(s) so far",
				len(fs.Lowers), strings.Join(made, ", "), fs.Upper.Dir, fs.Upper.ChangedFiles)
		}})
	register("upper-file", Check{Args: 2, About: "a file the sandbox wrote is in its writable (upper) layer",
		Test: func(c *Ctx) Verdict {
			p := c.Args[1]
			b, up, low, v := c.upperFile(c.Args[0], p)
			if v != nil {
				return *v
			}
			if !up.Exists || up.Kind != "file" {
				return waiting("%s is not in %s's writable layer yet", p, b.Name)
			}
			below := "no image layer has it"
			if low.Exists {
				below = "the image's layers still hold the old one"
			}
			return done("%s (%s) is in the upper layer, %s; %s", p, words.Bytes(up.Size), up.HostPath, below)
		}})
	register("shared", Check{Args: 2, About: "two sandboxes stack the same image layers, each with a writable layer of its own",
		Test: func(c *Ctx) Verdict {
			a, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			b, v := c.running(c.Args[1])
			if v != nil {
				return *v
			}
			la, lb := a.Snap.Filesystem.Lowers, b.Snap.Filesystem.Lowers
			if len(la) == 0 || len(lb) == 0 {
				return waiting("reading the layers")
			}
			// The screen's snapshots may be a refresh behind: one taken
			// before the other sandbox started counts it out. The fact
			// waits until both say the layer is shared.
			shared, common := 0, inspect.Lower{}
			for _, x := range la {
				for _, y := range lb {
					if x.Dir == y.Dir {
						if shared == 0 {
							common = x
							if y.SharedBy < x.SharedBy {
								common = y
							}
						}
						shared++
					}
				}
			}
			if shared == 0 {
				return failed("%s and %s share no layer: were they started from the same image?", a.Name, b.Name)
			}
			if common.SharedBy < 2 {
				return waiting("%s and %s stack the same layers: counting who uses them", a.Name, b.Name)
			}
			return done("%d layer(s) shared, on disk once (%s is %s); the upper layers differ: %s vs %s",
				shared, common.Dir, words.SharedBy(common.SharedBy, common.SharedWith), a.Snap.Filesystem.Upper.Dir, b.Snap.Filesystem.Upper.Dir)
		}})
	register("whiteout", Check{Args: 2, About: "a deleted file is a whiteout in the upper layer; the image layer keeps the file",
		Test: func(c *Ctx) Verdict {
			p := c.Args[1]
			b, up, low, v := c.upperFile(c.Args[0], p)
			if v != nil {
				return *v
			}
			if !up.Exists || up.Kind != "whiteout" {
				return waiting("%s is not deleted in %s yet", p, b.Name)
			}
			if !low.Exists {
				return failed("%s was never in the image's layers: nothing to hide", p)
			}
			return done("%s in the upper layer is a whiteout (a 0/0 character device); the image layer still has its %s: it is hidden, not deleted",
				up.HostPath, words.Bytes(low.Size))
		}})
	register("copied-up", Check{Args: 1, About: "writing to a file of the image made overlayfs copy all of it up first",
		Begin: func(c *Ctx) error {
			b, v := c.box(c.Args[0])
			if v != nil {
				return nil
			}
			ups, err := c.World.CopiedUp(b.ID)
			for _, u := range ups {
				c.Notes[u.Path] = "before"
			}
			return err
		},
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			ups, err := c.World.CopiedUp(b.ID)
			if err != nil {
				return waiting("%v", err)
			}
			for _, u := range ups {
				if c.Notes[u.Path] == "" {
					return done("to change %s, overlayfs first copied all %s of it into the upper layer (now %s): a copy-up",
						u.Path, words.Bytes(u.LowerSize), words.Bytes(u.Size))
				}
			}
			return waiting("no file of the image has been copied up in %s yet", b.Name)
		}})
	register("removed", Check{Args: 1, About: "the sandbox is gone, its writable layer with it",
		Begin: func(c *Ctx) error {
			sb, err := c.record(c.Args[0])
			if sb != nil {
				c.Notes["id"], c.Notes["upper"] = sb.ID, sb.UpperDir
			}
			return err
		},
		Test: func(c *Ctx) Verdict {
			sb, err := c.record(c.Args[0])
			if err != nil {
				return waiting("%v", err)
			}
			if sb != nil {
				return waiting("%s is still there (%s)", c.Args[0], sb.Status)
			}
			up := c.Notes["upper"]
			if up != "" && c.World.Exists(up) {
				return waiting("%s is gone; its writable layer %s is being removed", c.Args[0], up)
			}
			return done("%s is gone: its record, cgroup, mounts and writable layer %s — and every file written in it", c.Args[0], orWord(up, "(unknown)"))
		}})
	register("fresh", Check{Args: 2, About: "a new sandbox of the same image does not have the file the old one wrote",
		Test: func(c *Ctx) Verdict {
			p := c.Args[1]
			b, up, low, v := c.upperFile(c.Args[0], p)
			if v != nil {
				return *v
			}
			if up.Exists || low.Exists {
				return failed("%s has %s: it was written again, or the image has it", b.Name, p)
			}
			return done("%s starts from the image's layers and an empty writable layer: no %s. A container's filesystem is ephemeral", b.Name, p)
		}})
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		return strings.Join(f[:n], " ") + "…"
	}
	if len(f) == 0 {
		return "?"
	}
	return strings.Join(f, " ")
}

func orWord(s, w string) string {
	if s == "" {
		return w
	}
	return s
}
