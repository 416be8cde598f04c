package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"glassbox/sandbox/lifecycle"
)

func init() { verb("kill", newKillCmd) }

func newKillCmd() *cobra.Command {
	var sigName string
	cmd := &cobra.Command{
		Use:   "kill [-s SIGNAL] NAME...",
		Short: "Send a signal to sandboxes (default SIGKILL)",
		Long: `Send a signal to each sandbox's PID 1: a name (KILL, SIGTERM, hup) or a
number (9). KILL, TERM, INT and QUIT count as a stop: the restart policy
does not bring the sandbox back.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := lifecycle.ParseSignal(sigName)
			if err != nil {
				return err
			}
			e := engineOf(cmd)
			return forEach(cmd, args, func(name string) error {
				if err := e.Kill(name, sig); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: sent %s\n", name, lifecycle.SignalName(sig))
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&sigName, "signal", "s", "KILL", "signal to send, by name or number")
	return cmd
}
