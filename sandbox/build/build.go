// Package build runs `glassbox build`: a Dockerfile (the subset package
// dockerfile reads) turned into an image in glassbox's store, one layer
// per RUN, COPY and ADD, with a cache that says why it missed.
//
// Every step is planned and checked first — substitution, sources in the
// context, the base image, the tags — so bad input creates nothing. Then,
// under the store's lock, each step either takes its layer from the cache
// (same key: the parent's key, the instruction after substitution, the
// configuration in effect and, for COPY/ADD, the sources' content, modes
// and owners) or is made anew: COPY/ADD write a fresh layer directly; RUN
// runs in a glassbox sandbox whose lowers are the layers so far and whose
// fresh upper directory becomes the layer.
package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"glassbox/sandbox/build/dockerfile"
	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// Options are what `glassbox build` was asked.
type Options struct {
	Context    string            // the build context directory
	Dockerfile string            // default: Context/Dockerfile
	Tags       []string          // NAME[:TAG], each checked before anything is built
	NoCache    bool              // rebuild every step
	BuildArgs  map[string]string // --build-arg K=V
	Network    string            // "none" (default) or "host", for RUN
	// InitBinary is the glassbox binary the RUN sandboxes' init is;
	// /proc/self/exe when empty (tests set it).
	InitBinary string
	// Events, when set, receives the build's progress as it happens.
	Events func(Event)
}

// Result is a finished build.
type Result struct {
	Image    *image.Image
	Steps    int
	Cached   int
	Rebuilt  int
	NewBytes int64 // bytes of the layers this build made
	Duration time.Duration
	Notes    []string // e.g. parser directives ignored, build args unused
}

// Build builds the image. A failing RUN returns a *RunError; ctx being
// cancelled (Ctrl-C) stops the running step. In every failure nothing is
// left: no sandbox, no upper directory, no half-made layer, no tag.
func Build(ctx context.Context, store *image.Store, o Options) (*Result, error) {
	start := time.Now()
	if o.Network == "" {
		o.Network = "none"
	}
	if o.Network != "none" && o.Network != "host" {
		return nil, fmt.Errorf("--network %q: a build's RUN steps run with none (the default) or host", o.Network)
	}
	for _, t := range o.Tags {
		if _, _, err := image.ParseReference(t); err != nil {
			return nil, fmt.Errorf("-t %s: %w", t, err)
		}
		if image.IsBuiltinName(t) {
			return nil, fmt.Errorf("-t %s: %s is a built-in image's name; choose another", t, strings.SplitN(t, ":", 2)[0])
		}
	}
	bctx, err := openContext(o.Context)
	if err != nil {
		return nil, err
	}
	dfPath := o.Dockerfile
	if dfPath == "" {
		dfPath = filepath.Join(bctx.dir, "Dockerfile")
	}
	f, err := os.Open(dfPath)
	if err != nil {
		return nil, fmt.Errorf("read the Dockerfile: %w", err)
	}
	df, err := dockerfile.Parse(displayName(dfPath, bctx.dir), f)
	f.Close()
	if err != nil {
		return nil, err
	}
	p := &planner{store: store, ctx: bctx, df: df, opts: &o}
	steps, err := p.plan()
	if err != nil {
		return nil, err
	}
	res := &Result{Steps: len(steps), Notes: append(df.Notes, p.unusedArgs()...)}

	unlock, err := store.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	x := &executor{store: store, opts: &o, cache: newCache(store.Roots), total: len(steps)}
	im, err := x.run(ctx, steps, res)
	if err != nil {
		return nil, err
	}
	im.Created = x.created
	stored, err := store.Put(im, o.Tags)
	if err != nil {
		return nil, err
	}
	res.Image = stored
	res.Duration = time.Since(start)
	return res, nil
}

// displayName is the Dockerfile's name as errors show it.
func displayName(path, contextDir string) string {
	if rel, err := filepath.Rel(contextDir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// RunError is a RUN step whose command failed.
type RunError struct {
	Step    int
	Command string
	Code    int
	Output  string // the last lines it printed
}

func (e *RunError) Error() string {
	return fmt.Sprintf("step %d: the command '%s' returned a non-zero code: %d", e.Step, e.Command, e.Code)
}

// Event is one thing the build tells as it goes.
type Event struct {
	Kind  EventKind
	Step  int
	Total int
	Text  string        // the instruction (StepStart), the reason (CacheMiss), a line (Output)
	Layer string        // StepDone: the layer's diffID ("" for config-only steps)
	Size  int64         // StepDone: bytes of the layer; Progress: bytes copied so far
	Took  time.Duration // StepDone
}

// EventKind says what an Event is.
type EventKind int

const (
	StepStart EventKind = iota
	CacheHit
	CacheMiss
	Running  // a RUN's sandbox started (Text: its id)
	Output   // a line a RUN printed
	Progress // a RUN or COPY is still working (Size: bytes so far, for COPY)
	StepDone
)

func (o *Options) emit(e Event) {
	if o.Events != nil {
		o.Events(e)
	}
}

// layersTopFirst turns base-first layers into the runtime's order.
func layersTopFirst(layers []state.Layer) []state.Layer {
	out := make([]state.Layer, len(layers))
	for i, l := range layers {
		out[len(layers)-1-i] = l
	}
	return out
}
