package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"glassbox/sandbox"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

func init() { verb("run", newRunCmd) }

// newRunCmd is flag wiring only: each flag is bound to its field of a
// lifecycle.Request (parsed by its pflag.Value where it needs parsing, see
// runflags.go), and the engine checks and runs the request. To add a run
// flag, see lifecycle.Request.
func newRunCmd() *cobra.Command {
	var req lifecycle.Request
	var detach bool
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
  glassbox run busybox sh -c 'echo hi'
  glassbox run -it busybox sh
  echo hi | glassbox run -i busybox cat`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				req.Config.Image, req.Config.Args = args[0], args[1:]
			}
			e := engineOf(cmd)
			req.Unexposed = func(p state.Port, image string, exposed []int) {
				fmt.Fprintln(cmd.ErrOrStderr(), "glassbox:", words.UnexposedPort(image, p.HostPort, p.ContainerPort, exposed))
			}
			if detach {
				sb, err := e.Run(&req)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), sb.ID)
				return nil
			}
			return runForeground(e, &req)
		},
	}
	// Everything after IMAGE is the command, flags included.
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	c := &req.Config
	fl.StringVar(&c.Name, "name", "", "name of the sandbox (unique)")
	fl.StringVar(&c.Hostname, "hostname", "", "hostname inside the sandbox (default: its id)")
	fl.StringArrayVarP(&c.Env, "env", "e", nil, "set an environment variable, KEY=VALUE (repeatable)")
	fl.StringVarP(&c.WorkDir, "workdir", "w", "", "working directory inside the sandbox")
	fl.StringVarP(&c.User, "user", "u", "", "run as USER[:GROUP], names or ids, from the image's /etc/passwd and /etc/group (default: the image's USER, else root)")
	fl.VarP(memoryFlag{&c.Resources.MemoryBytes}, "memory", "m", "memory limit (e.g. 256m, 1g; memory+swap is capped to the same)")
	fl.Var(cpusFlag{&c.Resources}, "cpus", "CPU limit in cores (0.5 = half a core)")
	fl.Var(positiveFlag{&c.Resources.PidsLimit}, "pids-limit", "maximum number of processes")
	fl.Var(notFlag{&c.NoInit}, "init", "run glassbox's init as PID 1 (it reaps zombies and forwards signals); --init=false runs the workload as PID 1")
	fl.Lookup("init").NoOptDefVal = "true" // a plain --init, as docker's: it takes no value
	fl.BoolVar(&c.UserNS, "userns", false, fmt.Sprintf("map the sandbox's root to the unprivileged host range %d-%d", sandbox.UIDMapStart, sandbox.UIDMapStart+sandbox.UIDMapSize-1))
	fl.StringVar(&c.Network, "network", sandbox.NetworkBridge, network.ModeHelp+"; "+network.NATHelp)
	fl.StringArrayVar(&c.Security.CapAdd, "cap-add", nil, "add a capability to the default set (NET_ADMIN or CAP_NET_ADMIN; ALL for every one)")
	fl.StringArrayVar(&c.Security.CapDrop, "cap-drop", nil, "drop a capability from the default set (ALL drops every one but those added)")
	fl.Var(securityOptFlag{&c.Security}, "security-opt", "seccomp=unconfined, seccomp=PROFILE.json (docker's format; default: docker's profile), no-new-privileges (always on)")
	fl.BoolVar(&c.Security.ReadOnly, "read-only", false, "mount the root filesystem read-only (/tmp and /run stay writable tmpfs)")
	fl.BoolVar(&c.Security.Privileged, "privileged", false, "not offered (running it says why)")
	fl.BoolVarP(&c.OpenStdin, "interactive", "i", false, "keep stdin open: pass this terminal's or pipe's input to the workload (without it, its stdin is /dev/null)")
	fl.BoolVarP(&c.TTY, "tty", "t", false, "give the workload a terminal: a pty of the sandbox's own devpts (/dev/pts/0 inside)")
	fl.BoolVarP(&detach, "detach", "d", false, "run in the background: print the sandbox's id and return once it runs; a supervisor keeps its log, ports, health and restart policy (see glassbox ps, logs, stop)")
	fl.VarP(portsFlag{&req.Ports}, "publish", "p", network.PortHelp)
	fl.Var(policyFlag{&req.Restart}, "restart", "restart policy of a detached sandbox: no, on-failure[:N] (an OOM kill is a failure) or always (default no)")
	fl.DurationVar(&req.StopTimeout, "stop-timeout", 0, fmt.Sprintf("grace period between SIGTERM and SIGKILL when the sandbox is stopped (default %s)", lifecycle.DefaultStopTimeout))
	fl.BoolVar(&req.Remove, "rm", false, "remove the sandbox when it exits (a foreground run always does)")
	fl.Var(logOptFlag{&req.Log}, "log-opt", fmt.Sprintf("cap a detached sandbox's log, as docker's local driver: max-size=SIZE (per file), max-file=N (files kept); default %s", lifecycle.LogConfig{}))
	return cmd
}

// runForeground runs the request in this process and returns the
// workload's exit status. Signals that arrive while the sandbox starts are
// held, then forwarded.
func runForeground(e *lifecycle.Engine, req *lifecycle.Request) error {
	stdio := sandbox.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, sandbox.ForwardedSignals...)
	defer signal.Stop(sigs)
	fwd := (<-chan os.Signal)(sigs)
	if req.Config.TTY {
		tty, err := newTerminal(req.Config.OpenStdin)
		if err != nil {
			return err
		}
		defer tty.close()
		stdio.Terminal = tty.attach
		stdio.Rows, stdio.Cols = tty.size()
		fwd = hangupOn(sigs, tty)
	}
	exit, err := e.RunForeground(req, stdio, fwd)
	if exit == nil {
		if err != nil {
			return err
		}
		return exitError{1}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "glassbox:", err)
	}
	if exit.OOMKilled {
		fmt.Fprintln(os.Stderr, "glassbox:", words.ExitReason(exit, state.Limits{MemoryBytes: req.Config.Resources.MemoryBytes}))
	}
	if exit.Code != 0 {
		return exitError{exit.Code}
	}
	return nil
}

// hangupOn passes signals through, and hangs the terminal up on SIGTERM
// and SIGHUP: an interactive shell ignores SIGTERM, but not the hangup.
func hangupOn(sigs <-chan os.Signal, tty *terminal) <-chan os.Signal {
	out := make(chan os.Signal, 16)
	go func() {
		for s := range sigs {
			out <- s
			if s == syscall.SIGTERM || s == syscall.SIGHUP {
				tty.hangup()
			}
		}
	}()
	return out
}
