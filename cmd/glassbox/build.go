package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"glassbox/sandbox/build"
	"glassbox/sandbox/image"
	"glassbox/ui/words"
)

func init() { verb("build", newBuildCmd) }

func newBuildCmd() *cobra.Command {
	var (
		tags, buildArgs      []string
		file, network, progr string
		noCache, quiet       bool
	)
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] CONTEXT",
		Short: "Build an image from a Dockerfile, with a cache that says why it missed",
		Long: `Build an image from the Dockerfile in CONTEXT (or -f FILE), offline. Every
RUN, COPY and ADD makes a layer; RUN runs in a glassbox sandbox whose
upper directory becomes the layer. A step whose cache key (the step
before it, the instruction, the environment and working directory, and
for COPY/ADD the content, mode and owner of every source file) was built
before takes its layer from the cache ("Using cache"); a step that
misses says why. FROM may name scratch or any local image (busybox is
built in). The Dockerfile subset: FROM RUN COPY ADD ENV ARG WORKDIR
EXPOSE USER LABEL CMD ENTRYPOINT HEALTHCHECK.`,
		Example: `  glassbox build -t app .
  glassbox build -t app:v2 --build-arg VERSION=2 -f Dockerfile.dev .
  glassbox build -q --no-cache .`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bargs := map[string]string{}
			for _, kv := range buildArgs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					// docker takes K alone from the environment
					v, ok = os.LookupEnv(k)
					if !ok {
						continue
					}
				}
				if k == "" {
					return fmt.Errorf("invalid --build-arg %q: want KEY=VALUE", kv)
				}
				bargs[k] = v
			}
			if progr != "auto" && progr != "plain" && progr != "tty" {
				return fmt.Errorf("invalid --progress %q: auto, plain or tty", progr)
			}
			out := &buildOutput{w: cmd.OutOrStdout(), quiet: quiet}
			out.live = progr == "tty" || (progr == "auto" && isTerminal(os.Stdout))
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			store := image.NewStore(stateRoots(cmd))
			res, err := build.Build(ctx, store, build.Options{
				Context: args[0], Dockerfile: file, Tags: tags, NoCache: noCache,
				BuildArgs: bargs, Network: network, Events: out.event,
			})
			out.endLine()
			if err != nil {
				var re *build.RunError
				if errors.As(err, &re) {
					if quiet && re.Output != "" {
						fmt.Fprintln(os.Stderr, re.Output)
					}
					fmt.Fprintln(os.Stderr, "glassbox:", err)
					return exitError{re.Code}
				}
				if ctx.Err() != nil {
					fmt.Fprintln(os.Stderr, "glassbox: build interrupted; nothing was tagged")
					return exitError{130}
				}
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintln(os.Stderr, n)
			}
			if quiet {
				fmt.Fprintln(cmd.OutOrStdout(), res.Image.ID)
				return nil
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Successfully built %s\n", res.Image.ShortID())
			for _, t := range res.Image.Tags {
				for _, want := range tags {
					if t == want || t == want+":latest" {
						fmt.Fprintf(w, "Successfully tagged %s\n", t)
					}
				}
			}
			fmt.Fprintf(w, "%d steps: %d cached, %d rebuilt, %s new, %s\n",
				res.Steps, res.Cached, res.Rebuilt, words.Bytes(res.NewBytes), res.Duration.Round(time.Millisecond))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&tags, "tag", "t", nil, "name and optionally a tag, NAME[:TAG] (repeatable)")
	fl.StringVarP(&file, "file", "f", "", "the Dockerfile (default: CONTEXT/Dockerfile)")
	fl.BoolVar(&noCache, "no-cache", false, "do not use the cache: rebuild every step")
	fl.StringArrayVar(&buildArgs, "build-arg", nil, "set a build-time variable, KEY=VALUE (repeatable)")
	fl.StringVar(&network, "network", "none", "network of the RUN steps: none, or host (sandboxes have no outbound NAT)")
	fl.StringVar(&progr, "progress", "auto", "progress output: auto, plain (for logs) or tty")
	fl.BoolVarP(&quiet, "quiet", "q", false, "print only the image ID")
	return cmd
}

func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// buildOutput prints the build's events in the shape docker build has,
// with a line that shows a RUN or a large COPY is still working.
type buildOutput struct {
	mu      sync.Mutex
	w       io.Writer
	quiet   bool
	live    bool
	started time.Time
	onLine  bool // a progress line is showing and must be cleared
	spin    int
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (o *buildOutput) event(e build.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.quiet {
		return
	}
	if e.Kind != build.Progress {
		o.clear()
	}
	switch e.Kind {
	case build.StepStart:
		o.started = time.Now()
		fmt.Fprintf(o.w, "Step %d/%d : %s\n", e.Step, e.Total, e.Text)
	case build.CacheHit:
		fmt.Fprintln(o.w, " ---> Using cache")
	case build.CacheMiss:
		fmt.Fprintf(o.w, " ---> cache miss: %s\n", e.Text)
	case build.Running:
		fmt.Fprintf(o.w, " ---> Running in %s\n", e.Text)
	case build.Output:
		fmt.Fprintln(o.w, e.Text)
	case build.Progress:
		if !o.live {
			return
		}
		o.spin++
		msg := fmt.Sprintf(" %s working… %s", spinner[o.spin%len(spinner)], time.Since(o.started).Round(100*time.Millisecond))
		if e.Size > 0 {
			msg += ", " + words.Bytes(e.Size) + " copied"
		}
		fmt.Fprint(o.w, "\r"+msg+"\x1b[K")
		o.onLine = true
	case build.StepDone:
		switch {
		case e.Text != "": // FROM: the base image
			fmt.Fprintf(o.w, " ---> %s\n", e.Text)
		case e.Layer == "":
			fmt.Fprintf(o.w, " ---> config only (0 B, %s)\n", roundTook(e.Took))
		default:
			fmt.Fprintf(o.w, " ---> %s (%s, %s)\n", image.ShortID(e.Layer), words.Bytes(e.Size), roundTook(e.Took))
		}
	}
}

func (o *buildOutput) clear() {
	if o.onLine {
		fmt.Fprint(o.w, "\r\x1b[K")
		o.onLine = false
	}
}

func (o *buildOutput) endLine() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clear()
}

func roundTook(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
