package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"glassbox/inspect"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// defaultVerb makes `glassbox` alone open the live view on the default
// sandbox; it takes top's display flags, and --port.
func defaultVerb(root *cobra.Command) {
	var o topOptions
	o.flags(root)
	root.Flags().IntVar(&o.port, "port", defaultPort, "the host port the calculator sandbox \""+defaultName+"\" publishes when it is created (a taken 8000 gives way to a free port; a taken --port is an error)")
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		return runDefault(cmd, o, cmd.Flags().Changed("port"))
	}
}

// runDefault is `glassbox` with no arguments: the calculator sandbox
// "calc" (its port published on 8000, or --port, --memory 256m --cpus
// 0.5), reused when it runs, started again when it exited (as docker
// start would: its writable layer kept), created otherwise;
// then the live view on it.
func runDefault(cmd *cobra.Command, o topOptions, portGiven bool) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.port < 1 || o.port > 65535 {
		return fmt.Errorf("--port %d: a TCP port is 1..65535", o.port)
	}
	if err := needRoot(); err != nil {
		return err
	}
	if err := needTerminal(); err != nil {
		return err
	}
	eng := lifecycle.New(rootsOf(cmd))
	stderr := cmd.ErrOrStderr()
	sb, err := eng.Get(defaultName)
	switch {
	case err != nil:
		port, note, err := defaultHostPort(eng, o.port, portGiven)
		if err != nil {
			return err
		}
		if note != "" {
			fmt.Fprintln(stderr, "glassbox:", note)
		}
		limits := calculatorLimits()
		fmt.Fprintf(stderr, "glassbox: starting the calculator sandbox %q (its port on %s:%d; %s)\n",
			defaultName, state.DefaultHostIP, port, words.Limits(state.Limits{MemoryBytes: limits.MemoryBytes, CPUs: limits.CPUs()}))
		if _, err := startCalculator(eng, defaultName, port); err != nil {
			return err
		}
	case sb.Status == state.Exited || sb.Status == state.Created:
		// Its port is its own: if something else took it meanwhile, say
		// who, rather than fail deep in the restart.
		for _, p := range sb.Network.Ports {
			if !portFree(p.HostIP, p.HostPort) {
				return errors.New(words.PortTaken(p.HostPort, portHolder(eng, p.HostPort)) + words.PortOfStoppedSandbox(defaultName))
			}
		}
		fmt.Fprintf(stderr, "glassbox: starting the calculator sandbox %q again (it was %s)\n", defaultName, sb.Status)
		start, verb := eng.Start, "start"
		if sb.Status == state.Created {
			start, verb = eng.Restart, "restart" // start leaves a created one as it is
		}
		if _, err := start(sb.ID); err != nil {
			return fmt.Errorf("%s %s: %w", verb, defaultName, err)
		}
	}
	sb, err = eng.Get(defaultName)
	if err != nil {
		return err
	}
	return runTop(cmd, nil, o, []string{sb.ID})
}

// defaultHostPort is the host port a new default sandbox publishes: want
// when it is free; when it is taken, a free one and a line that says who
// holds want and which port is used instead — unless want was given
// (--port), which is then an error naming the holder.
func defaultHostPort(eng *lifecycle.Engine, want int, given bool) (port int, note string, err error) {
	if portFree(state.DefaultHostIP, want) {
		return want, "", nil
	}
	taken := words.PortTaken(want, portHolder(eng, want))
	if given {
		return 0, "", errors.New(taken + words.PortGiveAnother())
	}
	l, err := net.Listen("tcp", net.JoinHostPort(state.DefaultHostIP, "0"))
	if err != nil {
		return 0, "", fmt.Errorf("%s, and no free port was found: %w", taken, err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, taken + words.PortInstead(port), nil
}

// portFree says whether host:port can be listened on now.
func portFree(host string, port int) bool {
	if host == "" || host == "0.0.0.0" {
		host = state.DefaultHostIP
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// portHolder is who holds a host port: a running glassbox sandbox that
// publishes it, else the process listening on it.
func portHolder(eng *lifecycle.Engine, port int) words.PortHolder {
	if sbs, err := eng.List(false); err == nil {
		for _, sb := range sbs {
			for _, p := range sb.Network.Ports {
				if p.HostPort == port {
					return words.PortHolder{Sandbox: sb.Name}
				}
			}
		}
	}
	if fs, err := inspect.Host(); err == nil {
		if l, ok := inspect.ListenerOn(fs, port); ok {
			return words.PortHolder{PID: l.PID, Command: l.Command}
		}
	}
	return words.PortHolder{}
}
