package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"glassbox/sandbox/state"
)

// Tag points target (NAME[:TAG]) at the image source names.
func (s *Store) Tag(source, target string) error {
	name, tag, err := ParseReference(target)
	if err != nil {
		return err
	}
	if IsBuiltinName(target) {
		return fmt.Errorf("%s is a built-in image's name; choose another", name)
	}
	im, err := s.Get(source)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return s.setTags(func(tags map[string]string) { tags[name+":"+tag] = im.ID })
}

// Removed says what Remove did for one reference, as docker rmi prints it.
type Removed struct {
	Untagged []string
	Deleted  []string // the image ID, then each layer removed
}

// usedBy returns the sandboxes (recorded, in any state) running on an
// image's layers.
func (s *Store) usedBy(im *Image) ([]string, error) {
	all, err := state.NewStore(s.Roots).List()
	if err != nil {
		return nil, err
	}
	want := im.TopFirst()
	var names []string
	for _, sb := range all {
		if len(sb.Layers) != len(want) {
			continue
		}
		same := true
		for i, l := range sb.Layers {
			if l.Digest != want[i].Digest {
				same = false
				break
			}
		}
		if same {
			names = append(names, sb.Name)
		}
	}
	return names, nil
}

// Remove is `rmi`: a NAME[:TAG] loses that tag, and the image goes when no
// tag is left; an ID removes the image (with -f even when it has several
// tags). An image a sandbox uses is refused unless force; with force it
// is untagged and deleted, but the layers the sandbox runs on stay. Layers
// no other image or sandbox uses are deleted with the image.
func (s *Store) Remove(ref string, force bool) (*Removed, error) {
	im, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	im, _, err = s.readImage(im.ID) // as it is now that the lock is held
	if err != nil {
		return nil, err
	}
	out := &Removed{}
	byTag := ""
	if name, tag, err := ParseReference(ref); err == nil && slices.Contains(im.Tags, name+":"+tag) {
		byTag = name + ":" + tag
	}
	users, err := s.usedBy(im)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 && !force {
		return nil, fmt.Errorf("image %s is used by sandbox %s: remove the sandbox first, or use rmi -f (its layers stay until the sandbox goes)", ref, strings.Join(users, ", "))
	}
	if byTag == "" && len(im.Tags) > 1 && !force {
		return nil, fmt.Errorf("image %s has %d tags (%s): name one, or use rmi -f to remove them all", ref, len(im.Tags), strings.Join(im.Tags, ", "))
	}
	untag := im.Tags
	if byTag != "" {
		untag = []string{byTag}
	}
	if err := s.setTags(func(tags map[string]string) {
		for _, t := range untag {
			delete(tags, t)
		}
	}); err != nil {
		return nil, err
	}
	out.Untagged = untag
	if len(im.Tags) > len(untag) {
		return out, nil // other tags keep it
	}
	if err := os.RemoveAll(s.imageDir(im.ID)); err != nil {
		return out, fmt.Errorf("remove image %s: %w", im.ShortID(), err)
	}
	out.Deleted = append(out.Deleted, im.ID)
	gone, err := s.removeUnusedLayers()
	out.Deleted = append(out.Deleted, gone...)
	return out, err
}

// removeUnusedLayers deletes the layers no image and no recorded sandbox
// uses. Callers hold the lock.
func (s *Store) removeUnusedLayers() ([]string, error) {
	used := map[string]bool{}
	ids, err := s.imageIDs()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		im, _, err := s.readImage(id)
		if err != nil {
			continue // a broken image keeps nothing alive
		}
		for _, l := range im.Layers {
			used[l.Digest] = true
		}
	}
	sandboxes, err := state.NewStore(s.Roots).List()
	if err != nil {
		return nil, err
	}
	for _, sb := range sandboxes {
		for _, l := range sb.Layers {
			used[l.Digest] = true
			used["dir:"+filepath.Dir(l.Dir)] = true
		}
	}
	entries, err := os.ReadDir(s.Roots.LayersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(s.Roots.LayersDir(), e.Name())
		digest := "sha256:" + e.Name()
		if used[digest] || used["dir:"+dir] {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return gone, fmt.Errorf("remove layer %s: %w", ShortID(digest), err)
		}
		gone = append(gone, digest)
	}
	return gone, s.forgetBuildCache(gone)
}

// BuildCacheDir is where the build cache (package build) keeps one file
// per step, <key>.json, whose "layer" names the layer the step made.
func BuildCacheDir(roots state.Roots) string { return filepath.Join(roots.Lib, "build-cache") }

// forgetBuildCache removes the build cache's entries of the layers gone:
// a hit on them could only miss (the layer is not there to reuse), and
// nothing else would ever remove them. Callers hold the lock, which a
// build holds too.
func (s *Store) forgetBuildCache(gone []string) error {
	if len(gone) == 0 {
		return nil
	}
	removed := map[string]bool{}
	for _, d := range gone {
		removed[d] = true
	}
	files, err := filepath.Glob(filepath.Join(BuildCacheDir(s.Roots), "*.json"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var e struct {
			Layer string `json:"layer"`
		}
		if json.Unmarshal(data, &e) != nil || !removed[e.Layer] {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the build cache entry %s: %w", f, err))
		}
	}
	return errors.Join(errs...)
}

// Prune is `image prune`: it removes images without a tag (all images no
// sandbox uses, with all), then the layers nothing uses any more, and
// returns what it deleted and the bytes freed.
func (s *Store) Prune(all bool) ([]string, int64, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	before := s.layerBytes()
	ids, err := s.imageIDs()
	if err != nil {
		return nil, 0, err
	}
	var deleted []string
	for _, id := range ids {
		im, rec, err := s.readImage(id)
		if err != nil {
			continue
		}
		if rec.Builtin != "" && len(im.Tags) > 0 {
			continue
		}
		if len(im.Tags) > 0 && !all {
			continue
		}
		if users, err := s.usedBy(im); err != nil || len(users) > 0 {
			continue
		}
		if len(im.Tags) > 0 {
			if err := s.setTags(func(tags map[string]string) {
				for _, t := range im.Tags {
					delete(tags, t)
				}
			}); err != nil {
				return deleted, 0, err
			}
		}
		if err := os.RemoveAll(s.imageDir(id)); err != nil {
			return deleted, 0, err
		}
		deleted = append(deleted, id)
	}
	gone, err := s.removeUnusedLayers()
	deleted = append(deleted, gone...)
	return deleted, before - s.layerBytes(), err
}

func (s *Store) layerBytes() int64 {
	var n int64
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	for _, e := range entries {
		if l, err := s.Layer("sha256:" + e.Name()); err == nil {
			n += l.Size
		}
	}
	return n
}

// Sharing is how much of an image's size is in layers other images also
// use (one copy on disk for all of them) and how much is its own.
type Sharing struct{ Shared, Unique int64 }

// Shares computes Sharing for each image of a list, by ID.
func Shares(list []*Image) map[string]Sharing {
	users := map[string]int{}
	for _, im := range list {
		seen := map[string]bool{}
		for _, l := range im.Layers {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				users[l.Digest]++
			}
		}
	}
	out := map[string]Sharing{}
	for _, im := range list {
		var sh Sharing
		seen := map[string]bool{}
		for _, l := range im.Layers {
			if seen[l.Digest] {
				continue
			}
			seen[l.Digest] = true
			if users[l.Digest] > 1 {
				sh.Shared += l.Size
			} else {
				sh.Unique += l.Size
			}
		}
		out[im.ID] = sh
	}
	return out
}
