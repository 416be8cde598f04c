package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"glassbox/sandbox/build"
	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

func init() { verb("commit", newCommitCmd) }

func newCommitCmd() *cobra.Command {
	var o build.CommitOptions
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] SANDBOX [IMAGE[:TAG]]",
		Short: "Make an image of a sandbox: its writable layer becomes a new layer",
		Long: `Make a new image from a sandbox: its image's layers, and its writable
(upper) layer as one more on top, whiteouts included, with a history entry
(-m gives its comment). -c applies configuration changes as Dockerfile
instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR,
HEALTHCHECK.`,
		Example: `  glassbox commit -m "added data" -c 'CMD ["cat", "/data"]' mybox snapshot:v1`,
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots := stateRoots(cmd)
			sb, err := state.NewStore(roots).Resolve(args[0])
			if err != nil {
				return err
			}
			if len(args) == 2 {
				o.Tag = args[1]
			}
			im, err := build.Commit(image.NewStore(roots), sb, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), im.ID)
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.Message, "message", "m", "", "commit message (the history entry's comment)")
	cmd.Flags().StringArrayVarP(&o.Changes, "change", "c", nil, "apply a Dockerfile instruction to the image's configuration (repeatable)")
	return cmd
}
