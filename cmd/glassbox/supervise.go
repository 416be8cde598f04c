package main

import (
	"fmt"
	"os"
	"syscall"

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

// The supervisor of one detached sandbox in a process of its own: started
// by Engine.Run (when the binary's constructor did not split `run -d`, whose
// process then hosts it: lifecycle/hosted.go), `start` or `restart`, in a
// session of its own, with its socket as fd 3, on which it waits for the
// sandbox it is to supervise, its state roots and its log
// (lifecycle.ServeHandoff). Not for people.
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
			err := lifecycle.ServeHandoff(conn, func(log *os.File) error {
				// From here on its stdout and stderr are the sandbox's
				// supervisor.log (until now, /dev/null).
				defer log.Close()
				for _, fd := range []int{1, 2} {
					if err := unix.Dup3(int(log.Fd()), fd, 0); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "supervisor:", err)
				return exitError{1}
			}
			return nil
		},
	}
	return cmd
}
