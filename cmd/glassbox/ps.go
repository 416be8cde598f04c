package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"glassbox/inspect"
	"glassbox/inspect/engines"
	"glassbox/ui/words"
)

func init() { verb("ps", newPsCmd) }

func newPsCmd() *cobra.Command {
	var all, asJSON, quiet, withEngines, noTrunc bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List sandboxes (running and paused ones; -a for all)",
		Long: `List sandboxes: name, id, image, status with health (starting, healthy,
unhealthy), uptime or how it exited (OOMKilled), published ports, limits and
restarts. Without -a only running and paused sandboxes are listed. -q prints
only ids, for scripts: glassbox rm -f $(glassbox ps -aq).

--engines also lists the containers of the other engines on this machine —
docker and podman (their API sockets), containerd and Kubernetes (its shims'
bundles; pods by namespace/pod/container), plain runc and crun (their state
directories) — with an ENGINE column. They are named as glassbox inspect and
top take them: docker:NAME, podman:NAME, k8s:NAMESPACE/POD/CONTAINER,
containerd:NAMESPACE/ID, runc:ID. glassbox only reads them: no verb of
glassbox stops, removes or changes another engine's container. An engine
that is not installed or not running is left out without a word; one that
is there but cannot be read is named on stderr with the reason. The flag is
not -a/--all, which keeps docker's meaning (stopped ones too): the two
combine, ps -a --engines. Kubernetes pod sandboxes (pause containers) are
left out, as kubectl does.

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
			now := time.Now()
			rows := make([]psRow, 0, len(sbs))
			for _, sb := range sbs {
				rows = append(rows, psRow{Summary: words.Summarize(sb, now)})
			}
			if withEngines {
				rows = append(rows, foreignRows(discover(cmd), all, now)...)
			}
			if quiet {
				for _, r := range rows {
					id := r.ID
					if r.Container != nil {
						id = r.Name // the ref inspect and top take
					}
					fmt.Fprintln(cmd.OutOrStdout(), id)
				}
				return nil
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			sums := make([]words.Summary, len(rows))
			for i, r := range rows {
				sums[i] = r.Summary
			}
			width := words.PsWidth
			if noTrunc {
				width = 0
			}
			return words.WriteTable(cmd.OutOrStdout(), sums, withEngines, width)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also list created and exited sandboxes")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON, with each full record")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the ids, one per line")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "print every cell whole (the table is cut to 100 columns otherwise, as docker ps cuts)")
	cmd.Flags().BoolVar(&withEngines, "engines", false, "also list other engines' containers (docker, podman, containerd/Kubernetes, runc, crun), read-only, with an ENGINE column")
	return cmd
}

// psRow is one line of ps: a glassbox sandbox, or another engine's
// container (Container set; in -q and the table its id is its ref).
type psRow struct {
	words.Summary
	Container *inspect.Container `json:"container,omitempty"`
}

// foreignRows are ps's lines for other engines' containers: running and
// paused ones, or all with -a.
func foreignRows(f engines.Found, all bool, now time.Time) []psRow {
	var rows []psRow
	for _, c := range f.Containers {
		rec := c.Record()
		if !all && !rec.Status.Live() {
			continue
		}
		s := words.Summarize(rec, now)
		s.ID, s.RestartsText, s.Record = c.ShortID(), "-", nil
		rows = append(rows, psRow{Summary: s, Container: c})
	}
	return rows
}
