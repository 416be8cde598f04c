package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// builtin is an image glassbox assembles from files on the host.
type builtin struct {
	name string
	// source is the host file the image is built from (it is rebuilt when
	// its record names another one).
	source func(s *Store) string
	build  func(s *Store, name string) (*Image, []stamp, error)
}

var builtins = []*builtin{
	{name: Builtin, source: func(s *Store) string { return s.Self }, build: (*Store).buildCalculator},
	{name: Busybox, source: func(s *Store) string { return s.Busybox }, build: (*Store).buildBusybox},
}

// findBuiltin maps what a user may type to a built-in image: "" is the
// calculator, and NAME:latest is NAME.
func findBuiltin(ref string) *builtin {
	n := strings.TrimSuffix(ref, ":latest")
	if n == "" {
		n = Builtin
	}
	for _, b := range builtins {
		if b.name == n {
			return b
		}
	}
	return nil
}

// IsBuiltinName says whether a NAME[:TAG] reference belongs to a built-in
// image, which builds and tags may not take over.
func IsBuiltinName(ref string) bool {
	name, _, _ := strings.Cut(ref, ":")
	return slices.Contains(Names(), name)
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

// builtinImage returns a built-in image, building it when it is missing,
// when a layer it names is gone, or when a host file it carries changed
// since it was built.
func (s *Store) builtinImage(b *builtin) (*Image, error) {
	src := b.source(s)
	if im, ok := s.current(b.name, src); ok {
		return im, nil
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another process may have built it while we waited for the lock.
	if im, ok := s.current(b.name, src); ok {
		return im, nil
	}
	im, sources, err := b.build(s, b.name)
	if err != nil {
		return nil, err
	}
	id, err := s.writeImage(im, &imageRecord{Builtin: b.name, Sources: sources})
	if err != nil {
		return nil, fmt.Errorf("build image %s: %w", b.name, err)
	}
	if err := s.setTags(func(tags map[string]string) { tags[b.name+":latest"] = id }); err != nil {
		return nil, err
	}
	// A record of the store's first format, which named images by file.
	os.Remove(filepath.Join(s.Roots.ImagesDir(), b.name+".json"))
	im, _, err = s.readImage(id)
	return im, err
}

// current returns the stored built-in image when it is still what building
// it now would give: the tag NAME:latest names it, it was built from src,
// its sources carry the same stamps and all its layers are in the store.
func (s *Store) current(name, src string) (*Image, bool) {
	tags, err := s.readTags()
	if err != nil {
		return nil, false
	}
	id, ok := tags[name+":latest"]
	if !ok {
		return nil, false
	}
	im, rec, err := s.readImage(id) // fails when a layer is gone
	if err != nil || rec.Builtin != name || len(rec.Sources) == 0 || rec.Sources[0].Path != src {
		return nil, false
	}
	for _, want := range rec.Sources {
		if got, err := stampOf(want.Path); err != nil || got != want {
			return nil, false
		}
	}
	return im, true
}

// addLayer stores the layer fill makes and appends it, with its history
// entry, to the image being built.
func (s *Store) addLayer(im *Image, createdBy string, fill func(dir string) error) error {
	l, err := s.putLayer(createdBy, fill)
	if err != nil {
		return fmt.Errorf("build image %s: %w", im.Name, err)
	}
	_, rec, err := s.layer(l.Digest)
	if err != nil {
		return err
	}
	im.Layers = append(im.Layers, l)
	im.History = append(im.History, History{CreatedBy: createdBy, Created: rec.Created, Layer: l.Digest, Size: l.Size})
	return nil
}

// addConfigSteps records steps that change only the configuration.
func addConfigSteps(im *Image, at time.Time, steps ...string) {
	for _, step := range steps {
		im.History = append(im.History, History{CreatedBy: step, Created: at, EmptyLayer: true})
	}
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
