package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"glassbox/inspect"
	"glassbox/inspect/engines"
)

// Other engines' containers are named ENGINE:REF on the command line
// (docker:NAME, podman:NAME, k8s:NAMESPACE/POD/CONTAINER,
// containerd:NAMESPACE/ID, runc:ID, crun:ID). glassbox reads them —
// ps --engines, inspect, top — and never changes them.

// discover looks for other engines' containers, saying on stderr which
// engine is there but could not be read (an absent one says nothing).
func discover(cmd *cobra.Command) engines.Found {
	f := engines.Discover(context.Background(), engines.Host())
	for _, p := range f.Problems {
		fmt.Fprintf(cmd.ErrOrStderr(), "glassbox: %s's containers not listed: %s\n", p.Engine, p.Err)
	}
	return f
}

// findForeign resolves an ENGINE:REF to its container.
func findForeign(ref string) (*inspect.Container, error) {
	return engines.Find(engines.Discover(context.Background(), engines.Host()), ref)
}

// engineTool is the command that drives an engine's containers.
func engineTool(engine string) string {
	if tool := map[string]string{inspect.EngineKubernetes: "kubectl", inspect.EngineContainerd: "ctr"}[engine]; tool != "" {
		return tool
	}
	return engine
}

// readOnlyRef refuses a verb that would change another engine's container.
func readOnlyRef(cmd *cobra.Command, ref string) error {
	engine, _, ok := inspect.ParseRef(ref)
	if !ok {
		return nil
	}
	tool := engineTool(engine)
	return fmt.Errorf("%s %s: %s is %s's container, and glassbox only reads other engines' containers (glassbox inspect/top %s show it; %s %s changes it)",
		cmd.Name(), ref, ref, engine, ref, tool, cmd.Name())
}
