package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"glassbox/inspect/union"
	"glassbox/ui/words"
)

func newImageCatCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "cat [OPTIONS] IMAGE[@LAYER] PATH",
		Short: "Print a file of an image, as the layers up to one merge them",
		Long: `Print the file at PATH as a container started from the image would read it
(symlinks followed inside the image), from the layer that provides it.
@LAYER reads it as it was at that layer. A binary file is refused unless
--force: its type and size are given instead.`,
		Example: `  glassbox image cat busybox /etc/passwd
  glassbox image cat app@1 /etc/hosts
  glassbox image cat --force app /app/calculator > calculator`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, layer, label, err := openImage(cmd, args[0])
			if err != nil {
				return err
			}
			f, err := im.Open(args[1], layer)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			defer f.Close()
			head := make([]byte, 8192)
			n, err := io.ReadFull(f, head)
			if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
				return fmt.Errorf("read %s: %w", args[1], err)
			}
			head = head[:n]
			if binary, what := union.Sniff(f.File, head); binary && !force {
				return fmt.Errorf("%s is binary (%s, %s): glassbox image cat --force writes it anyway",
					args[1], what, words.Bytes(f.Entry.Size))
			}
			w := cmd.OutOrStdout()
			if _, err := w.Write(head); err != nil {
				return err
			}
			_, err = io.Copy(w, f)
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "write a binary file too")
	return cmd
}
