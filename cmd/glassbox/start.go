package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { verb("start", newStartCmd) }

func newStartCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "start NAME...",
		Short: "Start stopped sandboxes again, with what they wrote",
		Long: `Start each exited sandbox again, as docker start does: the same id, name and
configuration, a fresh cgroup, the same published ports, and its writable
layer as it was — what the workload wrote before is still there (glassbox rm
removes it). A sandbox that runs already is left as it is. Prints each name.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				sb, err := e.Start(name)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), sb.Name)
				return nil
			})
		},
	}
}
