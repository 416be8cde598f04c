package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"glassbox/sandbox/vm/compare"
	"glassbox/ui/words"
)

func init() { verb("vm-vs-container", newVMvsContainerCmd) }

type vmvsFlags struct {
	json   bool
	kernel string
	opts   compare.Options
}

func newVMvsContainerCmd() *cobra.Command {
	var f vmvsFlags
	cmd := &cobra.Command{
		Use:   "vm-vs-container",
		Short: "Boot the calculator in a micro-VM and in a sandbox, and compare them on this machine",
		Long: `vm-vs-container puts the calculator in a micro-VM (qemu, with a kernel of its
own) and in a glassbox sandbox (sharing the host's kernel), each with the same
budget (1 CPU, 256 MiB), measures both, and prints the course's table with
this machine's figures: whose kernel answers (uname -r, boot id, uptime),
start → /health (median of --rounds starts), host memory per instance, bytes
on disk, throughput against the calculator on the host, and how many of
each would fit. --vms and --sandboxes start that many at once for real.

qemu uses KVM where a stock kernel can run on it, software emulation (TCG)
otherwise, and says which. The kernel is the host's own image
(/boot/vmlinuz-$(uname -r)) where it is readable, else one fetched into
/var/cache/glassbox/kernel, else the newest in /boot. The initramfs is
written by glassbox (cpio newc, in memory): the calculator image's files,
the network card's modules and glassbox as /init.

Everything it starts is stopped and removed when it ends, also on Ctrl-C.`,
		Example: `  glassbox vm-vs-container
  glassbox vm-vs-container --json
  glassbox vm-vs-container --sandboxes 100 --vms 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.opts.Kernel = f.kernel
			if err := f.opts.Validate(); err != nil {
				return err
			}
			if err := needRoot(); err != nil {
				return err
			}
			return runVMvsContainer(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print the figures as JSON (progress still goes to stderr)")
	fl.IntVar(&f.opts.VMs, "vms", 0, "also start this many VMs at once, for real, and remove them")
	fl.IntVar(&f.opts.Sandboxes, "sandboxes", 0, "also start this many sandboxes, for real, and remove them")
	fl.IntVar(&f.opts.Rounds, "rounds", compare.DefaultRounds, "starts of each that the start → /health median is taken of")
	fl.DurationVar(&f.opts.Load, "load", compare.DefaultLoad, "how long each throughput measurement runs")
	fl.StringVar(&f.kernel, "kernel", "", "the kernel image to boot (default: the host's own, else a fetched one)")
	return cmd
}

func runVMvsContainer(cmd *cobra.Command, f vmvsFlags) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Which signal ended it, for the exit status (130 or 143, as a shell says).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	prog := newProgress(cmd.ErrOrStderr())
	c, err := compare.Run(ctx, f.opts, engineOf(cmd), prog.event)
	prog.close()
	if err != nil {
		if ctx.Err() != nil {
			sig := syscall.SIGINT
			select {
			case s := <-sigs:
				sig = s.(syscall.Signal)
			default:
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "glassbox: vm-vs-container: interrupted by %s; everything it had started is stopped and removed\n", unixSignalName(sig))
			return exitError{128 + int(sig)}
		}
		return fmt.Errorf("vm-vs-container: %w (everything it had started is stopped and removed)", err)
	}
	if f.json {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	_, err = fmt.Fprint(cmd.OutOrStdout(), words.CompareTable(c, terminalWidth()))
	return err
}

func unixSignalName(s syscall.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

func terminalWidth() int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c >= 60 {
		return c
	}
	return 100
}
