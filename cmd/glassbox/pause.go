package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { verb("pause", newPauseCmd); verb("unpause", newUnpauseCmd) }

func newPauseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pause NAME...",
		Short: "Freeze every process of sandboxes (cgroup freezer)",
		Long: `Freeze every process of each sandbox with its cgroup's freezer (freezer.state
on cgroup v1, cgroup.freeze on v2). The processes stay in memory but get no
CPU; their connections wait. glassbox unpause thaws them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				if err := e.Pause(name); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: paused\n", name)
				return nil
			})
		},
	}
}

func newUnpauseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "unpause NAME...",
		Short: "Thaw paused sandboxes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				if err := e.Unpause(name); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: unpaused\n", name)
				return nil
			})
		},
	}
}
