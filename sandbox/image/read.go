package image

import (
	"fmt"
	"slices"
	"strings"

	"glassbox/sandbox/state"
)

// What a reader of the store may do without root: find images and layers
// as they are stored, building nothing and taking no lock (writers rename
// whole files and directories into place, so a reader sees all of one or
// none of it).

// Find returns the image a reference names as the store holds it now
// (see Get for the references), building nothing: a built-in image not
// built yet is unknown, and the error says how to build it.
func (s *Store) Find(ref string) (*Image, error) {
	name := ref
	if b := findBuiltin(ref); b != nil {
		name = b.name
	}
	id, err := s.resolve(name)
	if err != nil {
		if b := findBuiltin(ref); b != nil {
			return nil, fmt.Errorf("%w %q: the built-in image is not built yet (glassbox images builds it, as root)", ErrUnknown, b.name)
		}
		return nil, err
	}
	im, _, err := s.readImage(id)
	if err != nil {
		return nil, err
	}
	im.Name = strings.TrimSuffix(name, ":latest")
	return im, nil
}

// Stored returns every image the store holds, newest first, building
// nothing.
func (s *Store) Stored() ([]*Image, error) {
	ids, err := s.imageIDs()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, id := range ids {
		im, _, err := s.readImage(id)
		if err != nil {
			continue // being removed, or damaged: the store's writers say so
		}
		im.Name = im.ShortID()
		if len(im.Tags) > 0 {
			im.Name = im.Tags[0]
		}
		out = append(out, im)
	}
	slices.SortStableFunc(out, func(a, b *Image) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// LayerInfo is what the store's record says about a layer beyond
// state.Layer.
type LayerInfo struct {
	state.Layer
	Files int
	// Opaque lists the layer's opaque directories; nil when the record
	// predates the list (then only root can find them, on disk).
	Opaque []string
}

// LayerInfo reads the record of the layer with this diffID.
func (s *Store) LayerInfo(diffID string) (LayerInfo, error) {
	l, rec, err := s.layer(diffID)
	if err != nil {
		return LayerInfo{}, err
	}
	return LayerInfo{Layer: l, Files: rec.Files, Opaque: rec.Opaque}, nil
}
