// Package image is glassbox's image and layer store. An image is an ordered
// stack of read-only layers plus the configuration a container engine would
// keep next to them (env, command, exposed ports, health check) and one
// history entry per build step.
//
// On disk, below state.Roots.Lib:
//
//	layers/<hex>/fs            a layer, unpacked and overlayfs-native: one lowerdir
//	layers/<hex>/layer.json    its diffID, size, the step that made it
//	images/<hex>/config.json   an image's OCI configuration; <hex> is its sha256, the image ID
//	images/<hex>/image.json    what glassbox keeps beside it: how each step was built
//	                           (cache key, hit or miss and why), or what a built-in carries
//	images/tags.json           NAME:TAG → image ID
//	images/.lock               flock'd while the store changes
//
// A layer's <hex> is its OCI diffID: the sha256 of its canonical tar (see
// WriteLayer). The same content is stored once, in one directory, however
// many images and sandboxes use it, and `save` writes exactly the bytes the
// diffID names.
//
// Two images are built in: "calculator", assembled from glassbox's own
// binary, and "busybox", assembled from the host's static busybox; each is
// built the first time it is asked for and again when what it carries
// changed on the host.
package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"glassbox/sandbox/image/leancalc"
	"glassbox/sandbox/state"
)

// Builtin is the name of the default image, the built-in calculator.
const Builtin = "calculator"

// Busybox is the name of the built-in image with a POSIX shell and the core
// utilities, the base to build FROM offline.
const Busybox = "busybox"

// ErrUnknown is wrapped by the error Get returns for an image it does not have.
var ErrUnknown = errors.New("unknown image")

// Image is an image as the runtime uses it.
type Image struct {
	// Name is the reference it was asked for by ("busybox", "app:v1", an
	// id prefix), which a sandbox records as its image.
	Name string `json:"name"`
	// ID is "sha256:<hex>" of the image's OCI configuration.
	ID string `json:"id"`
	// Tags are the NAME:TAG references that point at it.
	Tags []string `json:"tags,omitempty"`
	// Layers are the read-only layers, base first (the order they were
	// built in). Use LowerDirs for overlayfs's order.
	Layers       []state.Layer `json:"layers"`
	Config       Config        `json:"config"`
	History      []History     `json:"history"`
	Created      time.Time     `json:"created"`
	Architecture string        `json:"architecture"`
	OS           string        `json:"os"`
	// Builtin names the built-in image this is ("" for others).
	Builtin string `json:"builtin,omitempty"`
}

// ShortID is the first 12 hex digits of the ID, as docker shows it.
func (im *Image) ShortID() string { return ShortID(im.ID) }

// ShortID is the first 12 hex digits of a "sha256:<hex>" digest.
func ShortID(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// Size is the bytes of content of all its layers.
func (im *Image) Size() int64 {
	var n int64
	for _, l := range im.Layers {
		n += l.Size
	}
	return n
}

// LowerDirs returns the layers' directories in overlayfs's order, top-most
// first: overlay's lowerdir=a:b:c puts a above b above c.
func (im *Image) LowerDirs() []string {
	dirs := make([]string, 0, len(im.Layers))
	for i := len(im.Layers) - 1; i >= 0; i-- {
		dirs = append(dirs, im.Layers[i].Dir)
	}
	return dirs
}

// TopFirst returns the layers top-most first, the order of
// state.Sandbox.Layers.
func (im *Image) TopFirst() []state.Layer {
	out := slices.Clone(im.Layers)
	slices.Reverse(out)
	return out
}

// Argv is the command the image runs when none is given: Entrypoint
// followed by Cmd.
func (im *Image) Argv() []string {
	return append(slices.Clone(im.Config.Entrypoint), im.Config.Cmd...)
}

// Store holds images and layers below a state root.
type Store struct {
	Roots state.Roots
	// Self is the glassbox binary the built-in calculator image is built
	// for: a new one rebuilds the image. Without Lean the image carries it
	// as /app/calculator, with its shared libraries (glassbox is a
	// multi-call binary: under that name it is the calculator). NewStore
	// sets it to os.Executable().
	Self string
	// Lean, when set, writes the calculator the image carries instead: a
	// static build of the same service, with nothing else to load or
	// initialise. NewStore sets it to the lean calculator this glassbox
	// embeds (package leancalc), when it was built with one.
	Lean func(w io.Writer) (int64, error)
	// Busybox is the static busybox the built-in busybox image carries.
	// NewStore sets it to the first of BusyboxCandidates that exists.
	Busybox string

	// Progress, when set, hears how far a load is: the layer being
	// unpacked (from 1), how many the image has, and the bytes unpacked
	// of it so far.
	Progress func(layer, layers int, bytes int64)

	mu sync.Mutex // one writer at a time within this process; flock across processes
}

// NewStore returns the store below roots.
func NewStore(roots state.Roots) *Store {
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	s := &Store{Roots: roots, Self: self, Busybox: hostBusybox()}
	if leancalc.Present() {
		s.Lean = leancalc.WriteTo
	}
	return s
}

// Names are the built-in images.
func Names() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}

// Get returns the image a user names: "" (the calculator), NAME[:TAG]
// (":latest" when no tag is given), or a unique prefix of an image ID
// (with or without "sha256:"). A built-in image is built the first time it
// is needed and again when what it carries changed. An unknown name is an
// error that creates nothing.
func (s *Store) Get(ref string) (*Image, error) {
	if b := findBuiltin(ref); b != nil {
		im, err := s.builtinImage(b)
		if err != nil {
			return nil, err
		}
		im.Name = b.name
		return im, nil
	}
	id, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	im, _, err := s.readImage(id)
	if err != nil {
		return nil, err
	}
	im.Name = strings.TrimSuffix(ref, ":latest")
	return im, nil
}

// resolve finds the image ID a reference names.
func (s *Store) resolve(ref string) (string, error) {
	tags, err := s.readTags()
	if err != nil {
		return "", err
	}
	if name, tag, err := ParseReference(ref); err == nil {
		if id, ok := tags[name+":"+tag]; ok {
			return id, nil
		}
	}
	hexPart := strings.TrimPrefix(ref, "sha256:")
	if isHex(hexPart) {
		ids, err := s.imageIDs()
		if err != nil {
			return "", err
		}
		var found []string
		for _, id := range ids {
			if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), hexPart) {
				found = append(found, id)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) > 1 {
			return "", fmt.Errorf("image id prefix %q is ambiguous: %d images start with it", ref, len(found))
		}
	}
	return "", fmt.Errorf("%w %q (glassbox images lists them; built in: %s)", ErrUnknown, ref, strings.Join(Names(), ", "))
}

// isHex says whether s is 1 to 64 lower-case hex digits (a loop, not a
// package-level regexp, which every start of the binary would compile).
func isHex(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// List returns every image in the store, built-in ones included (built if
// they are not yet), newest first. A built-in image the host cannot
// provide (no static busybox) is left out and its error returned in
// missing.
func (s *Store) List() (images []*Image, missing []error, err error) {
	for _, b := range builtins {
		if _, err := s.builtinImage(b); err != nil {
			if errors.Is(err, ErrNoBusybox) {
				missing = append(missing, err)
				continue
			}
			return nil, nil, err
		}
	}
	ids, err := s.imageIDs()
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		im, _, err := s.readImage(id)
		if err != nil {
			return nil, nil, err
		}
		im.Name = im.ShortID()
		if len(im.Tags) > 0 {
			im.Name = im.Tags[0]
		}
		images = append(images, im)
	}
	slices.SortStableFunc(images, func(a, b *Image) int { return b.Created.Compare(a.Created) })
	return images, missing, nil
}
