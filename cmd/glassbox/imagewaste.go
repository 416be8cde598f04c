package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"glassbox/inspect/union"
	"glassbox/ui/words"
)

// wasteOptions are the flags of `image waste`.
type wasteOptions struct {
	asJSON, excludeBase, ci bool
	lowestEfficiency        float64
	highestWasted           string
	top                     int

	maxWasted int64 // highestWasted parsed; -1: no limit
}

// check validates the flags before anything is read.
func (o *wasteOptions) check(cmd *cobra.Command) error {
	o.maxWasted = -1
	for _, name := range []string{"lowest-efficiency", "highest-wasted-bytes"} {
		if cmd.Flags().Changed(name) && !o.ci {
			return fmt.Errorf("--%s is a CI threshold: use it with --ci", name)
		}
	}
	if o.lowestEfficiency < 0 || o.lowestEfficiency > 1 {
		return fmt.Errorf("--lowest-efficiency %v: an efficiency is between 0 and 1 (0.9 = 90%%)", o.lowestEfficiency)
	}
	if o.highestWasted != "" {
		n, err := units.RAMInBytes(o.highestWasted)
		if err != nil || n < 0 {
			return fmt.Errorf("--highest-wasted-bytes %q: a size such as 20m, 20MiB or 20971520", o.highestWasted)
		}
		o.maxWasted = n
	}
	if o.top < 0 {
		return fmt.Errorf("--top %d: a count of files, 0 for all", o.top)
	}
	return nil
}

func (o *wasteOptions) thresholds(w *union.Waste) []words.Threshold {
	out := []words.Threshold{{
		Name: "lowest efficiency", Limit: fmt.Sprintf("%.4g", o.lowestEfficiency),
		Value: fmt.Sprintf("%.4f", w.Efficiency), Pass: w.Efficiency >= o.lowestEfficiency,
	}}
	if o.maxWasted >= 0 {
		out = append(out, words.Threshold{
			Name: "highest wasted bytes", Limit: words.Bytes(o.maxWasted),
			Value: words.Bytes(w.Wasted), Pass: w.Wasted <= o.maxWasted,
		})
	}
	return out
}

func newImageWasteCmd() *cobra.Command {
	var o wasteOptions
	cmd := &cobra.Command{
		Use:   "waste [OPTIONS] IMAGE",
		Short: "Count the bytes an image stores but does not need, and the files responsible",
		Long: `Count an image's wasted bytes, and list the files responsible:

  overwritten  copies of a file a later layer wrote again: of N copies only
               the top one is seen, so N−1 are waste (each layer keeps its own)
  deleted      files added, then removed by a later layer (a whiteout, an
               opaque directory): the layer that added them still holds them
  leftovers    files still in the image that only the build needed: apt
               package lists and caches, pip and npm caches, *.log in /var/log

The efficiency is the share of the image's bytes that is not waste.
--exclude-base leaves the layers of the image it was built FROM out of the
count: what is left is what the Dockerfile added.

With --ci, thresholds are checked (as dive's CI mode does) and the exit
status is 1 when one fails: --lowest-efficiency (default 0.9) and, when
given, --highest-wasted-bytes.`,
		Example: `  glassbox image waste app
  glassbox image waste --exclude-base --top 0 app
  glassbox image waste --ci --lowest-efficiency 0.95 --highest-wasted-bytes 20m app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			im, _, _, err := openImage(cmd, args[0])
			if err != nil {
				return err
			}
			w := im.Waste(o.excludeBase)
			var checks []words.Threshold
			if o.ci {
				checks = o.thresholds(w)
			}
			out := cmd.OutOrStdout()
			if o.asJSON {
				err = printWasteJSON(out, im, w, checks)
			} else {
				if err = words.WriteWaste(out, im, w, o.top); err == nil && checks != nil {
					words.WriteThresholds(out, checks)
				}
			}
			if err != nil {
				return err
			}
			for _, c := range checks {
				if !c.Pass {
					return exitError{1}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the figures and every file as JSON")
	cmd.Flags().BoolVar(&o.excludeBase, "exclude-base", false, "leave the base image's layers out of the count")
	cmd.Flags().BoolVar(&o.ci, "ci", false, "check the thresholds and exit 1 when one fails")
	cmd.Flags().Float64Var(&o.lowestEfficiency, "lowest-efficiency", 0.9, "with --ci: fail below this efficiency (0 to 1)")
	cmd.Flags().StringVar(&o.highestWasted, "highest-wasted-bytes", "", "with --ci: fail above this many wasted bytes (e.g. 20m)")
	cmd.Flags().IntVar(&o.top, "top", 20, "list at most this many files (0: all)")
	return cmd
}

func printWasteJSON(out io.Writer, im *union.Image, w *union.Waste, checks []words.Threshold) error {
	type item struct {
		union.WasteItem
		Copies []string `json:"copies"`
		By     string   `json:"by"`
	}
	doc := struct {
		Image  string `json:"image"`
		ID     string `json:"id"`
		Layers int    `json:"layers"`
		Size   int64  `json:"size"`
		Base   string `json:"base_image,omitempty"`
		*union.Waste
		Items  []item            `json:"items"`
		Checks []words.Threshold `json:"ci,omitempty"`
		Pass   *bool             `json:"pass,omitempty"`
	}{Image: im.Stack.Image, ID: im.Stack.ImageID, Layers: len(im.Stack.Layers), Size: sumStats(im),
		Base: im.Stack.BaseImage, Waste: w, Items: []item{}, Checks: checks}
	for _, it := range w.Items {
		x := item{WasteItem: it, By: union.Number(im.Stack, it.By), Copies: strings.Split(words.Numbers(im.Stack, it.Copies), ",")}
		doc.Items = append(doc.Items, x)
	}
	if checks != nil {
		pass := true
		for _, c := range checks {
			pass = pass && c.Pass
		}
		doc.Pass = &pass
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func sumStats(im *union.Image) int64 {
	var n int64
	for _, s := range im.Stats {
		n += s.Size
	}
	return n
}
