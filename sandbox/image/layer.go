package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"glassbox/sandbox/state"
)

// layerRecord is layers/<hex>/layer.json.
type layerRecord struct {
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
}

// layerDir is the directory of the layer with this digest ("sha256:<hex>").
func (s *Store) layerDir(digest string) string {
	return filepath.Join(s.Roots.LayersDir(), strings.TrimPrefix(digest, "sha256:"))
}

// layer returns the stored layer with this digest, as the runtime uses it.
func (s *Store) layer(digest string) (state.Layer, layerRecord, error) {
	dir := s.layerDir(digest)
	var rec layerRecord
	data, err := os.ReadFile(filepath.Join(dir, "layer.json"))
	if err != nil {
		return state.Layer{}, rec, fmt.Errorf("read layer %s: %w", digest, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return state.Layer{}, rec, fmt.Errorf("decode layer %s: %w", digest, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "fs")); err != nil || !fi.IsDir() {
		return state.Layer{}, rec, fmt.Errorf("layer %s has no fs directory", digest)
	}
	return state.Layer{Digest: rec.Digest, Dir: filepath.Join(dir, "fs"), CreatedBy: rec.CreatedBy, Size: rec.Size}, rec, nil
}

// putLayer builds a layer: fill populates an empty directory, the result is
// digested and stored under its digest. When a layer with that digest is
// already stored it is kept as it is (not rewritten) and the new copy is
// thrown away. Callers hold the build lock.
func (s *Store) putLayer(createdBy string, fill func(dir string) error) (state.Layer, layerRecord, error) {
	if err := os.MkdirAll(s.Roots.LayersDir(), 0o755); err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("create layer store: %w", err)
	}
	tmp, err := os.MkdirTemp(s.Roots.LayersDir(), ".build-")
	if err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("create layer build dir: %w", err)
	}
	defer os.RemoveAll(tmp) // nothing left of it once renamed into place
	root := filepath.Join(tmp, "fs")
	if err := os.Mkdir(root, 0o755); err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("create layer build dir: %w", err)
	}
	if err := fill(root); err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("build layer %q: %w", createdBy, err)
	}
	digest, size, err := Digest(root)
	if err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("digest layer %q: %w", createdBy, err)
	}
	if l, rec, err := s.layer(digest); err == nil {
		return l, rec, nil // stored already: reuse, don't rewrite
	}
	rec := layerRecord{Digest: digest, Size: size, CreatedBy: createdBy, Created: time.Now().UTC()}
	data, _ := json.MarshalIndent(rec, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "layer.json"), data, 0o644); err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("write layer record: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return state.Layer{}, layerRecord{}, fmt.Errorf("store layer %s: %w", digest, err)
	}
	final := s.layerDir(digest)
	// A half-stored layer (no layer.json: a crash of an older build) is
	// replaced; rename is atomic, so readers see all of a layer or none.
	if _, err := os.Stat(final); err == nil {
		if err := os.RemoveAll(final); err != nil {
			return state.Layer{}, layerRecord{}, fmt.Errorf("replace broken layer %s: %w", digest, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return state.Layer{}, layerRecord{}, fmt.Errorf("store layer %s: %w", digest, err)
	}
	l, rec, err := s.layer(digest)
	return l, rec, err
}

// Digest returns "sha256:<hex>" of the directory's content and the bytes of
// file content in it. The basis is a tar stream of the tree in lexical
// order with owners, times and the like left out, so the same content
// always has the same digest wherever and whenever it was built: names,
// types, permission bits, symlink targets and file contents count.
func Digest(root string) (string, int64, error) {
	h := sha256.New()
	tw := tar.NewWriter(h)
	var size int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: int64(info.Mode().Perm()), Format: tar.FormatPAX}
		if info.Mode()&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		switch {
		case info.Mode().IsRegular():
			hdr.Typeflag = tar.TypeReg
			hdr.Size = info.Size()
		case info.IsDir():
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case info.Mode()&fs.ModeSymlink != 0:
			hdr.Typeflag = tar.TypeSymlink
			if hdr.Linkname, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: only files, directories and symlinks may be in a layer", rel)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			n, err := io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
			if n != hdr.Size {
				return errors.New(rel + ": changed while being digested")
			}
			size += n
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	if err := tw.Close(); err != nil {
		return "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), size, nil
}
