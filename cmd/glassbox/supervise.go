package main

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"glassbox/sandbox"
	"glassbox/sandbox/image"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

func init() { verbs = append(verbs, newSuperviseCmd) }

// readyFD is the supervisor's ready pipe, set up by Engine.spawn.
const readyFD = 3

// stateRoots returns the state roots in force for a command: --root, else
// $GLASSBOX_ROOT, else the system defaults.
func stateRoots(cmd *cobra.Command) state.Roots {
	if f := cmd.Flags().Lookup("root"); f != nil && f.Value.String() != "" {
		return state.RootsAt(f.Value.String())
	}
	return state.DefaultRoots()
}

// engineOf is the lifecycle engine on the command's state roots.
func engineOf(cmd *cobra.Command) *lifecycle.Engine {
	return lifecycle.New(stateRoots(cmd))
}

// The supervisor of one detached sandbox: started by `run -d` (Engine.Run)
// in a session of its own, with the ready pipe as fd 3. Not for people.
func newSuperviseCmd() *cobra.Command {
	var lib, run string
	cmd := &cobra.Command{
		Use:    lifecycle.SupervisorVerb + " ID",
		Short:  "Supervise a detached sandbox (internal)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lib == "" || run == "" {
				return fmt.Errorf("supervise needs --lib and --run")
			}
			// Its own children (the sandbox's init) must not inherit it.
			syscall.CloseOnExec(readyFD)
			ready := os.NewFile(readyFD, "ready")
			err := lifecycle.Supervise(state.Roots{Lib: lib, Run: run}, args[0], ready)
			if err != nil {
				fmt.Fprintln(os.Stderr, "supervisor:", err)
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&lib, "lib", "", "images and layers root")
	cmd.Flags().StringVar(&run, "run", "", "runtime state root")
	return cmd
}

// detachFlags are the flags of `glassbox run` that the lifecycle adds:
// detached runs, published ports, restart policy and grace period.
type detachFlags struct {
	detach      bool
	publish     []string
	restart     string
	stopTimeout time.Duration
}

func addDetachFlags(cmd *cobra.Command) *detachFlags {
	d := &detachFlags{}
	fl := cmd.Flags()
	fl.BoolVarP(&d.detach, "detach", "d", false, "run in the background: print the sandbox's id and return once it runs; a supervisor keeps its log, ports, health and restart policy (see glassbox ps, logs, stop)")
	fl.StringArrayVarP(&d.publish, "publish", "p", nil, network.PortHelp)
	fl.StringVar(&d.restart, "restart", "no", "restart policy of a detached sandbox: no, on-failure[:N] (an OOM kill is a failure) or always")
	fl.DurationVar(&d.stopTimeout, "stop-timeout", lifecycle.DefaultStopTimeout, "grace period between SIGTERM and SIGKILL when the sandbox is stopped")
	return d
}

// check refuses what only a detached run can do, before anything is created.
func (d *detachFlags) check(cmd *cobra.Command) ([]state.Port, error) {
	if !d.detach {
		for _, f := range []string{"restart", "stop-timeout"} {
			if cmd.Flags().Changed(f) {
				return nil, fmt.Errorf("--%s needs -d: only a detached sandbox has a supervisor to apply it", f)
			}
		}
	}
	if _, err := lifecycle.ParsePolicy(d.restart); err != nil {
		return nil, err
	}
	if d.stopTimeout < 0 {
		return nil, fmt.Errorf("--stop-timeout %s: cannot be negative", d.stopTimeout)
	}
	return network.ParsePorts(d.publish)
}

// sandboxNetwork turns --network into the runtime's mode and the hooks that
// attach a bridge sandbox.
func sandboxNetwork(roots state.Roots, s string) (string, sandbox.Hooks, error) {
	mode, err := network.ParseMode(s)
	if err != nil {
		return "", sandbox.Hooks{}, err
	}
	return lifecycle.RuntimeNetwork(mode), lifecycle.NetworkHooks(roots, mode), nil
}

// runDetached is `glassbox run -d`: the sandbox is handed to a supervisor
// and its id printed once it runs.
func runDetached(cmd *cobra.Command, cfg *sandbox.Config, netFlag string, d *detachFlags, ports []state.Port) error {
	mode, err := network.ParseMode(netFlag)
	if err != nil {
		return err
	}
	opts := lifecycle.RunOptions{Restart: d.restart, StopTimeout: d.stopTimeout, Ports: ports, Network: mode}
	opts.Remove, _ = cmd.Flags().GetBool("rm")
	if im, err := image.NewStore(cfg.Roots).Get(cfg.Image); err == nil {
		opts.Health = lifecycle.HealthFromImage(im.Config.Healthcheck)
	}
	e := lifecycle.New(cfg.Roots)
	sb, err := e.Run(cfg, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), sb.ID)
	return nil
}

// publishForeground publishes the ports of a foreground run: bound before
// the sandbox starts (a port in use fails while nothing exists), forwarded
// once its address is known. The returned close ends the proxy.
func publishForeground(ports []state.Port) (func(ip string), func(), error) {
	if len(ports) == 0 {
		return func(string) {}, func() {}, nil
	}
	ls, err := network.Listen(ports)
	if err != nil {
		return nil, nil, err
	}
	var proxy *network.Proxy
	forward := func(ip string) {
		target, err := netip.ParseAddr(ip)
		if err != nil {
			target = netip.MustParseAddr("127.0.0.1")
		}
		proxy = network.Forward(ls, ports, target)
	}
	closeAll := func() {
		if proxy != nil {
			proxy.Close()
			return
		}
		for _, l := range ls {
			l.Close()
		}
	}
	return forward, closeAll, nil
}
