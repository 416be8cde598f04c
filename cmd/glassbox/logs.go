package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"glassbox/sandbox/lifecycle"
)

func init() { verb("logs", newLogsCmd) }

func newLogsCmd() *cobra.Command {
	var opts lifecycle.LogOptions
	cmd := &cobra.Command{
		Use:   "logs [-f] [--tail N] [-t] NAME",
		Short: "Print the output of a detached sandbox",
		Long: `Print what a detached sandbox's workload wrote to stdout and stderr, as
its supervisor logged it. What the supervisor itself did and saw (restarts,
stops, pauses, health changes) is the sandbox's events: glassbox events NAME.`,
		Args: cobra.ExactArgs(1),
		RunE: readLog(&opts),
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new lines until the sandbox exits (or Ctrl-C)")
	cmd.Flags().IntVar(&opts.Tail, "tail", -1, "print only the last N lines")
	cmd.Flags().BoolVarP(&opts.Timestamps, "timestamps", "t", false, "prefix each line with the time it was written")
	return cmd
}

// readLog prints a sandbox's log as opts say (logs and events), until the
// sandbox ends for good or Ctrl-C with --follow.
func readLog(opts *lifecycle.LogOptions) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return engineOf(cmd).Logs(ctx, args[0], *opts, cmd.OutOrStdout())
	}
}
