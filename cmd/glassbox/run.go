package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/image"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

func init() { verbs = append(verbs, newRunCmd) }

type runFlags struct {
	name, hostname, workdir, memory, network string
	env                                      []string
	cpus                                     float64
	pids                                     int64
	init, userns, rm                         bool
}

func newRunCmd() *cobra.Command {
	var f runFlags
	var d *detachFlags
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] [IMAGE] [COMMAND [ARG...]]",
		Short: "Run a command in a new sandbox, in the foreground (default: the calculator)",
		Long: `Run a workload in a new sandbox, the way a container engine does: new pid,
mount, uts, ipc, net, cgroup and time namespaces, a cgroup with the given
limits, and an overlayfs root stacked from the image's layers. With no IMAGE
it runs the built-in calculator image; the built-in busybox image has a
shell and the core utilities. glassbox run returns the workload's
exit status (137 when the OOM killer ended it) and removes everything the
sandbox created.`,
		Example: `  glassbox run
  glassbox run --memory 256m --cpus 0.5 calculator
  glassbox run --name calc -e WORKER_COUNT=2 --hostname calc
  glassbox run busybox sh -c 'echo hi'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ports, err := d.check(cmd)
			if err != nil {
				return err
			}
			if d.detach {
				cfg, err := runConfig(cmd, &f, args)
				if err != nil {
					return err
				}
				return runDetached(cmd, cfg, f.network, d, ports)
			}
			return runForeground(cmd, &f, args, ports)
		},
	}
	// Everything after IMAGE is the command, flags included.
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "name of the sandbox (unique)")
	fl.StringVar(&f.hostname, "hostname", "", "hostname inside the sandbox (default: its id)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable, KEY=VALUE (repeatable)")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the sandbox")
	fl.StringVarP(&f.memory, "memory", "m", "", "memory limit (e.g. 256m, 1g; memory+swap is capped to the same)")
	fl.Float64Var(&f.cpus, "cpus", 0, "CPU limit in cores (0.5 = half a core)")
	fl.Int64Var(&f.pids, "pids-limit", 0, "maximum number of processes")
	fl.BoolVar(&f.init, "init", true, "run glassbox's init as PID 1 (it reaps zombies and forwards signals); --init=false runs the workload as PID 1")
	fl.BoolVar(&f.userns, "userns", false, fmt.Sprintf("map the sandbox's root to the unprivileged host range %d-%d", sandbox.UIDMapStart, sandbox.UIDMapStart+sandbox.UIDMapSize-1))
	fl.StringVar(&f.network, "network", "bridge", network.ModeHelp+"; "+network.NATHelp)
	d = addDetachFlags(cmd)
	fl.BoolVar(&f.rm, "rm", false, "remove the sandbox when it exits (a foreground run always does)")
	return cmd
}

// runConfig turns the flags into a configuration, checking each before
// anything is created (the image is looked up last: building it writes).
func runConfig(cmd *cobra.Command, f *runFlags, args []string) (*sandbox.Config, error) {
	cfg := &sandbox.Config{
		Roots: stateRoots(cmd), Name: f.name, Hostname: f.hostname,
		NoInit: !f.init, UserNS: f.userns,
	}
	var err error
	if cfg.Network, cfg.Hooks, err = sandboxNetwork(cfg.Roots, f.network); err != nil {
		return nil, err
	}
	if f.memory != "" {
		n, err := cgroup.ParseMemory(f.memory)
		if err != nil {
			return nil, fmt.Errorf("invalid --memory: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("invalid --memory %q: must be at least 6 MiB", f.memory)
		}
		cfg.Resources.MemoryBytes = n
	}
	if cmd.Flags().Changed("cpus") {
		if f.cpus <= 0 {
			return nil, fmt.Errorf("invalid --cpus %g: must be more than 0", f.cpus)
		}
		cfg.Resources.CPUQuotaUS, cfg.Resources.CPUPeriodUS = cgroup.CPUs(f.cpus)
	}
	if f.pids < 0 || (cmd.Flags().Changed("pids-limit") && f.pids == 0) {
		return nil, fmt.Errorf("invalid --pids-limit %d: must be more than 0", f.pids)
	}
	cfg.Resources.PidsLimit = f.pids
	if err := cfg.Resources.Validate(); err != nil {
		return nil, err
	}
	for _, kv := range f.env {
		if err := sandbox.CheckEnv(kv); err != nil {
			return nil, err
		}
	}
	if err := sandbox.CheckHost(f.userns); err != nil {
		return nil, err
	}
	name := image.Builtin
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	im, err := image.NewStore(cfg.Roots).Get(name)
	if err != nil {
		return nil, err
	}
	cfg.Image = im.Name
	cfg.Layers = im.TopFirst()
	cfg.Args = args
	if len(cfg.Args) == 0 {
		cfg.Args = im.Argv()
	}
	cfg.Env = sandbox.MergeEnv(im.Config.Env, f.env)
	cfg.WorkDir = f.workdir
	if cfg.WorkDir == "" {
		cfg.WorkDir = im.Config.WorkingDir
	}
	return cfg, cfg.Validate()
}

// runForeground: validate → start → forward signals → wait → destroy →
// the workload's exit status.
func runForeground(cmd *cobra.Command, f *runFlags, args []string, ports []state.Port) error {
	cfg, err := runConfig(cmd, f, args)
	if err != nil {
		return err
	}
	// Signals that arrive while the sandbox starts are held, then forwarded.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, sandbox.ForwardedSignals...)
	defer signal.Stop(sigs)
	forward, unpublish, err := publishForeground(ports) // a port in use fails before the start
	if err != nil {
		return err
	}
	defer unpublish()
	c, err := sandbox.Start(cfg, sandbox.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		return err
	}
	defer c.Destroy()
	forward(c.State().Network.IP)
	go func() {
		for s := range sigs {
			c.Signal(s.(syscall.Signal))
		}
	}()
	exit, werr := c.Wait()
	derr := c.Destroy()
	if err := errors.Join(werr, derr); err != nil {
		fmt.Fprintln(os.Stderr, "glassbox:", err)
	}
	if exit == nil {
		return exitError{1}
	}
	if exit.OOMKilled {
		fmt.Fprintln(os.Stderr, "glassbox:", exit.Reason)
	}
	if exit.Code != 0 {
		return exitError{exit.Code}
	}
	return nil
}
