package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"glassbox/inspect/union"
	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// stacks describes images and sandboxes as stacks of layers for the layer
// explorer, from the image store and the sandbox records. It only reads:
// without root, images are found as stored (Find); as root, a built-in
// image is built the first time it is asked for, as every verb does.
type stacks struct {
	store     *image.Store
	sandboxes *state.Store
}

func newStacks(roots state.Roots) *stacks {
	return &stacks{store: image.NewStore(roots), sandboxes: state.NewStore(roots)}
}

// findImage finds an image the way the other verbs do, building a
// built-in one only when the caller may.
func (s *stacks) findImage(ref string) (*image.Image, error) {
	if os.Geteuid() == 0 {
		return s.store.Get(ref)
	}
	return s.store.Find(ref)
}

// Stack is what `image explore` and the UI's Image view open: a sandbox
// (its image's layers and its upper layer on top) when ref names one by
// name or id, otherwise an image, otherwise a sandbox by id prefix.
func (s *stacks) Stack(ref string) (*union.Stack, error) {
	all, _ := s.sandboxes.List()
	for _, sb := range all {
		if sb.Name == ref || sb.ID == ref {
			return s.sandbox(sb)
		}
	}
	st, err := s.Image(ref)
	if err == nil || !errors.Is(err, image.ErrUnknown) {
		return st, err
	}
	if sb, serr := s.sandboxes.Resolve(ref); serr == nil {
		return s.sandbox(sb)
	}
	return nil, fmt.Errorf("%w (and no sandbox is called %s: glassbox ps -a lists them)", err, ref)
}

// Image describes an image's layers, base first.
func (s *stacks) Image(ref string) (*union.Stack, error) {
	im, err := s.findImage(ref)
	if err != nil {
		return nil, err
	}
	st := &union.Stack{Image: im.Name, ImageID: im.ID}
	if st.Image == "" {
		st.Image = im.ShortID()
	}
	s.describe(st, im, im.Layers)
	return st, nil
}

// sandbox describes a sandbox's lower layers and its upper layer.
func (s *stacks) sandbox(sb *state.Sandbox) (*union.Stack, error) {
	if sb.UpperDir == "" || len(sb.Layers) == 0 {
		return nil, fmt.Errorf("sandbox %s has no layers on record", sb.Name)
	}
	st := &union.Stack{Image: sb.Image, Sandbox: sb.Name, SandboxID: sb.ID, Status: string(sb.Status)}
	lowers := slices.Clone(sb.Layers)
	slices.Reverse(lowers) // the record keeps them top-most first
	im, err := s.findImage(sb.Image)
	if err == nil && sameLayers(im.Layers, lowers) {
		st.ImageID = im.ID
	} else {
		im = nil // the image was removed or rebuilt since: the record is what the sandbox runs on
	}
	s.describe(st, im, lowers)
	st.Layers = append(st.Layers, union.Layer{
		Dir: sb.UpperDir, Upper: true, Sandboxes: []string{sb.Name},
		CreatedBy: "the writable layer of sandbox " + sb.Name,
	})
	return st, nil
}

func sameLayers(a, b []state.Layer) bool {
	return slices.EqualFunc(a, b, func(x, y state.Layer) bool { return x.Digest == y.Digest })
}

// describe adds the layers, base first, with what the store knows of
// each: its record, the build step that made it (cache hit or miss), the
// images and sandboxes that use it, whether it belongs to the base image.
func (s *stacks) describe(st *union.Stack, im *image.Image, layers []state.Layer) {
	stored, _ := s.store.Stored()
	boxes, _ := s.sandboxes.List()
	var steps []image.History // one per layer, in order (OCI's rule)
	if im != nil {
		for _, h := range im.History {
			if !h.EmptyLayer {
				steps = append(steps, h)
			}
		}
	}
	for i, l := range layers {
		ul := union.Layer{Dir: l.Dir, Digest: l.Digest, CreatedBy: l.CreatedBy}
		if info, err := s.store.LayerInfo(l.Digest); err == nil {
			ul.Opaque = info.Opaque
		}
		if i < len(steps) && len(steps) == len(layers) {
			h := steps[i]
			ul.CreatedBy, ul.Created = h.CreatedBy, h.Created
			if b := h.Build; b != nil {
				ul.Cache, ul.CacheWhy = "miss", b.Why
				if b.Cached {
					ul.Cache = "hit"
				}
			}
		}
		for _, other := range stored {
			if slices.ContainsFunc(other.Layers, func(x state.Layer) bool { return x.Digest == l.Digest }) {
				ul.Images = append(ul.Images, strings.TrimSuffix(other.Name, ":latest"))
			}
		}
		for _, sb := range boxes {
			if slices.ContainsFunc(sb.Layers, func(x state.Layer) bool { return x.Digest == l.Digest }) {
				ul.Sandboxes = append(ul.Sandboxes, sb.Name)
			}
		}
		st.Layers = append(st.Layers, ul)
	}
	if im == nil {
		return
	}
	n, base := baseOf(im, stored)
	for i := range min(n, len(st.Layers)) {
		st.Layers[i].Base = true
	}
	st.BaseImage = base
}

// baseOf finds how many of an image's layers come from the image it was
// built FROM, and that image's name. A glassbox build keeps a record of
// every step it ran: the steps before the first such record are the
// base's. Otherwise the longest other stored image whose layers start
// this one's is its base.
func baseOf(im *image.Image, stored []*image.Image) (int, string) {
	n := -1
	built, layers := false, 0
	for _, h := range im.History {
		if h.Build != nil {
			built = true
			break
		}
		if !h.EmptyLayer {
			layers++
		}
	}
	if built {
		n = layers
	}
	name := ""
	best := 0
	for _, other := range stored {
		k := len(other.Layers)
		if other.ID == im.ID || k == 0 || k >= len(im.Layers) || (n >= 0 && k != n) || k <= best {
			continue
		}
		if sameLayers(other.Layers, im.Layers[:k]) {
			best, name = k, strings.TrimSuffix(other.Name, ":latest")
		}
	}
	if n < 0 {
		n = best
	}
	return n, name
}
