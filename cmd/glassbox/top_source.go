package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

// topSource is what the live view reads (ui.Source): sandbox records from
// the lifecycle engine (which also notices sandboxes whose supervisor died),
// kernel views from one inspect.Inspector per running sandbox, kept open
// between snapshots so a refresh costs reads, not opens.
type topSource struct {
	Engine *lifecycle.Engine
	fs     inspect.FS
	// records lists the records every refresh, decoding only those that
	// changed since the last.
	records *lifecycle.Lister

	// ctx ends the OOM watches when the source closes.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	open    map[string]*inspector // by sandbox id
	foreign *foreign              // other engines' containers, when asked for (WithEngines)
}

type inspector struct {
	in      *inspect.Inspector
	initPID int
}

// newTopSource reads the sandboxes of e.
func newTopSource(e *lifecycle.Engine) (*topSource, error) {
	fs, err := inspect.Host()
	if err != nil {
		return nil, fmt.Errorf("open /proc and cgroupfs: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &topSource{Engine: e, fs: fs, records: e.NewLister(), ctx: ctx, cancel: cancel, open: map[string]*inspector{}}, nil
}

// List returns every sandbox, running or not, and other engines'
// containers when asked for (WithEngines).
func (l *topSource) List() ([]*state.Sandbox, error) {
	sbs, err := l.records.List()
	if err != nil {
		return nil, err
	}
	return append(sbs, l.foreignRecords()...), nil
}

// Snapshot reads one sandbox. A sandbox that is not running still gets a
// snapshot: its record (how it exited, OOMKilled or not) is what matters then.
func (l *topSource) Snapshot(sb *state.Sandbox) (*inspect.Snapshot, error) {
	if sb.Engine != "" {
		return l.snapshotForeign(sb)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.open[sb.ID]
	if cur != nil && (cur.initPID != sb.InitPID || (!sb.Status.Live())) {
		cur.in.Close() // restarted (a new init) or ended
		delete(l.open, sb.ID)
		cur = nil
	}
	bare := &inspect.Snapshot{Taken: time.Now(), Sandbox: sb, PID: sb.InitPID}
	if !sb.Status.Live() {
		return bare, nil
	}
	if cur == nil {
		in, err := inspect.New(l.fs, sb, l.Engine.Store())
		if err != nil {
			if errors.Is(err, inspect.ErrNotRunning) {
				return bare, nil // it ended between the record and /proc
			}
			return nil, fmt.Errorf("inspect %s: %w", sb.Name, err)
		}
		cur = &inspector{in: in, initPID: sb.InitPID}
		l.open[sb.ID] = cur
	}
	s, err := cur.in.Snapshot()
	if s == nil {
		return bare, nil
	}
	s.Sandbox = sb // the record as of now, not as of the Inspector's start
	if err != nil && !errors.Is(err, inspect.ErrNotRunning) && !errors.Is(err, inspect.ErrNoProcess) {
		return s, nil
	}
	return s, nil
}

// WatchOOM passes on the kernel's word of the OOM kills in a running
// sandbox's memory cgroup (ui.OOMWatcher), through the Inspector that reads
// it: an eventfd on v1, inotify on v2.
func (l *topSource) WatchOOM(sb *state.Sandbox) (<-chan inspect.OOMEvent, error) {
	l.mu.Lock()
	cur := l.open[sb.ID]
	l.mu.Unlock()
	if cur == nil {
		return nil, fmt.Errorf("watch OOM of %s: it is not being read", sb.Name)
	}
	return cur.in.WatchOOM(l.ctx)
}

// Close ends the OOM watches and releases every Inspector's descriptors.
func (l *topSource) Close() {
	l.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, x := range l.open {
		x.in.Close()
		delete(l.open, id)
	}
}

// FollowLog follows a sandbox's log through the engine (ui.LogFollower),
// as glassbox logs -f --tail N does: the workload's output, not the
// supervisor's notes.
func (l *topSource) FollowLog(ctx context.Context, ref string, tail int, line func(ui.LogLine)) error {
	if engine, _, ok := inspect.ParseRef(ref); ok {
		return fmt.Errorf("%s is %s's container: glassbox reads its kernel side, its log is %s's (%s logs)", ref, engine, engine, engineTool(engine))
	}
	opts := lifecycle.LogOptions{Follow: true, Tail: tail, Emit: func(e lifecycle.Entry) error {
		line(ui.LogLine{Time: e.Time, Stream: e.Stream, Text: e.Line})
		return ctx.Err()
	}}
	err := l.Engine.Logs(ctx, ref, opts, io.Discard)
	if errors.Is(err, context.Canceled) {
		return nil // the view was closed
	}
	return err
}

var (
	_ ui.OOMWatcher  = (*topSource)(nil)
	_ ui.LogFollower = (*topSource)(nil)
)
