package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { verb("prune", newPruneCmd) }

func newPruneCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Remove exited sandboxes and whatever a crash left behind",
		Long: `Remove every exited sandbox, and what a crash of glassbox may have left:
sandboxes whose supervisor died (their workload is killed first), state
directories and writable layers without a record, address leases and gb-*
links of sandboxes that are gone, and empty cgroups below glassbox/ that no
sandbox owns.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			removed, err := engineOf(cmd).Prune()
			for _, r := range removed {
				fmt.Fprintln(cmd.OutOrStdout(), "removed", r)
			}
			if len(removed) == 0 && err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to prune")
			}
			return err
		},
	}
}
