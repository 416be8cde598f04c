package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { verb("rm", newRmCmd) }

func newRmCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [-f] NAME...",
		Short: "Remove sandboxes: record, log and every resource",
		Long: `Remove each sandbox: its state, its log, its cgroup, mounts, writable layer,
veth and address. A running or paused sandbox is refused unless -f is
given, which kills it first (SIGKILL, no grace period).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				if err := e.Remove(name, force); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running sandbox and remove it")
	return cmd
}
