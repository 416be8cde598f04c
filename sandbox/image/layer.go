package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"glassbox/sandbox/state"
)

// layerRecord is layers/<hex>/layer.json: what the store knows of a layer
// besides its content (layers/<hex>/fs).
type layerRecord struct {
	DiffID    string    `json:"diff_id"`  // sha256:<hex> of its canonical tar
	Size      int64     `json:"size"`     // bytes of file content
	Files     int       `json:"files"`    // entries, whiteouts included
	TarSize   int64     `json:"tar_size"` // bytes of its canonical tar
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	// Opaque lists the layer's opaque directories, so that readers without
	// root (who cannot see trusted.* attributes) merge it right. Records
	// written before it was kept lack it (nil); a layer without any has [].
	Opaque []string `json:"opaque_dirs"`
}

// stagingPrefix names layer directories being made (below LayersDir); they
// exist only while the store lock is held, so one found by the holder of
// the lock is a leftover of a killed process.
const stagingPrefix = ".staging-"

// layerDir is the directory of the layer with this diffID ("sha256:<hex>").
func (s *Store) layerDir(diffID string) string {
	return filepath.Join(s.Roots.LayersDir(), strings.TrimPrefix(diffID, "sha256:"))
}

// Layer returns the stored layer with this diffID, as the runtime uses it.
func (s *Store) Layer(diffID string) (state.Layer, error) {
	l, _, err := s.layer(diffID)
	return l, err
}

func (s *Store) layer(diffID string) (state.Layer, layerRecord, error) {
	dir := s.layerDir(diffID)
	var rec layerRecord
	data, err := os.ReadFile(filepath.Join(dir, "layer.json"))
	if err != nil {
		return state.Layer{}, rec, fmt.Errorf("read layer %s: %w", diffID, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil || rec.DiffID != diffID {
		return state.Layer{}, rec, fmt.Errorf("layer %s: broken record %s", diffID, filepath.Join(dir, "layer.json"))
	}
	return state.Layer{Digest: rec.DiffID, Dir: filepath.Join(dir, "fs"), CreatedBy: rec.CreatedBy, Size: rec.Size}, rec, nil
}

// Staging is a layer being made: fill Dir (or Adopt a directory), then
// Commit it to the store under its diffID, or Discard it. Callers hold the
// store lock.
type Staging struct {
	s   *Store
	tmp string
	// Dir is the layer's root directory, empty at first.
	Dir string
}

// StageLayer starts a new layer in the store's own file system, so that
// Commit is a rename.
func (s *Store) StageLayer() (*Staging, error) {
	if err := os.MkdirAll(s.Roots.LayersDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create layer store: %w", err)
	}
	tmp, err := os.MkdirTemp(s.Roots.LayersDir(), stagingPrefix)
	if err != nil {
		return nil, fmt.Errorf("create a layer: %w", err)
	}
	st := &Staging{s: s, tmp: tmp, Dir: filepath.Join(tmp, "fs")}
	if err := os.Mkdir(st.Dir, 0o755); err != nil {
		st.Discard()
		return nil, fmt.Errorf("create a layer: %w", err)
	}
	return st, nil
}

// Adopt makes dir (on the store's file system: a sandbox's writable layer)
// the layer's content, moving it.
func (st *Staging) Adopt(dir string) error {
	if err := os.Remove(st.Dir); err != nil {
		return err
	}
	if err := os.Rename(dir, st.Dir); err != nil {
		return fmt.Errorf("move %s into the layer store: %w", dir, err)
	}
	return nil
}

// Discard removes what was staged.
func (st *Staging) Discard() {
	if st.tmp != "" {
		os.RemoveAll(st.tmp)
		st.tmp = ""
	}
}

// Commit digests the staged content and stores it as the layer with that
// diffID. A layer already stored under it is kept as it is — same
// directory, same inodes for every image and sandbox that uses it — and
// the staged copy is thrown away.
func (st *Staging) Commit(createdBy string) (state.Layer, error) {
	defer st.Discard()
	if err := os.Chmod(st.Dir, 0o755); err != nil && !errors.Is(err, os.ErrNotExist) {
		return state.Layer{}, err
	}
	diffID, stats, err := DiffID(st.Dir)
	if err != nil {
		return state.Layer{}, fmt.Errorf("digest layer %q: %w", createdBy, err)
	}
	s := st.s
	if l, err := s.Layer(diffID); err == nil {
		return l, nil
	}
	rec := layerRecord{DiffID: diffID, Size: stats.Size, Files: stats.Files, TarSize: stats.TarSize, CreatedBy: createdBy, Created: time.Now().UTC(),
		Opaque: append([]string{}, stats.Opaque...)}
	data, _ := json.MarshalIndent(rec, "", "  ")
	if err := os.WriteFile(filepath.Join(st.tmp, "layer.json"), data, 0o644); err != nil {
		return state.Layer{}, fmt.Errorf("write layer record: %w", err)
	}
	if err := os.Chmod(st.tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return state.Layer{}, err
	}
	final := s.layerDir(diffID)
	// A layer without a readable record is a leftover: replace it. Rename
	// is atomic, so readers see all of a layer or none of it.
	if _, err := os.Lstat(final); err == nil {
		if err := os.RemoveAll(final); err != nil {
			return state.Layer{}, fmt.Errorf("replace broken layer %s: %w", diffID, err)
		}
	}
	if err := os.Rename(st.tmp, final); err != nil {
		return state.Layer{}, fmt.Errorf("store layer %s: %w", diffID, err)
	}
	st.tmp = ""
	return s.Layer(diffID)
}

// putLayer makes a layer with fill and stores it (see Commit).
func (s *Store) putLayer(createdBy string, fill func(dir string) error) (state.Layer, error) {
	st, err := s.StageLayer()
	if err != nil {
		return state.Layer{}, err
	}
	defer st.Discard()
	if err := fill(st.Dir); err != nil {
		return state.Layer{}, fmt.Errorf("build layer %q: %w", createdBy, err)
	}
	return st.Commit(createdBy)
}

// removeStaging removes what killed processes left of layers being made.
// The caller holds the store lock, so no live process is making one.
func (s *Store) removeStaging() {
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPrefix) {
			os.RemoveAll(filepath.Join(s.Roots.LayersDir(), e.Name()))
		}
	}
}
