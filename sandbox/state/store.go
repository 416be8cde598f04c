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

// Resolve finds a sandbox by exact id, exact name, or unique id prefix, the
// way docker does. It reads whole records only for the sandbox it returns:
// an id is a directory name, and a name is found by reading each record's
// id and name (Names), so that every verb does not pay for parsing all
// records.
func (s *Store) Resolve(ref string) (*Sandbox, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty name", ErrNotFound)
	}
	if IsID(ref) {
		if sb, err := s.Load(ref); err == nil {
			return sb, nil
		}
	}
	names, err := s.Names()
	if err != nil {
		return nil, err
	}
	if id, ok := names[ref]; ok {
		return s.Load(id)
	}
	var byPrefix []string
	for _, id := range names {
		if id == ref {
			return s.Load(id)
		}
		if strings.HasPrefix(id, ref) {
			byPrefix = append(byPrefix, id)
		}
	}
	switch len(byPrefix) {
	case 1:
		return s.Load(byPrefix[0])
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	default:
		return nil, fmt.Errorf("%q matches %d sandboxes; give more of the id", ref, len(byPrefix))
	}
}

// Names maps the name of every recorded sandbox to its id. It decodes
// only those two fields of each record: what checking a new name and
// resolving a reference need, at a fraction of List's cost when there are
// many sandboxes.
func (s *Store) Names() (map[string]string, error) {
	entries, err := os.ReadDir(s.Roots.SandboxesDir())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	names := make(map[string]string, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		data, err := os.ReadFile(s.Roots.StateFile(e.Name()))
		if err != nil {
			continue // a crash between mkdir and the first save
		}
		var rec struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(data, &rec) != nil {
			continue
		}
		names[rec.Name] = e.Name()
	}
	return names, nil
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
