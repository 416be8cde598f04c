package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"glassbox/sandbox/build/dockerfile"
	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// CommitOptions are what `glassbox commit` was asked.
type CommitOptions struct {
	Message string   // -m: the history entry's comment
	Changes []string // -c: Dockerfile instructions that change the configuration (CMD, ENV, …)
	Tag     string   // IMAGE[:TAG], or "" for an untagged image
}

// Commit makes a new image of a sandbox: its image's layers, and its
// writable layer as one more on top (whiteouts and opaque directories
// kept, the runtime's own mount points and /etc files left out), with a
// history entry. Bad changes or a bad tag create nothing.
func Commit(store *image.Store, sb *state.Sandbox, o CommitOptions) (*image.Image, error) {
	base, err := imageOf(store, sb)
	if err != nil {
		return nil, err
	}
	if o.Tag != "" {
		if _, _, err := image.ParseReference(o.Tag); err != nil {
			return nil, err
		}
		if image.IsBuiltinName(o.Tag) {
			return nil, fmt.Errorf("%s is a built-in image's name; choose another", o.Tag)
		}
	}
	cfg := base.Config
	if len(o.Changes) > 0 {
		src := "FROM " + base.ID + "\n" + strings.Join(o.Changes, "\n") + "\n"
		df, err := dockerfile.Parse("-c", strings.NewReader(src))
		if err != nil {
			return nil, err
		}
		for _, in := range df.Instructions[1:] {
			switch in.Cmd {
			case "RUN", "COPY", "ADD", "FROM", "ARG":
				return nil, fmt.Errorf("-c %s: commit applies only configuration changes (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, HEALTHCHECK)", in.Cmd)
			}
		}
		p := &planner{store: store, ctx: &buildContext{}, df: df, opts: &Options{}}
		steps, err := p.plan()
		if err != nil {
			return nil, err
		}
		cfg = steps[len(steps)-1].config
	}
	unlock, err := store.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	stg, err := store.StageLayer()
	if err != nil {
		return nil, err
	}
	defer stg.Discard()
	pr, pw := io.Pipe()
	go func() {
		_, err := image.WriteLayer(pw, sb.UpperDir)
		pw.CloseWithError(err)
	}()
	_, err = image.Unpack(pr, stg.Dir, false)
	pr.CloseWithError(io.EOF)
	if err != nil {
		return nil, fmt.Errorf("copy the sandbox's writable layer: %w", err)
	}
	dropRuntimeMade(stg.Dir, sb.Layers)
	createdBy := "glassbox commit " + sb.Name
	l, err := stg.Commit(createdBy)
	if err != nil {
		return nil, err
	}
	im := &image.Image{Layers: append(append([]state.Layer{}, base.Layers...), l), Config: cfg, Created: time.Now().UTC()}
	im.History = append(im.History, base.History...)
	for i := range im.History {
		im.History[i].Build = nil
	}
	im.History = append(im.History, image.History{CreatedBy: createdBy, Created: im.Created, Comment: o.Message, Layer: l.Digest, Size: l.Size})
	var tags []string
	if o.Tag != "" {
		tags = []string{o.Tag}
	}
	return store.Put(im, tags)
}

// imageOf finds the stored image whose layers a sandbox runs on.
func imageOf(store *image.Store, sb *state.Sandbox) (*image.Image, error) {
	if im, err := store.Get(sb.Image); err == nil && sameLayers(im.TopFirst(), sb.Layers) {
		return im, nil
	}
	list, _, err := store.List()
	if err != nil {
		return nil, err
	}
	for _, im := range list {
		if sameLayers(im.TopFirst(), sb.Layers) {
			return im, nil
		}
	}
	return nil, fmt.Errorf("sandbox %s: its image %s is no longer in the store", sb.Name, sb.Image)
}

func sameLayers(a, b []state.Layer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Digest != b[i].Digest {
			return false
		}
	}
	return true
}

// dropRuntimeMade removes from a committed layer the mount points and /etc
// files the runtime created because the image lacked them, while empty.
func dropRuntimeMade(dir string, layers []state.Layer) {
	for i := len(mountPoints) - 1; i >= 0; i-- {
		mp := mountPoints[i]
		if _, ok := image.Lookup(layers, mp.path); ok {
			continue
		}
		p := filepath.Join(dir, mp.path)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if mp.dir && fi.IsDir() {
			os.Remove(p) // only when empty
		} else if !mp.dir && fi.Mode().IsRegular() && fi.Size() == 0 {
			os.Remove(p)
		}
	}
}
