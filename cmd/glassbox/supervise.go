package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"glassbox/sandbox"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
)

func init() { verb(lifecycle.SupervisorVerb, newSuperviseCmd) }

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

// The supervisor of one detached sandbox: started by `run -d` (Engine.Run,
// or the binary's constructor before the CLI's Go runtime) in a session of
// its own, with its socket as fd 3, on which it waits for the sandbox it
// is to supervise, its state roots and its log (lifecycle.AwaitHandoff).
// Not for people.
func newSuperviseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    lifecycle.SupervisorVerb,
		Short:  "Supervise a detached sandbox (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Its own children (the sandbox's init) must not inherit it.
			syscall.CloseOnExec(lifecycle.ReadyFD)
			conn := os.NewFile(lifecycle.ReadyFD, "supervisor-socket")
			go sandbox.PrepareToStartProcesses() // while it waits
			h, err := lifecycle.AwaitHandoff(conn)
			if errors.Is(err, io.EOF) {
				return nil // the sandbox was not to be: nothing was done
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "supervisor:", err)
				return exitError{1}
			}
			// From here on its stdout and stderr are the sandbox's
			// supervisor.log (until now they may have been /dev/null).
			for _, fd := range []int{1, 2} {
				if err := unix.Dup3(int(h.Log.Fd()), fd, 0); err != nil {
					return fmt.Errorf("supervisor: write to its log: %w", err)
				}
			}
			h.Log.Close()
			lock := h.Lock
			if d, err := time.ParseDuration(os.Getenv(lifecycle.SupervisorDelayEnv)); err == nil {
				time.Sleep(d)
			}
			// Supervise lets go of its descriptor of the lock as it
			// returns; this second one keeps the lock held until the
			// process is gone (the kernel closes it at exit), so that
			// a command waiting for the lock (rm, start) returns with
			// no supervisor left.
			if _, err := unix.FcntlInt(lock.Fd(), unix.F_DUPFD_CLOEXEC, 0); err != nil {
				return fmt.Errorf("supervisor: hold the sandbox's lock: %w", err)
			}
			err = lifecycle.Supervise(h.Roots, h.ID, conn, lock)
			if d, perr := time.ParseDuration(os.Getenv(lifecycle.SupervisorExitDelayEnv)); perr == nil {
				time.Sleep(d)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "supervisor:", err)
				return exitError{1}
			}
			return nil
		},
	}
	return cmd
}
