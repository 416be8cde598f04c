package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// imageRecord is images/<hex>/image.json: what glassbox keeps beside an
// image's configuration.
type imageRecord struct {
	// Steps has one entry per history entry: how a glassbox build made
	// it (nil where the image was not built by glassbox).
	Steps []*StepRecord `json:"steps,omitempty"`
	// Builtin names the built-in image this is, and Sources the host
	// files it was assembled from, the main one first.
	Builtin string  `json:"builtin,omitempty"`
	Sources []stamp `json:"sources,omitempty"`
}

func (s *Store) imageDir(id string) string {
	return filepath.Join(s.Roots.ImagesDir(), strings.TrimPrefix(id, "sha256:"))
}

func (s *Store) tagsFile() string { return filepath.Join(s.Roots.ImagesDir(), "tags.json") }

// imageIDs lists the IDs of the stored images.
func (s *Store) imageIDs() ([]string, error) {
	entries, err := os.ReadDir(s.Roots.ImagesDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 64 && isHex(e.Name()) {
			ids = append(ids, "sha256:"+e.Name())
		}
	}
	return ids, nil
}

// readImage reads an image and its layers' records.
func (s *Store) readImage(id string) (*Image, *imageRecord, error) {
	dir := s.imageDir(id)
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("read image %s: %w", ShortID(id), err)
	}
	if sum := sha256.Sum256(raw); "sha256:"+hex.EncodeToString(sum[:]) != id {
		return nil, nil, fmt.Errorf("image %s: its configuration does not match its ID (damaged store?)", ShortID(id))
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("decode image %s: %w", ShortID(id), err)
	}
	var rec imageRecord
	if data, err := os.ReadFile(filepath.Join(dir, "image.json")); err == nil {
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, nil, fmt.Errorf("decode image %s record: %w", ShortID(id), err)
		}
	}
	im := &Image{ID: id, Created: cf.Created.Time, Architecture: cf.Architecture, OS: cf.OS, Builtin: rec.Builtin}
	var diffIDs []string
	im.Config, im.History, diffIDs = fromConfigFile(cf)
	for _, d := range diffIDs {
		l, err := s.Layer(d)
		if err != nil {
			return nil, nil, fmt.Errorf("image %s: %w", ShortID(id), err)
		}
		im.Layers = append(im.Layers, l)
	}
	for i := range im.History {
		if i < len(rec.Steps) {
			im.History[i].Build = rec.Steps[i]
		}
		if l := im.History[i].Layer; l != "" {
			for _, x := range im.Layers {
				if x.Digest == l {
					im.History[i].Size = x.Size
				}
			}
		}
	}
	tags, err := s.readTags()
	if err != nil {
		return nil, nil, err
	}
	for ref, tid := range tags {
		if tid == id {
			im.Tags = append(im.Tags, ref)
		}
	}
	slices.Sort(im.Tags)
	return im, &rec, nil
}

// writeImage stores an image made of im's layers, config and history and
// returns its ID. The configuration's bytes are the ID; the record beside
// them is replaced (a rebuild of the same image keeps the ID but may have
// taken other steps from the cache). Callers hold the store lock.
func (s *Store) writeImage(im *Image, rec *imageRecord) (string, error) {
	var diffIDs []string
	for _, l := range im.Layers {
		diffIDs = append(diffIDs, l.Digest)
	}
	cf, err := toConfigFile(im.Config, im.History, diffIDs, im.Created)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(cf)
	if err != nil {
		return "", fmt.Errorf("encode image configuration: %w", err)
	}
	return s.writeRawImage(raw, rec)
}

// writeRawImage stores an OCI configuration as it is (its layers must be
// stored already) with glassbox's record beside it.
func (s *Store) writeRawImage(raw []byte, rec *imageRecord) (string, error) {
	sum := sha256.Sum256(raw)
	id := "sha256:" + hex.EncodeToString(sum[:])
	dir := s.imageDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("store image %s: %w", ShortID(id), err)
	}
	data, _ := json.MarshalIndent(rec, "", "  ")
	// The record first: a config.json without one is a complete image of
	// a kind glassbox did not build; the reverse would be a record of nothing.
	if err := writeAtomic(filepath.Join(dir, "image.json"), data); err != nil {
		return "", fmt.Errorf("store image %s: %w", ShortID(id), err)
	}
	if err := writeAtomic(filepath.Join(dir, "config.json"), raw); err != nil {
		return "", fmt.Errorf("store image %s: %w", ShortID(id), err)
	}
	return id, nil
}

// readTags reads images/tags.json (NAME:TAG → ID).
func (s *Store) readTags() (map[string]string, error) {
	data, err := os.ReadFile(s.tagsFile())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read image tags: %w", err)
	}
	tags := map[string]string{}
	if err := json.Unmarshal(data, &tags); err != nil {
		return nil, fmt.Errorf("decode image tags %s: %w", s.tagsFile(), err)
	}
	return tags, nil
}

// setTags changes tags.json with change. Callers hold the store lock.
func (s *Store) setTags(change func(tags map[string]string)) error {
	tags, err := s.readTags()
	if err != nil {
		return err
	}
	change(tags)
	data, _ := json.MarshalIndent(tags, "", "  ")
	if err := writeAtomic(s.tagsFile(), data); err != nil {
		return fmt.Errorf("store image tags: %w", err)
	}
	return nil
}

// Reference grammar, docker's: lower-case components separated by "/",
// each alphanumerics joined by ".", "_", "__" or "-" runs; a tag of up to
// 128 word characters, dots and dashes, not starting with either. Compiled
// on first use: a package-level regexp is compiled at every start of the
// binary, the supervisor's and the calculator's included.
var (
	refName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	})
	refTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`) })
)

// ParseReference splits NAME[:TAG] (":latest" when no tag is given) and
// checks both against docker's grammar.
func ParseReference(ref string) (name, tag string, err error) {
	name, tag = ref, "latest"
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		name, tag = ref[:i], ref[i+1:]
	}
	switch {
	case ref == "":
		return "", "", errors.New("invalid reference: empty")
	case strings.Contains(ref, "@"):
		return "", "", fmt.Errorf("invalid reference %q: digests (@sha256:…) are not supported, use NAME[:TAG]", ref)
	case len(name) > 255 || !refName().MatchString(name):
		return "", "", fmt.Errorf("invalid reference %q: a name is lower-case letters, digits and . _ - separators, in /-separated parts", ref)
	case !refTag().MatchString(tag):
		return "", "", fmt.Errorf("invalid reference %q: a tag is up to 128 letters, digits, _ . -, not starting with . or -", ref)
	}
	return name, tag, nil
}

// lock takes the store's lock (flock on images/.lock), which keeps two
// glassbox processes from changing the store at once, and removes what a
// killed holder left of layers being made.
func (s *Store) lock() (func(), error) {
	s.mu.Lock()
	if err := os.MkdirAll(s.Roots.ImagesDir(), 0o755); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("create image store: %w", err)
	}
	p := filepath.Join(s.Roots.ImagesDir(), ".lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		s.mu.Unlock()
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
		s.mu.Unlock()
		return nil, fmt.Errorf("lock image store %s: %w", p, err)
	}
	s.removeStaging()
	return func() { f.Close(); s.mu.Unlock() }, nil // closing the file drops the flock
}

// Lock takes the store's lock for a caller that changes the store in
// several steps (a build); Unlocked methods may then be used.
func (s *Store) Lock() (unlock func(), err error) { return s.lock() }

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

// Put stores an image made of im's layers (stored already), config and
// history, with each history entry's Build record beside it, points tags
// at it, and returns it as stored. Callers hold the store lock (Lock).
func (s *Store) Put(im *Image, tags []string) (*Image, error) {
	rec := &imageRecord{}
	for _, h := range im.History {
		rec.Steps = append(rec.Steps, h.Build)
	}
	for _, t := range tags {
		if _, _, err := ParseReference(t); err != nil {
			return nil, err
		}
	}
	id, err := s.writeImage(im, rec)
	if err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		if err := s.setTags(func(all map[string]string) {
			for _, t := range tags {
				all[normalRef(t)] = id
			}
		}); err != nil {
			return nil, err
		}
	}
	out, _, err := s.readImage(id)
	return out, err
}

// normalRef is NAME:TAG with ":latest" when no tag is given.
func normalRef(ref string) string {
	name, tag, err := ParseReference(ref)
	if err != nil {
		return ref
	}
	return name + ":" + tag
}
