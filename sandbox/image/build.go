package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// record is images/<name>.json: the image and what it was built from.
type record struct {
	Image   *Image  `json:"image"`
	Sources []stamp `json:"sources"` // the main file first (Self, busybox), then the libraries it needs
}

// stamp identifies a version of a file cheaply: if none of these changed,
// the file's content is taken to be the same and nothing is hashed.
type stamp struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	CTime   int64  `json:"ctime_ns"`
	Ino     uint64 `json:"ino"`
	Dev     uint64 `json:"dev"`
}

func stampOf(path string) (stamp, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return stamp{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return stamp{
		Path: path, Size: st.Size, Ino: st.Ino, Dev: uint64(st.Dev),
		ModTime: st.Mtim.Nano(), CTime: st.Ctim.Nano(),
	}, nil
}

// builtinImage returns a built-in image, building it when it is missing,
// when a layer it names is gone, or when a host file it carries changed
// since it was built.
func (s *Store) builtinImage(b *builtin) (*Image, error) {
	src := b.source(s)
	if im, ok := s.current(b.name, src); ok {
		return im, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another process may have built it while we waited for the lock.
	if im, ok := s.current(b.name, src); ok {
		return im, nil
	}
	return b.build(s, b.name)
}

// lock takes the store's build lock (flock on images/.lock), which keeps two
// glassbox processes from building at once.
func (s *Store) lock() (func(), error) {
	if err := os.MkdirAll(s.Roots.ImagesDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create image store: %w", err)
	}
	p := filepath.Join(s.Roots.ImagesDir(), ".lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open image store lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock image store %s: %w", p, err)
	}
	return func() { f.Close() }, nil // closing the file drops the lock
}

// current returns the stored image when it is still what building it now
// would give: it was built from main, its sources carry the same stamps and
// all its layers are in the store.
func (s *Store) current(name, main string) (*Image, bool) {
	data, err := os.ReadFile(s.imageFile(name))
	if err != nil {
		return nil, false
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil || rec.Image == nil || len(rec.Sources) == 0 {
		return nil, false
	}
	if rec.Sources[0].Path != main {
		return nil, false
	}
	for _, want := range rec.Sources {
		if got, err := stampOf(want.Path); err != nil || got != want {
			return nil, false
		}
	}
	im := rec.Image
	for i, l := range im.Layers {
		// The record has the layer's facts; only check it is still stored
		// (a layer dir appears by rename, complete, so a stat will do).
		dir := filepath.Join(s.layerDir(l.Digest), "fs")
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, false
		}
		im.Layers[i].Dir = dir // follows the roots in force now
	}
	return im, true
}

// stampAll stamps the files an image is built from.
func stampAll(paths []string) ([]stamp, error) {
	out := make([]stamp, 0, len(paths))
	for _, p := range paths {
		st, err := stampOf(p)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// storeBuiltin gives the image its ID and writes its record.
func (s *Store) storeBuiltin(im *Image, sources []stamp) (*Image, error) {
	im.ID = imageID(im)
	data, err := json.MarshalIndent(record{Image: im, Sources: sources}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode image %s: %w", im.Name, err)
	}
	if err := writeAtomic(s.imageFile(im.Name), data); err != nil {
		return nil, fmt.Errorf("store image %s: %w", im.Name, err)
	}
	return im, nil
}

// imageID is the sha256 of what defines the image's content: its
// configuration and its layers' digests in order (not the build times).
func imageID(im *Image) string {
	var diffIDs []string
	for _, l := range im.Layers {
		diffIDs = append(diffIDs, l.Digest)
	}
	data, _ := json.Marshal(struct {
		Config Config   `json:"config"`
		Layers []string `json:"layers"`
	}{im.Config, diffIDs})
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func baseNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return strings.Join(names, " ")
}

// copyFile copies src (following symlinks) to dst, creating dst's parents.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode) // the umask may have narrowed it
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
