package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
)

// Records lists a store's records again and again, decoding a record only
// when its file's bytes changed since the previous List: for a caller that
// lists every second (the live view) and treats the records as read-only.
// Decoding was most of a listing's cost (a fifth of one refresh of the
// live view at 100 sandboxes); the files are still read each time, so a
// List is as fresh as Store.List. A record unchanged since the previous
// List is the same *Sandbox.
type Records struct {
	store *Store
	mu    sync.Mutex
	seen  map[string]decoded // by id
}

type decoded struct {
	data []byte
	sb   *Sandbox
}

// NewRecords returns a Records on s.
func NewRecords(s *Store) *Records { return &Records{store: s, seen: map[string]decoded{}} }

// List is Store.List: every readable record, oldest first.
func (r *Records) List() ([]*Sandbox, error) {
	entries, err := os.ReadDir(r.store.Roots.SandboxesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Sandbox
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id := e.Name()
		data, err := os.ReadFile(r.store.Roots.StateFile(id))
		if err != nil {
			continue
		}
		listed[id] = true
		if d, ok := r.seen[id]; ok && bytes.Equal(d.data, data) {
			out = append(out, d.sb)
			continue
		}
		var sb Sandbox
		if err := json.Unmarshal(data, &sb); err != nil {
			delete(r.seen, id)
			continue
		}
		r.seen[id] = decoded{data: data, sb: &sb}
		out = append(out, &sb)
	}
	for id := range r.seen {
		if !listed[id] {
			delete(r.seen, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}
