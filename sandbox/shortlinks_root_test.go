package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/sandbox"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// An image with so many layers that their paths do not fit in the overlay
// mount's options gets short links of the sandbox's own, which go with the
// sandbox: none is left after it, whether it is destroyed or cleaned up
// after a crash.
func TestShortLayerLinksGoWithTheSandbox(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.AlsoOnCgroupV2(t)
	roots := sandboxtest.TempRoots(t)
	layers := busyboxLayers(t, roots)
	// 40 empty layers with long names above busybox: ~4000 bytes of lowerdir.
	for i := range 40 {
		dir := filepath.Join(roots.Lib, "test-layers", fmt.Sprintf("%02d-%s", i, strings.Repeat("x", 80)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		layers = append([]state.Layer{{Digest: fmt.Sprintf("test:%d", i), Dir: dir}}, layers...)
	}
	linkRoot := filepath.Join(roots.Run, "l")
	for _, crash := range []bool{false, true} {
		cfg := &sandbox.Config{
			Roots: roots, Image: "many-layers", Layers: layers, KeepState: crash,
			Args: []string{"sh", "-c", "sleep 100"}, InitBinary: sandboxtest.Binary(t),
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, err := sandbox.Start(cfg, sandbox.Stdio{})
		if err != nil {
			t.Fatalf("start with %d layers: %v", len(layers), err)
		}
		sb := c.State()
		links, _ := os.ReadDir(filepath.Join(linkRoot, sb.ID))
		if len(links) != len(layers) {
			t.Errorf("%d short links in %s, want one per layer (%d)", len(links), filepath.Join(linkRoot, sb.ID), len(layers))
		}
		if crash {
			// What crash recovery does from the record alone.
			if err := sandbox.Cleanup(roots, sb); err != nil {
				t.Fatal(err)
			}
			c.Wait()
		}
		if err := c.Destroy(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(linkRoot); len(left) > 0 {
			t.Errorf("crash=%v: short links left behind: %v", crash, left)
		}
		assertNothingLeft(t, roots, sb)
	}
}
