package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"glassbox/inspect"
	"glassbox/inspect/engines"
	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

func init() { verb("top", newTopCmd) }

// topOptions are the flags of `glassbox top` (and of `glassbox` alone).
type topOptions struct {
	interval time.Duration
	noColor  bool
	mouse    bool
	once     bool
	engines  bool   // also other engines' running containers
	json     bool   // with once: the snapshots as JSON
	port     int    // glassbox alone: the default sandbox's host port
	record   string // write the session to this file (replay plays it)
}

const minInterval = 100 * time.Millisecond

func newTopCmd() *cobra.Command {
	var o topOptions
	cmd := &cobra.Command{
		Use:   "top [NAME | ENGINE:REF ...]",
		Short: "Watch sandboxes live: namespaces, processes, layers, memory and CPU against their limits",
		Long: `top opens the live view on the named sandboxes (every running one when none
is named). Keys poke them: m stresses memory, c burns CPU, s stops, ? lists
every key. Quitting leaves the sandboxes running.

Other engines' containers are shown in the same panels, beside glassbox's:
name them as ps --engines lists them (docker:NAME, podman:NAME,
k8s:NAMESPACE/POD/CONTAINER, containerd:NAMESPACE/ID, runc:ID, crun:ID), or
give --engines to follow every running one too. They are read-only: the
keys that would change a sandbox (stress, burn, pause, stop, kill, remove)
do nothing to them and say so; use that engine's own tool.

With --once it prints one frame as plain text and exits: no terminal needed,
no escape codes; the width is $COLUMNS or 100.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if o.once {
				return runOnce(cmd, args, o, cmd.OutOrStdout())
			}
			return runTop(cmd, args, o, nil)
		},
	}
	o.flags(cmd)
	cmd.Flags().BoolVar(&o.once, "once", false, "print one frame as plain text and exit (no terminal needed)")
	cmd.Flags().BoolVar(&o.json, "json", false, "with --once: print the snapshots as JSON (one array, every figure with its kernel file)")
	cmd.Flags().BoolVar(&o.engines, "engines", false, "also show every running container of the other engines (read-only)")
	return cmd
}

func (o *topOptions) flags(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&o.interval, "interval", time.Second, "time between snapshots (at least 100ms)")
	cmd.Flags().BoolVar(&o.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	cmd.Flags().BoolVar(&o.mouse, "mouse", false, "enable the mouse (off by default so that text stays selectable)")
	cmd.Flags().StringVar(&o.record, "record", "", "record the session to FILE (zstd, or gzip for *.gz): glassbox replay FILE plays it back, without root")
}

func (o *topOptions) validate() error {
	if o.json && !o.once {
		return errors.New("--json needs --once: the live view has no JSON form")
	}
	if o.record != "" && o.once {
		return errors.New("--record records the live view: not with --once")
	}
	if o.interval < minInterval {
		return fmt.Errorf("--interval %s is too short: at least %s", o.interval, minInterval)
	}
	return nil
}

// rootsOf is the state root in force: --root, else $GLASSBOX_ROOT, else the defaults.
func rootsOf(cmd *cobra.Command) state.Roots {
	if f := cmd.Flag("root"); f != nil && f.Value.String() != "" {
		return state.RootsAt(f.Value.String())
	}
	return state.DefaultRoots()
}

func needRoot() error {
	if os.Geteuid() != 0 {
		return sandbox.ErrNotRoot // words.NeedsRoot says it (explain)
	}
	return nil
}

func needTerminal() error {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return errors.New("the live view needs a terminal; for one plain-text frame use: glassbox top --once")
	}
	return nil
}

// resolve checks every named sandbox before the UI starts, so that a typo is
// a clear error rather than an empty screen. Another engine's container
// (ENGINE:REF) resolves to its ref, which is its record's id.
func resolve(e *lifecycle.Engine, names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		if _, _, ok := inspect.ParseRef(n); ok {
			c, err := findForeign(n)
			if err != nil {
				return nil, fmt.Errorf("top %s: %w", n, err)
			}
			ids = append(ids, c.Ref())
			continue
		}
		sb, err := e.Get(n)
		if err != nil {
			return nil, fmt.Errorf("top %s: %w", n, err)
		}
		ids = append(ids, sb.ID)
	}
	return ids, nil
}

// runTop runs the live view. refs, when given, are already resolved ids.
func runTop(cmd *cobra.Command, names []string, o topOptions, refs []string) error {
	if err := needRoot(); err != nil {
		return err
	}
	if err := needTerminal(); err != nil {
		return err
	}
	eng := lifecycle.New(rootsOf(cmd))
	if refs == nil {
		var err error
		if refs, err = resolve(eng, names); err != nil {
			return err
		}
	}
	src, err := openTopSource(eng, o, refs)
	if err != nil {
		return err
	}
	defer src.Close()

	r := uiRenderer(o.noColor)
	acts := newTopActions(eng, func() (string, error) { return startCalculator(eng, "", 0) })
	uo := ui.Options{Source: src, Actions: acts, Images: newStacks(rootsOf(cmd)), Refs: refs, Interval: o.interval, Styles: ui.NewStyles(r)}
	if o.record != "" {
		record, closeRecording, err := startRecording(o.record, commandLine(), o.interval, 0)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := closeRecording(); cerr != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "glassbox:", cerr)
			}
		}()
		uo.Record = record
	}
	m := ui.New(uo)
	// The live view is one event loop that sleeps between redraws and
	// refreshes. With a second processor for goroutines, every wake-up
	// (20 a second for the redraws) also wakes an idle thread that spins
	// looking for work and finds none: on one, top spends a fifth less CPU
	// (measured with ui/bench/measure-top.sh). The Image view's layer walks,
	// the only parallel work here, take about as long on one (union's
	// BenchmarkRead50k: 111 ms on one, 90–118 ms on two).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// The screen changes once per refresh or key press: ui.Live draws each
	// change at once, and bubbletea's renderer, which would wake the
	// process 20 times a second to look for one, runs at its slowest.
	term := ui.NewTerminal(os.Stdout)
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithFPS(ui.LiveFPS), tea.WithOutput(term)}
	if o.mouse {
		opts = append(opts, tea.WithMouseCellMotion())
	}
	final, err := tea.NewProgram(ui.NewLive(m, term), opts...).Run()
	if err != nil {
		return fmt.Errorf("run the live view: %w", err)
	}
	if l, ok := final.(ui.Live); ok {
		final = l.Model
	}
	if fm, ok := final.(ui.Model); ok {
		if running := fm.Running(); len(running) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "glassbox: left running: %s (glassbox stop NAME stops one; glassbox top watches again)\n", strings.Join(running, ", "))
		}
	}
	return nil
}

// runOnce prints one frame: two rounds of snapshots 200ms apart, so that the
// CPU rates have an interval to be measured over.
func runOnce(cmd *cobra.Command, names []string, o topOptions, w io.Writer) error {
	if err := needRoot(); err != nil {
		return err
	}
	rounds, err := takeRounds(lifecycle.New(rootsOf(cmd)), names, o)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rounds[len(rounds)-1])
	}
	width := 100
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c >= 40 {
		width = c
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	_, err = io.WriteString(w, ui.Frame(ui.NewStyles(r), rounds, width))
	return err
}

// takeRounds takes two rounds of snapshots 200ms apart of the named
// sandboxes and containers (every running one when none is named), so that
// the second round's CPU rates have an interval to be measured over.
func takeRounds(eng *lifecycle.Engine, names []string, o topOptions) ([][]*inspect.Snapshot, error) {
	refs, err := resolve(eng, names)
	if err != nil {
		return nil, err
	}
	src, err := openTopSource(eng, o, refs)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// One listing (other engines looked for once) to pick the records from.
	list, err := src.List()
	if err != nil {
		return nil, err
	}
	var sbs []*state.Sandbox
	for _, ref := range refs {
		for _, sb := range list {
			if sb.ID == ref {
				sbs = append(sbs, sb)
			}
		}
	}
	if len(names) == 0 {
		for _, sb := range list {
			if sb.Status.Live() {
				sbs = append(sbs, sb)
			}
		}
	}
	var rounds [][]*inspect.Snapshot
	for i := range 2 {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		round := []*inspect.Snapshot{}
		for _, sb := range sbs {
			s, err := src.Snapshot(sb)
			if err != nil {
				return nil, err
			}
			round = append(round, s)
		}
		rounds = append(rounds, round)
	}
	return rounds, nil
}

// openTopSource is top's source of snapshots, with other engines'
// containers when --engines or a ref asks for them.
func openTopSource(eng *lifecycle.Engine, o topOptions, refs []string) (*topSource, error) {
	src, err := newTopSource(eng)
	if err != nil {
		return nil, err
	}
	if o.engines || anyForeign(refs) {
		src.WithEngines(engines.Host())
	}
	return src, nil
}

// anyForeign says whether a ref names another engine's container.
func anyForeign(refs []string) bool {
	for _, r := range refs {
		if _, _, ok := inspect.ParseRef(r); ok {
			return true
		}
	}
	return false
}

// The default sandbox: what `glassbox` alone makes sure is running, the
// way `docker run -d -p 8000:8000 --memory 256m --cpus 0.5` would.
const (
	defaultName = "calc"
	defaultPort = 8000
)

// calculatorLimits are the course's limits for a calculator sandbox.
func calculatorLimits() cgroup.Resources {
	quota, period := cgroup.CPUs(0.5)
	return cgroup.Resources{MemoryBytes: 256 << 20, CPUQuotaUS: quota, CPUPeriodUS: period}
}

// startCalculator starts a detached calculator sandbox with the course's
// limits, publishing the image's port on hostPort of 127.0.0.1 (0: a free
// port). An empty name gets a generated one.
func startCalculator(eng *lifecycle.Engine, name string, hostPort int) (string, error) {
	sb, err := eng.Run(&lifecycle.Request{
		Config: sandbox.Config{Name: name, Resources: calculatorLimits()},
		Ports:  []state.Port{{HostPort: hostPort}}, // ContainerPort 0: the image's
	})
	if err != nil {
		return "", err
	}
	return sb.Name, nil
}
