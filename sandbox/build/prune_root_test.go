package build_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
)

// image prune (and rmi) remove the build cache's entries of the layers they
// remove, and keep those of the layers still there.
func TestImagePruneForgetsTheCacheOfItsLayers(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	keep := buildContext(t, "FROM busybox\nRUN echo kept > /k\n", nil)
	drop := buildContext(t, "FROM busybox\nRUN echo dropped > /d\nRUN echo more > /m\n", nil)
	for _, c := range []struct{ tag, dir string }{{"keep", keep}, {"drop", drop}} {
		if _, errs, code := glassbox(t, "build", "-q", "-t", c.tag, c.dir); code != 0 {
			t.Fatalf("build %s: exit %d %s", c.tag, code, errs)
		}
	}
	layers := func() map[string]int {
		out := map[string]int{}
		files, _ := filepath.Glob(filepath.Join(image.BuildCacheDir(roots), "*.json"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			var e struct {
				Layer string `json:"layer"`
			}
			if json.Unmarshal(data, &e) == nil && e.Layer != "" {
				out[e.Layer]++
			}
		}
		return out
	}
	if n := len(layers()); n != 3 {
		t.Fatalf("%d layers in the build cache after the builds, want 3", n)
	}
	if _, errs, code := glassbox(t, "rmi", "drop"); code != 0 {
		t.Fatalf("rmi: exit %d %s", code, errs)
	}
	if _, errs, code := glassbox(t, "image", "prune", "-a", "-f"); code != 0 {
		t.Fatalf("image prune: exit %d %s", code, errs)
	}
	store := image.NewStore(roots)
	left := layers()
	for l := range left {
		if _, err := store.Layer(l); err != nil {
			t.Errorf("the build cache still names layer %s, which image prune removed", l)
		}
	}
	if len(left) != 0 {
		t.Errorf("after image prune -a the build cache names %d layers, want none", len(left))
	}
}
