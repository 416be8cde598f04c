package build_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"glassbox/sandbox/sandboxtest"
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
	dir := tenThousandFiles(b)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY data /data\n"), 0o644)
	b.SetBytes(10000 * 10 << 10)
	for b.Loop() {
		benchBuild(b, store, dir, true)
	}
}

// BenchmarkCpA10kFiles is the host's `cp -a` of the same files to the
// same file system: what creating 10 000 files costs on this machine,
// the floor under BenchmarkCopy10kFiles (which also hashes the sources
// and digests the layer). Run both in one go to compare.
func BenchmarkCpA10kFiles(b *testing.B) {
	sandboxtest.RequireRoot(b)
	dir := tenThousandFiles(b)
	lib := sandboxtest.TempRoots(b).Lib
	if err := os.MkdirAll(lib, 0o755); err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(lib, "copy")
	b.SetBytes(10000 * 10 << 10)
	for b.Loop() {
		if out, err := exec.Command("cp", "-a", filepath.Join(dir, "data"), dst).CombinedOutput(); err != nil {
			b.Fatalf("cp -a: %v: %s", err, out)
		}
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}

// tenThousandFiles writes data/dNN/fNNNN: 10 000 files of 10 KiB, each
// different, in 100 directories.
func tenThousandFiles(b *testing.B) string {
	dir := b.TempDir()
	data := make([]byte, 10<<10)
	for i := range 10000 {
		sub := filepath.Join(dir, "data", fmt.Sprintf("d%02d", i/100))
		os.MkdirAll(sub, 0o755)
		data[0], data[1] = byte(i), byte(i>>8)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
