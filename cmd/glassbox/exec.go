package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"glassbox/sandbox"
)

func init() { verb("exec", newExecCmd) }

func newExecCmd() *cobra.Command {
	var x sandbox.ExecConfig
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] SANDBOX COMMAND [ARG...]",
		Short: "Run a command in a running sandbox",
		Long: `Run a command in a running sandbox, as docker exec does: the command joins
the sandbox's namespaces (user first, mount last; it is born in the
sandbox's pid namespace), enters its cgroup (it counts against --memory and
--pids-limit), and runs with the sandbox's capabilities, seccomp filter,
environment and working directory. Its parent stays outside the sandbox, so
inside it has PPID 0. It ends with the sandbox.

The exit status is the command's; 126 when it cannot be executed, 127 when
it is not found, 128+N when signal N ended it.`,
		Example: `  glassbox exec sh1 hostname
  glassbox exec -it sh1 sh
  echo hi | glassbox exec -i sh1 cat
  glassbox exec -e DEBUG=1 -w /tmp -u nobody sh1 env
  glassbox exec calc /app/calculator --help`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("exec needs a sandbox and a command, e.g. glassbox exec %s sh", "NAME")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			x.Args = args[1:]
			return execIn(cmd, args[0], &x)
		},
	}
	cmd.Flags().SetInterspersed(false) // everything after the sandbox is the command
	fl := cmd.Flags()
	fl.BoolVarP(&x.OpenStdin, "interactive", "i", false, "keep stdin open: pass this terminal's or pipe's input to the command")
	fl.BoolVarP(&x.TTY, "tty", "t", false, "give the command a terminal (a pty of the sandbox's own devpts: /dev/pts/N inside)")
	fl.BoolVarP(&x.Detach, "detach", "d", false, "run the command in the background, its output discarded; it ends with the sandbox")
	fl.StringArrayVarP(&x.Env, "env", "e", nil, "set an environment variable, KEY=VALUE (repeatable)")
	fl.StringVarP(&x.WorkDir, "workdir", "w", "", "working directory inside the sandbox (default: the sandbox's)")
	fl.StringVarP(&x.User, "user", "u", "", "USER[:GROUP], names or ids from the sandbox's /etc/passwd and /etc/group (default: root)")
	return cmd
}

// execIn runs the command and returns its exit status.
func execIn(cmd *cobra.Command, ref string, x *sandbox.ExecConfig) error {
	stdio := sandbox.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	var tty *terminal
	if x.TTY {
		var err error
		if tty, err = newTerminal(x.OpenStdin); err != nil {
			return err
		}
		defer tty.close()
		stdio.Terminal = tty.attach
		stdio.Rows, stdio.Cols = tty.size()
	}
	// Signals wait until the command runs, then go to it.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, sandbox.ForwardedSignals...)
	defer signal.Stop(sigs)
	p, err := engineOf(cmd).Exec(ref, x, stdio)
	var ee *sandbox.ExecError
	if errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "glassbox:", ee.Msg)
		return exitError{ee.Code}
	}
	if err != nil {
		return err
	}
	if x.Detach {
		return nil
	}
	done := make(chan struct{})
	defer close(done)
	fwd := (<-chan os.Signal)(sigs)
	if tty != nil {
		fwd = hangupOn(sigs, tty)
	}
	go forwardSignals(fwd, done, p.Signal)
	exit, err := p.Wait()
	if err != nil {
		return err
	}
	if exit.Code != 0 {
		return exitError{exit.Code}
	}
	return nil
}

// forwardSignals passes the signals this process gets on to the command
// until done.
func forwardSignals(sigs <-chan os.Signal, done <-chan struct{}, signal func(syscall.Signal) error) {
	for {
		select {
		case s := <-sigs:
			if sig, ok := s.(syscall.Signal); ok {
				signal(sig)
			}
		case <-done:
			return
		}
	}
}
