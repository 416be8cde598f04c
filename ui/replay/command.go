package replay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"glassbox/ui"
)

// Options are replay's flags.
type Options struct {
	Once    bool
	At      string
	Width   int
	Height  int
	Speed   float64
	NoColor bool
}

// Command is `glassbox replay`: the glassbox binary registers it, and so
// does cmd/glassbox-replay, the replay alone for the OSes glassbox's
// runtime does not build on.
func Command() *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Play back a recorded session of the live view (top --record, learn --record), without root",
		Long: `replay shows a recording (glassbox top --record FILE, glassbox learn
--record FILE) on the same screen as the live view, as it was: the
snapshots, the events, the OOM kills, a lesson's steps. It needs no root
and no Linux: it reads only the file.

Keys: space pauses, ←/→ seek 10 s, . and , step to the next or previous
change, + and - change the speed, g and G go to the start and the end.
The panels' own keys look around (tab, ], e, ?); doing so stops following
the recording's moves until f. The keys that would change a sandbox are
shown but unavailable: a replay changes nothing.

With --once it prints one frame as plain text (--at 00:42: that moment;
default the end), for handouts and bug reports.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return Run(cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Once, "once", false, "print one frame as plain text and exit")
	f.StringVar(&o.At, "at", "", "the moment to show or start at: mm:ss, h:mm:ss or a duration (default: --once the end, else the start)")
	f.IntVar(&o.Width, "width", 0, "with --once: the frame's width (default: the recording's terminal, else 100)")
	f.IntVar(&o.Height, "height", 0, "with --once: the frame's height (default: the recording's terminal, else 30)")
	f.Float64Var(&o.Speed, "speed", 1, "playback speed: 0.25, 0.5, 1, 2, 4, 8 or 16")
	f.BoolVar(&o.NoColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	return cmd
}

// Run replays path, or prints one frame of it.
func Run(w io.Writer, path string, o Options) error {
	speed := -1
	for i, s := range speeds {
		if s == o.Speed {
			speed = i
		}
	}
	if speed < 0 {
		return fmt.Errorf("--speed %g: one of 0.25, 0.5, 1, 2, 4, 8, 16", o.Speed)
	}
	if !o.Once && (o.Width != 0 || o.Height != 0) {
		return errors.New("--width and --height need --once: the live replay takes the terminal's size")
	}
	var at time.Duration
	if o.At != "" {
		var err error
		if at, err = ParseClock(o.At); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	rec, err := Open(path)
	if err != nil {
		return err
	}
	if at > rec.Length() {
		return fmt.Errorf("--at %s: the recording lasts %s", Clock(at), Clock(rec.Length()))
	}
	if o.Once {
		if o.At == "" {
			at = rec.Length()
		}
		_, err := io.WriteString(w, Once(rec, at, o.Width, o.Height))
		return err
	}
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return errors.New("the replay needs a terminal; for one plain-text frame use: glassbox replay --once --at mm:ss FILE")
	}
	r := lipgloss.NewRenderer(os.Stdout)
	if o.NoColor || os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	p := NewPlayer(rec, ui.NewStyles(r))
	p.speed = speed
	p.Seek(at)
	if _, err := tea.NewProgram(p, tea.WithAltScreen(), tea.WithFPS(20)).Run(); err != nil {
		return fmt.Errorf("run the replay: %w", err)
	}
	return nil
}

// Once is one frame of a recording at d into it, as plain text, w×h (0:
// the size the recording's terminal had then, else 100×30), with a line
// that says what it is.
func Once(rec *Recording, d time.Duration, w, h int) string {
	rw, rh := sizeAt(rec, d)
	if w <= 0 {
		w = rw
	}
	if h <= 0 {
		h = rh
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	p := still(rec, ui.NewStyles(r))
	p.Seek(d)
	lines := strings.Split(p.Frame(w, h), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	hd := rec.Header
	info := fmt.Sprintf("glassbox replay --at %s of %s · %s recorded %s on %s (Linux %s, cgroup %s) · glassbox %s",
		Clock(d), Clock(rec.Length()), hd.Command, hd.Started.UTC().Format("2006-01-02 15:04 MST"),
		hd.Host.Hostname, hd.Host.Kernel, hd.Host.CgroupMode, hd.Version)
	return strings.Join(lines, "\n") + "\n" + info + "\n"
}

// sizeAt is the recording's terminal size at d into it (100×30 when it
// recorded none).
func sizeAt(rec *Recording, d time.Duration) (int, int) {
	w, h := 100, 30
	for _, e := range rec.Entries {
		if e.At.Sub(rec.Start()) > d {
			break
		}
		if e.Size != nil && e.Size.Width > 0 {
			w, h = e.Size.Width, e.Size.Height
		}
	}
	return w, h
}

// HostNow are the facts of the machine a recording is made on that any
// OS can tell; the recorder adds the kernel's and the cgroups'.
func HostNow() Host {
	h, _ := os.Hostname()
	return Host{Hostname: h, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
}
