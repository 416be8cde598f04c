// Package image is glassbox's image and layer store. An image is an ordered
// stack of read-only layers plus the configuration a container engine would
// keep next to them (env, command, exposed ports, health check) and one
// history entry per build step.
//
// On disk, below state.Roots.Lib:
//
//	layers/<hex>/fs          a layer, unpacked: one overlay lowerdir
//	layers/<hex>/layer.json  its digest, size, the step that made it
//	images/<name>.json       an image: config, layer digests, history
//	images/.lock             flock'd while an image is built
//
// <hex> is the sha256 of the layer's content (a deterministic tar stream of
// its directory), so a layer is stored once however many images and
// sandboxes use it, and a rebuild whose step produced the same content
// reuses the stored layer untouched.
//
// Two images are built in: "calculator", assembled from glassbox's own
// binary, and "busybox", assembled from the host's static busybox; each is
// built the first time it is asked for and again when what it carries
// changed on the host.
package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"glassbox/sandbox/state"
)

// Builtin is the name of the default image, the built-in calculator.
const Builtin = "calculator"

// Busybox is the name of the built-in image with a POSIX shell and the core
// utilities, the base to build FROM offline.
const Busybox = "busybox"

// builtin is an image glassbox assembles from files on the host.
type builtin struct {
	name string
	// source is the host file the image is built from (its record is
	// rebuilt when it names another one).
	source func(s *Store) string
	build  func(s *Store, name string) (*Image, error)
}

var builtins = []*builtin{
	{name: Builtin, source: func(s *Store) string { return s.Self }, build: (*Store).buildCalculator},
	{name: Busybox, source: func(s *Store) string { return s.Busybox }, build: (*Store).buildBusybox},
}

// ErrUnknown is wrapped by the error Get returns for an image it does not have.
var ErrUnknown = errors.New("unknown image")

// Image is an image as the runtime uses it.
type Image struct {
	Name string `json:"name"`
	// ID is "sha256:<hex>" of the image's configuration and the digests of
	// its layers: the same content always gets the same ID.
	ID string `json:"id"`
	// Layers are the read-only layers, base first (the order they were
	// built in). Use LowerDirs for overlayfs's order.
	Layers  []state.Layer `json:"layers"`
	Config  Config        `json:"config"`
	History []History     `json:"history"`
	Created time.Time     `json:"created"`
}

// Config is what the image says about how to run it.
type Config struct {
	Env          []string     `json:"env,omitempty"` // KEY=VALUE
	Entrypoint   []string     `json:"entrypoint,omitempty"`
	Cmd          []string     `json:"cmd,omitempty"`
	WorkingDir   string       `json:"working_dir,omitempty"`
	ExposedPorts []int        `json:"exposed_ports,omitempty"` // TCP
	Healthcheck  *Healthcheck `json:"healthcheck,omitempty"`
}

// Healthcheck is an HTTP GET of Path on Port inside the sandbox: healthy on
// a 2xx answer within Timeout, unhealthy after Retries failures in a row
// (failures during StartPeriod do not count), checked every Interval.
type Healthcheck struct {
	Path        string        `json:"path"`
	Port        int           `json:"port"`
	Interval    time.Duration `json:"interval"`
	Timeout     time.Duration `json:"timeout"`
	StartPeriod time.Duration `json:"start_period"`
	Retries     int           `json:"retries"`
}

// History is one build step, as `docker history` shows it.
type History struct {
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	// EmptyLayer is true for steps that only change the configuration
	// (ENV, EXPOSE, CMD, …) and so made no layer.
	EmptyLayer bool `json:"empty_layer,omitempty"`
	// Layer is the digest of the layer the step made ("" when EmptyLayer).
	Layer string `json:"layer,omitempty"`
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
	// Self is the binary the built-in image carries as /app/calculator
	// (glassbox is a multi-call binary: under that name it is the
	// calculator). NewStore sets it to os.Executable().
	Self string
	// Busybox is the static busybox the built-in busybox image carries.
	// NewStore sets it to the first of BusyboxCandidates that exists.
	Busybox string

	mu sync.Mutex // one build at a time within this process; flock across processes
}

// NewStore returns the store below roots.
func NewStore(roots state.Roots) *Store {
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	return &Store{Roots: roots, Self: self, Busybox: hostBusybox()}
}

// Names are the images the store can give.
func Names() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}

// findBuiltin maps what a user may type to a built-in image: "" is the
// calculator, and NAME:latest is NAME.
func findBuiltin(name string) (*builtin, error) {
	n := strings.TrimSuffix(name, ":latest")
	if n == "" {
		n = Builtin
	}
	for _, b := range builtins {
		if b.name == n {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w %q (available: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Get returns the image called name, building the built-in one the first
// time it is needed and again whenever Self has changed. An unknown name is
// an error that creates nothing.
func (s *Store) Get(name string) (*Image, error) {
	b, err := findBuiltin(name)
	if err != nil {
		return nil, err
	}
	return s.builtinImage(b)
}

// List returns every image the store has or can build.
func (s *Store) List() ([]*Image, error) {
	var out []*Image
	for _, n := range Names() {
		im, err := s.Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, nil
}

// imageFile is where an image's record lives.
func (s *Store) imageFile(name string) string {
	return filepath.Join(s.Roots.ImagesDir(), name+".json")
}
