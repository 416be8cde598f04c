package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

func init() { verb("diff", newDiffCmd) }

func newDiffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff SANDBOX",
		Short: "List the files a sandbox added (A), changed (C) or deleted (D)",
		Long: `List what a sandbox changed in its root filesystem, read from its writable
(upper) layer: A for added, C for changed (or a directory something
changed in), D for deleted — a deletion is a whiteout in the upper layer,
or an opaque directory that hides what the image had in it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sb, err := state.NewStore(stateRoots(cmd)).Resolve(args[0])
			if err != nil {
				return err
			}
			changes, err := image.Diff(sb)
			if err != nil {
				return fmt.Errorf("diff %s: %w", args[0], err)
			}
			for _, c := range changes {
				fmt.Fprintln(cmd.OutOrStdout(), c)
			}
			return nil
		},
	}
}
