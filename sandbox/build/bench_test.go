package build_test

import (
	"context"
	"os/exec"
	"testing"

	"glassbox/sandbox/build"
	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
)

func benchBuild(b *testing.B, store *image.Store, ctx string, noCache bool) {
	b.Helper()
	if _, err := build.Build(context.Background(), store, build.Options{
		Context: ctx, NoCache: noCache, Tags: []string{"bench"}, InitBinary: sandboxtest.Binary(b),
	}); err != nil {
		b.Fatal(err)
	}
}

func benchStore(b *testing.B) *image.Store {
	sandboxtest.RequireRoot(b)
	store := image.NewStore(sandboxtest.TempRoots(b))
	store.Self = sandboxtest.Binary(b)
	return store
}

// BenchmarkHostTrue is busybox true run directly on the host.
func BenchmarkHostTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/busybox", "true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
