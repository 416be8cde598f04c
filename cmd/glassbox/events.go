package main

import (
	"github.com/spf13/cobra"

	"glassbox/sandbox/lifecycle"
)

func init() { verb("events", newEventsCmd) }

func newEventsCmd() *cobra.Command {
	opts := lifecycle.LogOptions{Notes: true, Timestamps: true}
	cmd := &cobra.Command{
		Use:   "events [-f] [--tail N] NAME",
		Short: "Print what happened to a detached sandbox: restarts, stops, pauses, health changes",
		Long: `Print a detached sandbox's events, each with its time: what its supervisor
did (a stop's SIGTERM and, after the grace period, SIGKILL; a pause; a
restart by the policy, and after which exit) and saw (the workload's end,
health changes). The workload's own output is glassbox logs NAME.`,
		Args: cobra.ExactArgs(1),
		RunE: readLog(&opts),
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new events until the sandbox exits (or Ctrl-C)")
	cmd.Flags().IntVar(&opts.Tail, "tail", -1, "print only the last N events")
	return cmd
}
