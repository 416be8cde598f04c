package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"glassbox/ui/words"
)

func init() { verbs = append(verbs, newPsCmd) }

func newPsCmd() *cobra.Command {
	var all, asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List sandboxes (running and paused ones; -a for all)",
		Long: `List sandboxes: name, id, image, status with health (starting, healthy,
unhealthy), uptime or how it exited (OOMKilled), published ports, limits and
restarts. Without -a only running and paused sandboxes are listed. -q prints
only ids, for scripts: glassbox rm -f $(glassbox ps -aq).

A sandbox whose supervisor has died is shown as it really is: exited, and
its resources removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if quiet && asJSON {
				return errors.New("ps: --quiet and --json exclude each other")
			}
			sbs, err := engineOf(cmd).List(all)
			if err != nil {
				return err
			}
			if quiet {
				for _, sb := range sbs {
					fmt.Fprintln(cmd.OutOrStdout(), sb.ID)
				}
				return nil
			}
			now := time.Now()
			rows := make([]words.Summary, 0, len(sbs))
			for _, sb := range sbs {
				rows = append(rows, words.Summarize(sb, now))
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return words.WriteTable(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also list created and exited sandboxes")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON, with each full record")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the ids, one per line")
	return cmd
}
