package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func init() { verb("stop", newStopCmd) }

func newStopCmd() *cobra.Command {
	var seconds float64
	cmd := &cobra.Command{
		Use:   "stop [-t SECONDS] NAME...",
		Short: "Stop sandboxes: SIGTERM, a grace period, then SIGKILL",
		Long: `Stop sandboxes the way a container engine does: send SIGTERM so the
workload can finish its in-flight work and exit, wait up to the grace
period (-t; default the run's --stop-timeout, else 10 seconds), then send
SIGKILL. It says which of the two ended the workload. A stopped sandbox is
not restarted by its restart policy; glassbox rm removes it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeout := time.Duration(-1)
			if cmd.Flags().Changed("time") {
				if seconds < 0 {
					return fmt.Errorf("-t %v: the grace period cannot be negative", seconds)
				}
				timeout = time.Duration(seconds * float64(time.Second))
			}
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				res, err := e.Stop(name, timeout)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), res.String())
				}
				return err
			})
		},
	}
	cmd.Flags().Float64VarP(&seconds, "time", "t", 0, "seconds to wait after SIGTERM before SIGKILL")
	return cmd
}

// forEach applies f to every named sandbox, reporting each failure and
// going on with the others; the verb fails if any did, as docker's do.
func forEach(cmd *cobra.Command, names []string, f func(name string) error) error {
	failed := 0
	for _, n := range names {
		err := readOnlyRef(cmd, n)
		if err == nil {
			err = f(n)
		}
		if err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "glassbox:", explain(cmd, err))
			failed++
		}
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}
