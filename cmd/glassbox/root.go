package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit status out of a verb (e.g. the workload's
// status from `glassbox run`) without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// verbs are registered by each verb's file in its init function, so that
// each verb lives in a file of its own.
var verbs []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "glassbox",
		Short: "A container you can see through",
		Long: `glassbox runs a service in a real Linux sandbox (namespaces, a cgroup with
limits, an overlayfs root stacked from image layers) and shows, live, what
the kernel sees.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("root", "", "state root for images, layers and runtime state (default: $GLASSBOX_ROOT, else /var/lib/glassbox and /run/glassbox)")
	for _, v := range verbs {
		root.AddCommand(v())
	}
	defaultVerb(root) // no verb: the live view on the default sandbox (top.go)
	return root
}

func execute(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "glassbox:", err)
	return 1
}
