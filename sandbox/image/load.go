package image

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Load stores the images of an archive: a `docker save` archive, or an OCI
// image layout as a directory or a tar, either tar gzip'd or not. src is a
// path, or "-" with r the data. It returns what it loaded (NAME:TAG, or the
// ID of an untagged image). A refused archive (another platform, an entry
// that escapes its layer, a device node, …) leaves nothing in the store.
func (s *Store) Load(src string, r io.Reader) ([]string, error) {
	tmp, err := os.MkdirTemp("", "glassbox-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if src != "-" {
		if fi, err := os.Stat(src); err != nil {
			return nil, err
		} else if fi.IsDir() {
			return s.loadLayout(src)
		}
	}
	// The archive is read more than once (manifest, then each layer): a
	// plain file on disk — the file given, or a copy, gunzipped if need be.
	path := src
	if src == "-" || isGzip(src) {
		path = filepath.Join(tmp, "archive.tar")
		if err := plainCopy(src, r, path); err != nil {
			return nil, err
		}
	}
	kind, err := archiveKind(path)
	if err != nil {
		return nil, err
	}
	if kind == "oci" {
		dir := filepath.Join(tmp, "layout")
		if err := untarPlain(path, dir); err != nil {
			return nil, err
		}
		return s.loadLayout(dir)
	}
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("read the archive's manifest.json: %w", err)
	}
	var loads []func() ([]string, error)
	for _, d := range m {
		img, err := tarball.Image(opener, nil)
		if len(d.RepoTags) > 0 {
			tag, terr := nameTag(d.RepoTags[0])
			if terr != nil {
				return nil, terr
			}
			img, err = tarball.Image(opener, tag)
		}
		if err != nil {
			return nil, fmt.Errorf("read the archive: %w", err)
		}
		var tags []string
		for _, t := range d.RepoTags {
			tags = append(tags, familiar(t))
		}
		loads = append(loads, func() ([]string, error) { return s.loadImage(img, tags) })
	}
	return s.loadAll(loads)
}

func (s *Store) loadLayout(dir string) ([]string, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read the OCI layout: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read the OCI layout's index: %w", err)
	}
	var loads []func() ([]string, error)
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("read image %s of the layout: %w", d.Digest, err)
		}
		var tags []string
		ref := d.Annotations["io.containerd.image.name"]
		if ref == "" {
			ref = d.Annotations["org.opencontainers.image.ref.name"]
		}
		if ref != "" {
			tags = append(tags, familiar(ref))
		}
		loads = append(loads, func() ([]string, error) { return s.loadImage(img, tags) })
	}
	return s.loadAll(loads)
}

// loadAll loads every image under the store lock; on failure the layers
// this load added go again.
func (s *Store) loadAll(loads []func() ([]string, error)) ([]string, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	before := map[string]bool{}
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	for _, e := range entries {
		before[e.Name()] = true
	}
	var out []string
	for _, load := range loads {
		names, err := load()
		if err != nil {
			entries, _ := os.ReadDir(s.Roots.LayersDir())
			for _, e := range entries {
				if !before[e.Name()] {
					os.RemoveAll(filepath.Join(s.Roots.LayersDir(), e.Name()))
				}
			}
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

// loadImage unpacks an image's layers into the store and stores its
// configuration: as it is when the layers' canonical diffIDs are the ones
// it names (an image glassbox saved), otherwise with the diffIDs replaced.
func (s *Store) loadImage(img v1.Image, tags []string) ([]string, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the image's configuration: %w", err)
	}
	if (cf.OS != "" && cf.OS != "linux") || (cf.Architecture != "" && cf.Architecture != runtime.GOARCH) {
		return nil, fmt.Errorf("image %s is for %s/%s; this machine is linux/%s", strings.Join(tags, ", "), cf.OS, cf.Architecture, runtime.GOARCH)
	}
	for _, t := range tags {
		if _, _, err := ParseReference(t); err != nil {
			return nil, err
		}
		if IsBuiltinName(t) {
			return nil, fmt.Errorf("the archive's image %s has a built-in image's name: tag it otherwise before saving", t)
		}
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var diffIDs []v1.Hash
	by := layerCreators(cf)
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		stg, err := s.StageLayer()
		if err != nil {
			rc.Close()
			return nil, err
		}
		var in io.Reader = rc
		if s.Progress != nil {
			in = &progressReader{r: rc, report: func(n int64) { s.Progress(i+1, len(layers), n) }}
		}
		_, err = Unpack(in, stg.Dir, false)
		rc.Close()
		if err != nil {
			stg.Discard()
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		createdBy := ""
		if i < len(by) {
			createdBy = by[i]
		}
		sl, err := stg.Commit(createdBy)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		h, _ := v1.NewHash(sl.Digest)
		diffIDs = append(diffIDs, h)
	}
	if !slices.Equal(diffIDs, cf.RootFS.DiffIDs) {
		cf.RootFS.DiffIDs = diffIDs
		if raw, err = json.Marshal(cf); err != nil {
			return nil, err
		}
	}
	id, err := s.writeRawImage(raw, &imageRecord{})
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return []string{id}, nil
	}
	if err := s.setTags(func(all map[string]string) {
		for _, t := range tags {
			all[normalRef(t)] = id
		}
	}); err != nil {
		return nil, err
	}
	return tags, nil
}

// layerCreators are the history's created_by of the layer steps, in order.
func layerCreators(cf *v1.ConfigFile) []string {
	var out []string
	for _, h := range cf.History {
		if !h.EmptyLayer {
			out = append(out, h.CreatedBy)
		}
	}
	return out
}
