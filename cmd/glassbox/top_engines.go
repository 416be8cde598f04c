package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"glassbox/inspect"
	"glassbox/inspect/engines"
	"glassbox/sandbox/state"
)

// foreign is what topSource knows of other engines' containers: the last look,
// and when it was taken. Looking means asking every engine (a /proc scan,
// API calls), so it is done at most once per foreignEvery.
type foreign struct {
	places engines.Places
	found  engines.Found
	at     time.Time
}

const foreignEvery = 2 * time.Second

// WithEngines makes topSource list other engines' containers beside glassbox's
// sandboxes, as read-only records (state.Sandbox.Engine set, id and name
// the container's ref, docker:NAME…), looked for at places.
func (l *topSource) WithEngines(places engines.Places) *topSource {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.foreign = &foreign{places: places}
	return l
}

// foreignRecords looks for other engines' containers (when asked to, and
// not too often) and returns their records.
func (l *topSource) foreignRecords() []*state.Sandbox {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.foreign
	if f == nil {
		return nil
	}
	if f.at.IsZero() || time.Since(f.at) >= foreignEvery {
		f.found = engines.Discover(context.Background(), f.places)
		f.at = time.Now()
	}
	out := make([]*state.Sandbox, 0, len(f.found.Containers))
	for _, c := range f.found.Containers {
		out = append(out, c.Record())
	}
	return out
}

// snapshotForeign reads another engine's container, through an Inspector
// kept open while its first process lives.
func (l *topSource) snapshotForeign(sb *state.Sandbox) (*inspect.Snapshot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c *inspect.Container
	if l.foreign != nil {
		for _, x := range l.foreign.found.Containers {
			if x.Ref() == sb.ID {
				c = x
			}
		}
	}
	cur := l.open[sb.ID]
	if cur != nil && (c == nil || cur.initPID != c.PID) {
		cur.in.Close()
		delete(l.open, sb.ID)
		cur = nil
	}
	bare := &inspect.Snapshot{Taken: time.Now(), Sandbox: sb, Container: c, PID: sb.InitPID}
	if c == nil || !c.Running() {
		return bare, nil
	}
	if cur == nil {
		in, err := inspect.ForContainer(l.fs, c)
		if err != nil {
			if errors.Is(err, inspect.ErrNotRunning) || errors.Is(err, inspect.ErrNoProcess) {
				return bare, nil
			}
			return nil, fmt.Errorf("inspect %s: %w", sb.Name, err)
		}
		cur = &inspector{in: in, initPID: c.PID}
		l.open[sb.ID] = cur
	}
	s, _ := cur.in.Snapshot()
	if s == nil {
		return bare, nil
	}
	s.Sandbox = sb // the UI keys and names every box by its record
	return s, nil
}
