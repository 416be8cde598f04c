package build_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCachedRebuild is a rebuild of the course example with every
// step in the cache (goal ≤ 200 ms).
func BenchmarkCachedRebuild(b *testing.B) {
	store := benchStore(b)
	ctx := courseContext(b)
	if _, err := os.Stat(filepath.Join(ctx, "calculator")); err != nil {
		b.Fatal("no course context")
	}
	benchBuild(b, store, ctx, false)
	for b.Loop() {
		benchBuild(b, store, ctx, false)
	}
}

// BenchmarkRunTrue is a build of FROM busybox + RUN true that runs the
// step every time: a sandbox started and removed, its upper directory made
// the (empty) layer. Compare with BenchmarkHostTrue, the command itself.
func BenchmarkRunTrue(b *testing.B) {
	store := benchStore(b)
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN true\n"), 0o644)
	benchBuild(b, store, dir, true)
	for b.Loop() {
		benchBuild(b, store, dir, true)
	}
}

// BenchmarkCopy10kFiles turns 10 000 files of 10 KiB (100 MB) into a layer
// with COPY (goal ≤ 1 s): hash the sources, copy, digest the layer.
func BenchmarkCopy10kFiles(b *testing.B) {
	store := benchStore(b)
	dir := b.TempDir()
	data := make([]byte, 10<<10)
	for i := range 10000 {
		sub := filepath.Join(dir, "data", fmt.Sprintf("d%02d", i/100))
		os.MkdirAll(sub, 0o755)
		data[0], data[1] = byte(i), byte(i>>8)
		os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", i)), data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY data /data\n"), 0o644)
	b.SetBytes(10000 * 10 << 10)
	for b.Loop() {
		benchBuild(b, store, dir, true)
	}
}
