package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotFound is returned when no sandbox matches a name or id.
var ErrNotFound = errors.New("no such sandbox")

// Store reads and writes sandbox records below Roots.Run.
type Store struct {
	Roots Roots
}

// NewStore returns a store on the given roots.
func NewStore(r Roots) *Store { return &Store{Roots: r} }

// Save writes the record atomically (write to a temporary file, then rename),
// so a reader never sees half a record.
func (s *Store) Save(sb *Sandbox) error {
	dir := s.Roots.SandboxDir(sb.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state dir %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(sb, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state of %s: %w", sb.ID, err)
	}
	tmp, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write state of %s: %w", sb.ID, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write state of %s: %w", sb.ID, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state of %s: %w", sb.ID, err)
	}
	if err := os.Rename(tmp.Name(), s.Roots.StateFile(sb.ID)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state of %s: %w", sb.ID, err)
	}
	return nil
}

// Load reads the record of the sandbox with exactly this id.
func (s *Store) Load(id string) (*Sandbox, error) {
	data, err := os.ReadFile(s.Roots.StateFile(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	var sb Sandbox
	if err := json.Unmarshal(data, &sb); err != nil {
		return nil, fmt.Errorf("decode state of %s: %w", id, err)
	}
	return &sb, nil
}

// List returns every recorded sandbox, oldest first. Directories without a
// readable record (a crash between mkdir and the first save) are skipped.
func (s *Store) List() ([]*Sandbox, error) {
	entries, err := os.ReadDir(s.Roots.SandboxesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	var out []*Sandbox
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sb, err := s.Load(e.Name())
		if err != nil {
			continue
		}
		out = append(out, sb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Resolve finds a sandbox by exact name, exact id, or unique id prefix, the
// way docker does.
func (s *Store) Resolve(ref string) (*Sandbox, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty name", ErrNotFound)
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var byPrefix []*Sandbox
	for _, sb := range all {
		if sb.Name == ref || sb.ID == ref {
			return sb, nil
		}
		if strings.HasPrefix(sb.ID, ref) {
			byPrefix = append(byPrefix, sb)
		}
	}
	switch len(byPrefix) {
	case 1:
		return byPrefix[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	default:
		return nil, fmt.Errorf("%q matches %d sandboxes; give more of the id", ref, len(byPrefix))
	}
}

// Remove deletes a sandbox's state directory and everything in it, and
// then its lock file (see lock.go): the caller holds the lock, and lets go
// of it afterwards.
func (s *Store) Remove(id string) error {
	if id == "" || strings.ContainsAny(id, "/.") {
		return fmt.Errorf("remove state: bad id %q", id)
	}
	if err := os.RemoveAll(s.Roots.SandboxDir(id)); err != nil {
		return fmt.Errorf("remove state of %s: %w", id, err)
	}
	if err := os.Remove(s.LockPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the lock of %s: %w", id, err)
	}
	return nil
}

// LockPath is the lock file of sandbox id.
func (s *Store) LockPath(id string) string {
	return filepath.Join(s.Roots.SandboxesDir(), id+".lock")
}

// Path of the file with the given name inside a sandbox's state directory.
func (s *Store) Path(id, name string) string {
	return filepath.Join(s.Roots.SandboxDir(id), name)
}
