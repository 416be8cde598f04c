package build

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// executor carries out planned steps, under the store's lock.
type executor struct {
	store   *image.Store
	opts    *Options
	cache   *cache
	total   int
	created time.Time
}

// partial is the image as far as the steps so far made it.
type partial struct {
	layers  []state.Layer
	history []image.History
	config  image.Config
}

func (x *executor) run(ctx context.Context, steps []*step, res *Result) (*image.Image, error) {
	var im partial
	parent := ""
	missed := 0 // the first step that missed, 0 if none yet
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x.opts.emit(Event{Kind: StepStart, Step: st.n, Total: x.total, Text: st.text})
		k := key(parent, st)
		t0 := time.Now()
		if st.kind == kindFrom {
			im = partial{config: cloneConfig(st.from.Config)}
			im.layers = append(im.layers, st.from.Layers...)
			for _, h := range st.from.History {
				h.Build = nil
				im.history = append(im.history, h)
			}
			x.created = st.from.Created
			parent = k
			x.opts.emit(Event{Kind: StepDone, Step: st.n, Text: st.from.ShortID(), Took: time.Since(t0)})
			continue
		}
		rec := &image.StepRecord{CacheKey: k}
		e, hit := x.lookup(k)
		switch {
		case hit:
			rec.Cached = true
			res.Cached++
			x.opts.emit(Event{Kind: CacheHit, Step: st.n})
		default:
			switch {
			case x.opts.NoCache:
				rec.Why = "--no-cache"
			case missed > 0:
				rec.Why = fmt.Sprintf("invalidated by step %d", missed)
			default:
				rec.Why = x.cache.explain(parent, st)
			}
			if missed == 0 {
				missed = st.n
			}
			x.opts.emit(Event{Kind: CacheMiss, Step: st.n, Text: rec.Why})
			var err error
			if e, err = x.make(ctx, st, &im, k); err != nil {
				return nil, err
			}
			if err := x.cache.put(parent, st, e); err != nil {
				return nil, err
			}
			res.Rebuilt++
		}
		rec.Duration = time.Since(t0)
		h := image.History{CreatedBy: st.text, Created: e.Created, EmptyLayer: e.Layer == "", Build: rec}
		var size int64
		if e.Layer != "" {
			l, err := x.store.Layer(e.Layer)
			if err != nil {
				return nil, err
			}
			im.layers = append(im.layers, l)
			h.Layer, h.Size, size = l.Digest, l.Size, l.Size
			if !hit {
				res.NewBytes += l.Size
			}
		}
		im.history = append(im.history, h)
		im.config = cloneConfig(st.config)
		x.created = e.Created
		parent = k
		x.opts.emit(Event{Kind: StepDone, Step: st.n, Layer: e.Layer, Size: size, Took: rec.Duration})
	}
	return &image.Image{Layers: im.layers, History: im.history, Config: im.config}, nil
}

// lookup is a cache hit only when the layer it names is still stored.
func (x *executor) lookup(k string) (*entry, bool) {
	if x.opts.NoCache {
		return nil, false
	}
	e, ok := x.cache.get(k)
	if !ok {
		return nil, false
	}
	if e.Layer != "" {
		if _, err := x.store.Layer(e.Layer); err != nil {
			return nil, false
		}
	}
	return e, true
}

// make carries out a step that missed the cache.
func (x *executor) make(ctx context.Context, st *step, im *partial, k string) (*entry, error) {
	t0 := time.Now()
	e := &entry{Key: k, Created: t0.UTC()}
	var l state.Layer
	var err error
	switch st.kind {
	case kindConfig:
		return e, nil
	case kindMkdir:
		l, err = x.layer(st, func(dir string) error {
			if err := image.MkdirParents(dir, st.dir+"/x"); err != nil {
				return err
			}
			return nil
		})
	case kindCopy:
		ctxDir := x.opts.Context
		if abs, err := filepath.EvalSymlinks(ctxDir); err == nil {
			ctxDir = abs
		}
		var copied int64
		last := time.Now()
		l, err = x.layer(st, func(dir string) error {
			for i := range st.copies {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := st.copies[i].apply(ctxDir, dir, func(n int64) {
					copied += n
					if time.Since(last) > 100*time.Millisecond {
						last = time.Now()
						x.opts.emit(Event{Kind: Progress, Step: st.n, Size: copied})
					}
				}); err != nil {
					return fmt.Errorf("%s: %w", st.copies[i].src.rel, err)
				}
			}
			return nil
		})
	case kindRun:
		l, err = x.runStep(ctx, st, im)
	}
	if err != nil {
		return nil, err
	}
	e.Layer = l.Digest
	e.Took = time.Since(t0)
	return e, nil
}

// layer makes a layer with fill and stores it.
func (x *executor) layer(st *step, fill func(dir string) error) (state.Layer, error) {
	stg, err := x.store.StageLayer()
	if err != nil {
		return state.Layer{}, err
	}
	defer stg.Discard()
	if err := fill(stg.Dir); err != nil {
		return state.Layer{}, fmt.Errorf("step %d: %w", st.n, err)
	}
	return stg.Commit(st.text)
}

// mountPoints are what the runtime creates in a sandbox's root when the
// image lacks them: mount points and the files it bind-mounts over.
var mountPoints = []struct {
	path string
	dir  bool
}{
	{"/proc", true}, {"/dev", true}, {"/sys", true}, {"/tmp", true}, {"/etc", true},
	{"/etc/hostname", false}, {"/etc/hosts", false}, {"/etc/resolv.conf", false},
}

// runStep runs a RUN in a sandbox: the layers so far as lowers, under an
// "init" layer that holds the mount points the image lacks (as docker's
// init layer does), so the runtime's own mkdirs and touches never reach the
// fresh upper directory — which becomes the layer, whiteouts and opaque
// directories as overlayfs made them.
func (x *executor) runStep(ctx context.Context, st *step, im *partial) (state.Layer, error) {
	initLayer, err := x.store.StageLayer()
	if err != nil {
		return state.Layer{}, err
	}
	defer initLayer.Discard()
	lowers := layersTopFirst(im.layers)
	for _, mp := range mountPoints {
		if _, ok := image.Lookup(lowers, mp.path); ok {
			continue
		}
		p := filepath.Join(initLayer.Dir, mp.path)
		if mp.dir {
			err = os.MkdirAll(p, 0o755)
		} else {
			err = os.WriteFile(p, nil, 0o644)
		}
		if err != nil {
			return state.Layer{}, fmt.Errorf("step %d: prepare the sandbox: %w", st.n, err)
		}
	}
	layers := append([]state.Layer{{Digest: "init", Dir: initLayer.Dir, CreatedBy: "mount points"}}, lowers...)
	if len(lowers) == 0 {
		return state.Layer{}, fmt.Errorf("step %d: RUN needs an image with a shell: FROM scratch has none (FROM busybox has)", st.n)
	}
	netMode := sandbox.NetworkNone
	if x.opts.Network == "host" {
		netMode = sandbox.NetworkHost
	}
	cfg := &sandbox.Config{
		Roots: x.store.Roots, Image: "build step", Layers: layers, Args: st.argv, Env: st.runEnv,
		WorkDir: orRoot(st.config.WorkingDir), User: st.config.User, Network: netMode, InitBinary: x.opts.InitBinary,
	}
	if err := cfg.Validate(); err != nil {
		return state.Layer{}, fmt.Errorf("step %d: %w", st.n, err)
	}
	x.opts.emit(Event{Kind: Running, Step: st.n, Text: cfg.ID})
	r, w, err := os.Pipe()
	if err != nil {
		return state.Layer{}, err
	}
	tail := &lines{max: 40}
	var read sync.WaitGroup
	read.Add(1)
	go func() {
		defer read.Done()
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			tail.add(sc.Text())
			x.opts.emit(Event{Kind: Output, Step: st.n, Text: sc.Text()})
		}
	}()
	null, _ := os.Open(os.DevNull)
	c, err := sandbox.Start(cfg, sandbox.Stdio{In: null, Out: w, Err: w})
	w.Close()
	null.Close()
	if err != nil {
		read.Wait()
		return state.Layer{}, fmt.Errorf("step %d: start the sandbox: %w", st.n, err)
	}
	defer c.Destroy()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			c.Signal(syscall.SIGKILL)
		case <-done:
		}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	go func() {
		for {
			select {
			case <-tick.C:
				x.opts.emit(Event{Kind: Progress, Step: st.n})
			case <-done:
				return
			}
		}
	}()
	exit, werr := c.Wait()
	close(done)
	tick.Stop()
	read.Wait()
	if err := ctx.Err(); err != nil {
		return state.Layer{}, err
	}
	if werr != nil {
		return state.Layer{}, fmt.Errorf("step %d: %w", st.n, werr)
	}
	if exit == nil || exit.Code != 0 {
		code := 1
		if exit != nil {
			code = exit.Code
		}
		return state.Layer{}, &RunError{Step: st.n, Command: strings.Join(st.argv, " "), Code: code, Output: tail.String()}
	}
	// The sandbox's processes are gone and with them its mounts: its upper
	// directory is a plain directory now, and becomes the layer.
	stg, err := x.store.StageLayer()
	if err != nil {
		return state.Layer{}, err
	}
	defer stg.Discard()
	if err := stg.Adopt(c.State().UpperDir); err != nil {
		return state.Layer{}, fmt.Errorf("step %d: %w", st.n, err)
	}
	if err := c.Destroy(); err != nil {
		return state.Layer{}, fmt.Errorf("step %d: remove the sandbox: %w", st.n, err)
	}
	l, err := stg.Commit(st.text)
	if err != nil {
		return state.Layer{}, fmt.Errorf("step %d: %w", st.n, err)
	}
	return l, nil
}

// lines keeps the last max lines written.
type lines struct {
	mu  sync.Mutex
	max int
	l   []string
}

func (t *lines) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.l = append(t.l, s)
	if len(t.l) > t.max {
		t.l = t.l[1:]
	}
}

func (t *lines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.l, "\n")
}
