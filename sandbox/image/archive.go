package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// An image leaves the store as go-containerregistry's v1.Image: its
// configuration the very bytes stored (so the ID stays), each layer its
// canonical tar, uncompressed, written as it is read from the layer
// directory (whiteouts and opaque directories turned into OCI's .wh.
// files). The same image saved twice gives the same bytes.

// storeLayer is a stored layer as a v1.Layer, uncompressed.
type storeLayer struct {
	dir     string
	diffID  v1.Hash
	tarSize int64
	media   types.MediaType
}

func (l *storeLayer) Digest() (v1.Hash, error) { return l.diffID, nil }
func (l *storeLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *storeLayer) Size() (int64, error)     { return l.tarSize, nil }
func (l *storeLayer) MediaType() (types.MediaType, error) {
	return l.media, nil
}
func (l *storeLayer) Compressed() (io.ReadCloser, error) { return l.Uncompressed() }
func (l *storeLayer) Uncompressed() (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := WriteLayer(pw, l.dir)
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// storeImage is a stored image as go-containerregistry's compressed image
// core (its "compressed" layers being the uncompressed tars).
type storeImage struct {
	raw      []byte
	layers   []*storeLayer
	manifest []byte
}

func (s *storeImage) RawConfigFile() ([]byte, error) { return s.raw, nil }
func (s *storeImage) MediaType() (types.MediaType, error) {
	var m v1.Manifest
	json.Unmarshal(s.manifest, &m)
	return m.MediaType, nil
}
func (s *storeImage) RawManifest() ([]byte, error) { return s.manifest, nil }
func (s *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range s.layers {
		if l.diffID == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no layer %s", h)
}

// V1Image returns a stored image as a v1.Image, in docker's media types
// or OCI's.
func (s *Store) V1Image(id string, oci bool) (v1.Image, error) {
	raw, err := os.ReadFile(filepath.Join(s.imageDir(id), "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", ShortID(id), err)
	}
	im, _, err := s.readImage(id)
	if err != nil {
		return nil, err
	}
	mt, cmt, lmt := types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerUncompressedLayer
	if oci {
		mt, cmt, lmt = types.OCIManifestSchema1, types.OCIConfigJSON, types.OCIUncompressedLayer
	}
	sum := sha256.Sum256(raw)
	m := v1.Manifest{SchemaVersion: 2, MediaType: mt,
		Config: v1.Descriptor{MediaType: cmt, Size: int64(len(raw)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}},
		Layers: []v1.Descriptor{}}
	si := &storeImage{raw: raw}
	for _, l := range im.Layers {
		_, rec, err := s.layer(l.Digest)
		if err != nil {
			return nil, err
		}
		if rec.TarSize == 0 { // a layer recorded before tar sizes were kept
			_, st, err := DiffID(l.Dir)
			if err != nil {
				return nil, err
			}
			rec.TarSize = st.TarSize
		}
		h, _ := v1.NewHash(l.Digest)
		si.layers = append(si.layers, &storeLayer{dir: l.Dir, diffID: h, tarSize: rec.TarSize, media: lmt})
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: lmt, Size: rec.TarSize, Digest: h})
	}
	si.manifest, _ = json.Marshal(m)
	return partial.CompressedToImage(si)
}

// Save writes images to w: a `docker save` archive, or with oci an OCI
// image layout as a tar. refs name images as Get does; the tags they were
// named by (or all of an image's tags, when named by ID) go with them.
func (s *Store) Save(w io.Writer, refs []string, oci bool) error {
	type item struct {
		img  v1.Image
		tags []string
	}
	var items []item
	for _, ref := range refs {
		im, err := s.Get(ref)
		if err != nil {
			return err
		}
		img, err := s.V1Image(im.ID, oci)
		if err != nil {
			return err
		}
		tags := im.Tags
		if n, t, err := ParseReference(ref); err == nil && (im.Builtin != "" || containsTag(im.Tags, n+":"+t)) {
			tags = []string{n + ":" + t}
		}
		items = append(items, item{img, tags})
	}
	if oci {
		return saveOCI(w, func(add func(v1.Image, []string) error) error {
			for _, it := range items {
				if err := add(it.img, it.tags); err != nil {
					return err
				}
			}
			return nil
		})
	}
	refToImage := map[name.Reference]v1.Image{}
	for _, it := range items {
		if len(it.tags) == 0 {
			d, _ := it.img.Digest()
			r, _ := name.NewDigest("sha256-image@" + d.String())
			refToImage[r] = it.img
		}
		for _, t := range it.tags {
			tag, err := name.NewTag(t)
			if err != nil {
				return err
			}
			refToImage[tag] = it.img
		}
	}
	return tarball.MultiRefWrite(refToImage, w)
}

func containsTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// saveOCI writes an OCI image layout, as a tar, to w.
func saveOCI(w io.Writer, each func(add func(v1.Image, []string) error) error) error {
	dir, err := os.MkdirTemp("", "glassbox-save-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := each(func(img v1.Image, tags []string) error {
		if len(tags) == 0 {
			return p.AppendImage(img)
		}
		for _, t := range tags {
			if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
				"org.opencontainers.image.ref.name": t,
				"io.containerd.image.name":          t,
			})); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return tarDir(w, dir)
}

// familiar turns docker's long names back into what a user typed:
// index.docker.io/library/app:latest → app:latest.
func familiar(ref string) string {
	for _, p := range []string{"index.docker.io/library/", "docker.io/library/", "index.docker.io/", "docker.io/"} {
		if strings.HasPrefix(ref, p) {
			return strings.TrimPrefix(ref, p)
		}
	}
	return ref
}

func nameTag(ref string) (*name.Tag, error) {
	t, err := name.NewTag(ref)
	if err != nil {
		return nil, fmt.Errorf("the archive's tag %q: %w", ref, err)
	}
	return &t, nil
}
