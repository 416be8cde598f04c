package sandbox_test

import (
	"strconv"
	"testing"

	"glassbox/sandbox"
	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
)

// A workload that ends before the parent looks for it in the cgroup (`true`,
// a build's `RUN true`) is a successful start, not "the workload is not in
// the sandbox's cgroup": its exit arrives as usual.
func TestWorkloadThatExitsAtOnce(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	im, err := image.NewStore(roots).Get(image.Busybox)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		code := 0
		if i%2 == 1 {
			code = 3
		}
		cfg := &sandbox.Config{
			Roots: roots, Image: im.Name, Layers: im.TopFirst(), Env: im.Config.Env,
			Args:       []string{"sh", "-c", "exit " + strconv.Itoa(code)},
			InitBinary: sandboxtest.Binary(t),
		}
		if i%4 == 0 {
			cfg.Args = []string{"true"}
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, err := sandbox.Start(cfg, sandbox.Stdio{})
		if err != nil {
			t.Fatalf("run %d: start %v: %v", i, cfg.Args, err)
		}
		exit, err := c.Wait()
		if derr := c.Destroy(); derr != nil {
			t.Errorf("run %d: destroy: %v", i, derr)
		}
		if err != nil || exit == nil || exit.Code != code {
			t.Fatalf("run %d: %v ended with %+v, %v; want exit %d", i, cfg.Args, exit, err, code)
		}
		assertNothingLeft(t, roots, c.State())
	}
}
