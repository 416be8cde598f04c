package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"glassbox/sandbox/image"
	"glassbox/ui/words"
)

func init() {
	verb("images", newImagesCmd)
	verb("history", newHistoryCmd)
	verb("tag", newTagCmd)
	verb("rmi", newRmiCmd)
	verb("image", newImageCmd)
}

// imageRow is one line of `images`, and its JSON form.
type imageRow struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	ID         string `json:"id"`
	Created    string `json:"created"`
	Size       int64  `json:"size"`
	Shared     int64  `json:"shared_size"`
	Unique     int64  `json:"unique_size"`
	Layers     int    `json:"layers"`
}

func newImagesCmd() *cobra.Command {
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "images [OPTIONS]",
		Short: "List images, with the bytes each shares with others and its own",
		Long: `List the images in the store. SIZE is the content of all an image's layers;
SHARED is the part in layers other images use too — stored once on disk,
the same directories for all of them — and UNIQUE the part only it has.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			store := image.NewStore(stateRoots(cmd))
			list, missing, err := store.List()
			if err != nil {
				return err
			}
			for _, m := range missing {
				fmt.Fprintln(os.Stderr, "glassbox:", m)
			}
			shares := image.Shares(list)
			var rows []imageRow
			for _, im := range list {
				refs := im.Tags
				if len(refs) == 0 {
					refs = []string{"<none>:<none>"}
				}
				for _, ref := range refs {
					i := strings.LastIndexByte(ref, ':')
					sh := shares[im.ID]
					rows = append(rows, imageRow{
						Repository: ref[:i], Tag: ref[i+1:], ID: im.ID,
						Created: im.Created.UTC().Format(time.RFC3339), Size: im.Size(),
						Shared: sh.Shared, Unique: sh.Unique, Layers: len(im.Layers),
					})
				}
			}
			w := cmd.OutOrStdout()
			switch {
			case asJSON:
				if rows == nil {
					rows = []imageRow{}
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			case quiet:
				seen := map[string]bool{}
				for _, r := range rows {
					if !seen[r.ID] {
						seen[r.ID] = true
						fmt.Fprintln(w, image.ShortID(r.ID))
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED\tUNIQUE")
			for i, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Repository, r.Tag, image.ShortID(r.ID),
					units.HumanDuration(time.Since(list[imageIndex(list, r.ID, i)].Created))+" ago",
					words.Bytes(r.Size), words.Bytes(r.Shared), words.Bytes(r.Unique))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print image IDs only")
	return cmd
}

func imageIndex(list []*image.Image, id string, _ int) int {
	for i, im := range list {
		if im.ID == id {
			return i
		}
	}
	return 0
}

func newHistoryCmd() *cobra.Command {
	var noTrunc, asJSON bool
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show how an image was made, step by step",
		Long: `Show the steps that made an image, newest first: the layer each made (or
<missing> for steps that made none), when, the instruction, and the size
it added. RUN, COPY and ADD make layers; WORKDIR, ENV, EXPOSE, LABEL, USER,
HEALTHCHECK, CMD and ENTRYPOINT change only the image's configuration and
add 0 B. COMMENT says, for steps glassbox built, whether the cache
answered them and if not, why not.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, err := image.NewStore(stateRoots(cmd)).Get(args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(im.History)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
			for i := len(im.History) - 1; i >= 0; i-- {
				h := im.History[i]
				id := "<missing>"
				if h.Layer != "" {
					id = image.ShortID(h.Layer)
				}
				by := h.CreatedBy
				if !noTrunc && len([]rune(by)) > 45 {
					by = string([]rune(by)[:44]) + "…"
				}
				comment := h.Comment
				if b := h.Build; b != nil {
					if b.Cached {
						comment = "cache hit"
					} else {
						comment = "built: " + b.Why
					}
					if !noTrunc && len([]rune(comment)) > 50 {
						comment = string([]rune(comment)[:49]) + "…"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", id, units.HumanDuration(time.Since(h.Created))+" ago", by,
					words.Bytes(h.Size), comment)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not shorten the output")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the history as JSON (with each step's cache key)")
	return cmd
}

func newTagCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Give an image another name",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return image.NewStore(stateRoots(cmd)).Tag(args[0], args[1])
		},
	}
}

func newRmiCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove images, and the layers nothing else uses",
		Long: `Remove images. NAME[:TAG] removes that tag, and the image with its last
tag; an ID removes the image. An image a sandbox uses is refused unless
-f; with -f it is removed, but the layers the sandbox runs on stay until
the sandbox is removed. Layers no other image or sandbox uses are
deleted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store := image.NewStore(stateRoots(cmd))
			var failed error
			for _, ref := range args {
				r, err := store.Remove(ref, force)
				if err != nil {
					fmt.Fprintln(os.Stderr, "glassbox:", err)
					failed = exitError{1}
					continue
				}
				for _, t := range r.Untagged {
					fmt.Fprintf(cmd.OutOrStdout(), "Untagged: %s\n", t)
				}
				for _, d := range r.Deleted {
					fmt.Fprintf(cmd.OutOrStdout(), "Deleted: %s\n", d)
				}
			}
			return failed
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove even an image a sandbox uses, or one with several tags")
	return cmd
}

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images"}
	var all, force bool
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove images without a tag (with -a, all that no sandbox uses) and unused layers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				what := "all dangling images (no tag)"
				if all {
					what = "all images no sandbox uses"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "WARNING! This will remove %s and the layers nothing uses.\nAre you sure you want to continue? [y/N] ", what)
				line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return nil
				}
			}
			deleted, freed, err := image.NewStore(stateRoots(cmd)).Prune(all)
			for _, d := range deleted {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted: %s\n", d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Total reclaimed space: %s\n", words.Bytes(freed))
			return err
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "remove all images no sandbox uses, not only untagged ones")
	prune.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	cmd.AddCommand(prune)
	for _, sub := range imageSubcommands {
		cmd.AddCommand(sub())
	}
	return cmd
}
