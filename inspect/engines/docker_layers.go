package engines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"glassbox/sandbox/state"
)

// Docker's overlay2 driver names each layer's directory by a random cache
// id (DATA/overlay2/<cache-id>/diff) and mounts them through short links
// (DATA/overlay2/l/ABC… → ../<cache-id>/diff). Which image layer a
// directory holds is in docker's layer metadata: the image's config lists
// its layers' diff ids (bottom first); their chain ids
// (chain₀ = diff₀, chainₙ = sha256(chainₙ₋₁ + " " + diffₙ)) name the
// directories DATA/image/overlay2/layerdb/sha256/<chain>/ whose cache-id
// file names the layer's directory. The container inspect's
// GraphDriver.Data.LowerDir lists the directories its root stacks.

type layerMap struct {
	root   string // docker's data root; "" when unknown
	images map[string]map[string]state.Layer
}

func newLayerMap(ctx context.Context, a *apiClient, root string) *layerMap {
	if root == "" {
		var info struct {
			DockerRootDir string `json:"DockerRootDir"`
		}
		if a.get(ctx, "/info", &info) == nil {
			root = info.DockerRootDir
		}
	}
	return &layerMap{root: root, images: map[string]map[string]state.Layer{}}
}

// forContainer is the container's read-only layers, top-most first as
// its overlay stacks them: the init layer docker adds, then the image's.
func (m *layerMap) forContainer(ctx context.Context, a *apiClient, j *dockerContainerJSON) []state.Layer {
	if j.GraphDriver.Name != "overlay2" || j.GraphDriver.Data["LowerDir"] == "" {
		return nil
	}
	byCache := m.image(ctx, a, j.Image)
	var out []state.Layer
	for _, dir := range strings.Split(j.GraphDriver.Data["LowerDir"], ":") {
		cache := filepath.Base(filepath.Dir(dir))
		l, ok := byCache[cache]
		switch {
		case ok:
		case strings.HasSuffix(cache, "-init"):
			l = state.Layer{CreatedBy: "docker's init layer: empty /etc/hosts, /etc/hostname, /etc/resolv.conf and /dev to mount over"}
		}
		l.Dir = dir
		out = append(out, l)
	}
	return out
}

// image maps an image's layers by cache id, once per image.
func (m *layerMap) image(ctx context.Context, a *apiClient, id string) map[string]state.Layer {
	if got, ok := m.images[id]; ok {
		return got
	}
	out := map[string]state.Layer{}
	m.images[id] = out
	var img struct {
		RootFS struct {
			Layers []string `json:"Layers"`
		} `json:"RootFS"`
	}
	if a.get(ctx, "/images/"+url.PathEscape(id)+"/json", &img) != nil || m.root == "" {
		return out
	}
	createdBy := m.history(id)
	chain := ""
	for i, diff := range img.RootFS.Layers {
		if i == 0 {
			chain = diff
		} else {
			sum := sha256.Sum256([]byte(chain + " " + diff))
			chain = "sha256:" + hex.EncodeToString(sum[:])
		}
		dir := filepath.Join(m.root, "image", "overlay2", "layerdb", "sha256", strings.TrimPrefix(chain, "sha256:"))
		cache, err := os.ReadFile(filepath.Join(dir, "cache-id"))
		if err != nil {
			continue
		}
		l := state.Layer{Digest: diff}
		if i < len(createdBy) {
			l.CreatedBy = createdBy[i]
		}
		if b, err := os.ReadFile(filepath.Join(dir, "size")); err == nil {
			l.Size, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		}
		out[strings.TrimSpace(string(cache))] = l
	}
	return out
}

// history is the build step behind each of an image's layers, bottom
// first, from the image's config in docker's image store (the API's
// history does not say which steps made no layer; the config does).
func (m *layerMap) history(id string) []string {
	b, err := os.ReadFile(filepath.Join(m.root, "image", "overlay2", "imagedb", "content", "sha256", strings.TrimPrefix(id, "sha256:")))
	if err != nil {
		return nil
	}
	var cfg struct {
		History []struct {
			CreatedBy  string `json:"created_by"`
			EmptyLayer bool   `json:"empty_layer"`
		} `json:"history"`
	}
	if json.Unmarshal(b, &cfg) != nil {
		return nil
	}
	var out []string
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			out = append(out, strings.TrimPrefix(h.CreatedBy, "/bin/sh -c #(nop) "))
		}
	}
	return out
}
