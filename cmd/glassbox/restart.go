package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { verb("restart", newRestartCmd) }

func newRestartCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restart NAME...",
		Short: "Stop sandboxes (if running) and start them again",
		Long: `Stop each sandbox as glassbox stop does (with its --stop-timeout), then start
it again with the same id, name and configuration: the same writable layer
(what the workload wrote is still there), a fresh cgroup, the same published
ports.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				sb, err := e.Restart(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: restarted (%s)\n", sb.Name, sb.Status)
				return nil
			})
		},
	}
}
