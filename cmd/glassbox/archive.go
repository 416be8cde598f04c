package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

func init() { verb("load", newLoadCmd); verb("save", newSaveCmd) }

func newLoadCmd() *cobra.Command {
	var input string
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a docker save archive or an OCI image layout",
		Long: `Load images from a tar archive (docker save's format, or an OCI image layout;
gzip'd or not) given with -i or on standard input, or from an OCI layout
directory given with -i. Each layer is unpacked into a directory of its
own, OCI whiteouts turned into overlayfs's. An image for another platform,
or an archive with an entry that leaves its layer or a device node, is
refused and leaves nothing behind.`,
		Example: `  glassbox load -i python.tar
  docker save python:3.11-slim | glassbox load`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			src := input
			if src == "" {
				if isTerminal(os.Stdin) {
					return errors.New("load: give an archive with -i FILE, or pipe one in")
				}
				src = "-"
			}
			store := image.NewStore(stateRoots(cmd))
			shown := false
			if isTerminal(os.Stderr) {
				store.Progress = func(layer, layers int, n int64) {
					fmt.Fprintf(os.Stderr, "\rLoading layer %d/%d: %s\x1b[K", layer, layers, words.Bytes(n))
					shown = true
				}
			}
			loaded, err := store.Load(src, os.Stdin)
			if shown {
				fmt.Fprint(os.Stderr, "\r\x1b[K")
			}
			if err != nil {
				return err
			}
			for _, l := range loaded {
				if len(l) > 7 && l[:7] == "sha256:" {
					fmt.Fprintf(cmd.OutOrStdout(), "Loaded image ID: %s\n", l)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "Loaded image: %s\n", l)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read from this file (or OCI layout directory) instead of standard input")
	return cmd
}

func newSaveCmd() *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save images to a tar archive (docker's format, or an OCI image layout)",
		Long: `Save images to a tar archive, to -o FILE or standard output (not a
terminal). --format docker (default) writes what docker load reads; oci an
OCI image layout. Layers are written as canonical tars (sorted entries,
fixed times, numeric owners), so saving an image twice gives the same
bytes, and the image keeps its ID through save and load.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "docker" && format != "oci" {
				return fmt.Errorf("invalid --format %q: docker or oci", format)
			}
			store := image.NewStore(stateRoots(cmd))
			for _, ref := range args { // every name is checked before a byte is written
				if _, err := store.Get(ref); err != nil {
					return err
				}
			}
			if output == "" {
				if isTerminal(os.Stdout) {
					return errors.New("save: refusing to write an archive to a terminal; use -o FILE or a redirect")
				}
				return store.Save(os.Stdout, args, format == "oci")
			}
			return writeOutput(output, func(w io.Writer) error { return store.Save(w, args, format == "oci") })
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&format, "format", "docker", "archive format: docker or oci")
	return cmd
}

func init() { verb("import", newImportCmd); verb("export", newExportCmd) }

func newImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|- [IMAGE[:TAG]]",
		Short: "Make a one-layer image of a root filesystem tarball",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			if args[0] == "-" && isTerminal(os.Stdin) {
				return errors.New("import: pipe a tarball in, or name a file")
			}
			im, err := image.NewStore(stateRoots(cmd)).Import(args[0], os.Stdin, ref)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), im.ID)
			return nil
		},
	}
}

func newExportCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] SANDBOX",
		Short: "Write a sandbox's merged root filesystem as a tar (running or stopped)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sb, err := state.NewStore(stateRoots(cmd)).Resolve(args[0])
			if err != nil {
				return err
			}
			dirs, err := image.SandboxLayers(sb)
			if err != nil {
				return err
			}
			if output == "" {
				if isTerminal(os.Stdout) {
					return errors.New("export: refusing to write a tar to a terminal; use -o FILE or a redirect")
				}
				return image.ExportMerged(os.Stdout, dirs)
			}
			return writeOutput(output, func(w io.Writer) error { return image.ExportMerged(w, dirs) })
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

// writeOutput writes a file of -o through a temporary name beside it, so a
// failure leaves no half-written archive.
func writeOutput(output string, write func(io.Writer) error) error {
	tmp := output + ".glassbox-tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, output)
}
