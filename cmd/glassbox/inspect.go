package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"glassbox/inspect"
	"glassbox/inspect/engines"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

func init() { verb("inspect", newInspectCmd) }

type inspectOptions struct {
	json     bool
	pid      int
	sources  bool
	interval time.Duration
}

func newInspectCmd() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [--json] NAME | ENGINE:REF | --pid PID",
		Short: "Print what the kernel knows about a sandbox, another engine's container or any process",
		Long: `inspect reads a sandbox (by name, id or id prefix), another engine's
container, or any process on the host (--pid) from /proc and cgroupfs, and
prints it grouped as Lifecycle (a sandbox's status, health, supervisor and
restart policy, from its record), Engine (what another engine says of its
container: names, labels, the limits it asked for, its bundle), Namespaces,
Processes, Filesystem, Cgroup (every controller's directory), Network, UTS
and kernel. --sources names the kernel file behind each figure; --json
prints the whole snapshot, sources included. CPU rates (cores used, % of
quota, throttling) are measured over --interval.

Other engines' containers are named as glassbox ps --engines lists them:
  docker:NAME   podman:NAME   k8s:NAMESPACE/POD/CONTAINER
  containerd:NAMESPACE/ID   runc:ID   crun:ID
(an id prefix of 4 or more characters after the engine works too). A --pid
that is such a container's first process is shown with its engine's names.
It changes nothing, glassbox's or any engine's.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.pid != 0 && len(args) > 0 {
				return errors.New("give either a sandbox NAME or --pid PID, not both")
			}
			if o.pid == 0 && len(args) != 1 {
				return errors.New("inspect needs one sandbox NAME (or --pid PID)")
			}
			if o.pid < 0 {
				return fmt.Errorf("--pid %d: a PID is positive", o.pid)
			}
			if o.interval < 0 {
				return fmt.Errorf("--interval %s: must not be negative", o.interval)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print the snapshot as JSON")
	f.IntVar(&o.pid, "pid", 0, "inspect this host PID instead of a sandbox")
	f.BoolVar(&o.sources, "sources", false, "name the kernel file behind each figure")
	f.DurationVar(&o.interval, "interval", 250*time.Millisecond, "measure CPU rates over this long (0: no rates)")
	return cmd
}

func runInspect(cmd *cobra.Command, args []string, o inspectOptions) error {
	fs, err := inspect.Host()
	if err != nil {
		return err
	}
	var in *inspect.Inspector
	if o.pid != 0 {
		in, err = inspectPID(fs, state.NewStore(rootsOf(cmd)), o.pid)
		if errors.Is(err, inspect.ErrNoProcess) {
			return fmt.Errorf("no process with PID %d", o.pid)
		}
	} else if _, _, foreign := inspect.ParseRef(args[0]); foreign {
		var c *inspect.Container
		if c, err = findForeign(args[0]); err != nil {
			return err
		}
		in, err = inspect.ForContainer(fs, c)
		if errors.Is(err, inspect.ErrNotRunning) {
			// Nothing left to read from the kernel: what its engine says.
			return printSnapshot(cmd, o, &inspect.Snapshot{Taken: time.Now(), Container: c})
		}
	} else {
		store := state.NewStore(rootsOf(cmd))
		var sb *state.Sandbox
		sb, err = store.Resolve(args[0])
		if err != nil {
			return err
		}
		in, err = inspect.New(fs, sb, store)
		if errors.Is(err, inspect.ErrNotRunning) {
			// Nothing left to read from the kernel: its record says how it ended.
			return printSnapshot(cmd, o, &inspect.Snapshot{Taken: time.Now(), Sandbox: sb, PID: sb.InitPID})
		}
	}
	if err != nil {
		return err
	}
	defer in.Close()
	snap, err := in.Snapshot()
	if err == nil && o.interval > 0 {
		time.Sleep(o.interval)
		snap, err = in.Snapshot()
	}
	if err != nil {
		return err
	}
	return printSnapshot(cmd, o, snap)
}

func printSnapshot(cmd *cobra.Command, o inspectOptions, snap *inspect.Snapshot) error {
	out := cmd.OutOrStdout()
	if o.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}
	return words.Report(out, snap, o.sources)
}

// inspectPID opens an Inspector on any process; when it is the init of a
// recorded, running glassbox sandbox, with that record (layers, ports).
func inspectPID(fs inspect.FS, store *state.Store, pid int) (*inspect.Inspector, error) {
	if recs, err := store.List(); err == nil {
		for _, sb := range recs {
			if sb.InitPID == pid && (sb.Status.Live()) {
				if in, err := inspect.New(fs, sb, store); err == nil {
					return in, nil
				}
			}
		}
	}
	// Another engine's container whose first process this is.
	for _, c := range engines.Discover(context.Background(), engines.Host()).Containers {
		if c.PID == pid {
			return inspect.ForContainer(fs, c)
		}
	}
	return inspect.ForPID(fs, pid)
}
