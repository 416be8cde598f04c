package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

type entry struct {
	name, body, link string
	typ              byte
}

func layerOf(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link, Size: int64(len(e.body))}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeDir || strings.HasPrefix(e.name, "bin/") {
			h.Mode = 0o755
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// archive writes a docker save archive of an image of these layers on top
// of the host's busybox (so a sandbox of it has a shell).
func archive(t *testing.T, tag string, layers ...v1.Layer) string {
	t.Helper()
	return archiveFor(t, tag, "amd64", layers...)
}

func archiveFor(t *testing.T, tag, arch string, layers ...v1.Layer) string {
	t.Helper()
	bb, _ := os.ReadFile("/bin/busybox")
	base := layerOf(t, entry{name: "bin/", typ: tar.TypeDir}, entry{name: "bin/busybox", body: string(bb)},
		entry{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"}, entry{name: "etc/", typ: tar.TypeDir}, entry{name: "tmp/", typ: tar.TypeDir})
	img, err := mutate.AppendLayers(empty.Image, append([]v1.Layer{base}, layers...)...)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf.Architecture, cf.OS = arch, "linux"
	cf.Config.Env = []string{"PATH=/bin"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	ref, _ := name.NewTag(tag)
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// Fixture images made here with go-containerregistry load, and a sandbox
// of each sees exactly the expected tree: a deletion in an upper layer, a
// directory deleted and recreated (opaque), a hard link, a symlink.
func TestLoadWhiteoutsLinks(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	s := NewStore(roots)
	p := archive(t, "fixture:v1",
		layerOf(t, entry{name: "etc/gone", body: "x"}, entry{name: "d/", typ: tar.TypeDir}, entry{name: "d/old", body: "old"},
			entry{name: "etc/f", body: "content"}, entry{name: "etc/hard", typ: tar.TypeLink, link: "etc/f"},
			entry{name: "etc/sym", typ: tar.TypeSymlink, link: "f"}),
		layerOf(t, entry{name: "etc/.wh.gone"}, entry{name: "d/", typ: tar.TypeDir}, entry{name: "d/.wh..wh..opq"}, entry{name: "d/new", body: "new"}),
	)
	loaded, err := s.Load(p, nil)
	if err != nil || len(loaded) != 1 || loaded[0] != "fixture:v1" {
		t.Fatalf("load: %v, %v", loaded, err)
	}
	bin := sandboxtest.Binary(t)
	out, err := exec.Command(bin, "run", "fixture:v1", "sh", "-c",
		"ls /etc/gone 2>/dev/null; echo d=$(ls /d); cat /etc/hard; echo; busybox readlink /etc/sym; busybox stat -c %h /etc/f").CombinedOutput()
	if got := string(out); err != nil || got != "d=new\ncontent\nf\n2\n" {
		t.Errorf("the sandbox sees %q (%v); want no /etc/gone, only d/new, the hard link and the symlink", got, err)
	}

	// save → load into another root → save: the same bytes, the same ID.
	var first, second bytes.Buffer
	if err := s.Save(&first, []string{"fixture:v1"}, false); err != nil {
		t.Fatal(err)
	}
	other := NewStore(state.RootsAt(t.TempDir()))
	if _, err := other.Load("-", bytes.NewReader(first.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := other.Save(&second, []string{"fixture:v1"}, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("save → load → save is not byte-identical")
	}
	a, _ := s.Get("fixture:v1")
	b, _ := other.Get("fixture:v1")
	if a.ID != b.ID {
		t.Errorf("IDs %s and %s", a.ID, b.ID)
	}
}

// A malicious archive is refused and leaves nothing in the store.
func TestLoadRefusesMaliciousArchives(t *testing.T) {
	sandboxtest.RequireRoot(t)
	for _, tc := range []struct {
		name  string
		layer []entry
		want  string
	}{
		{"dot-dot", []entry{{name: "../../escaped", body: "x"}}, "leaves the layer"},
		{"through a symlink", []entry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/out", typ: tar.TypeSymlink, link: "/tmp"}, {name: "etc/out/escaped", body: "x"}}, "not a directory"},
		{"device node", []entry{{name: "dev/", typ: tar.TypeDir}, {name: "dev/sda", typ: tar.TypeBlock}}, "device node"},
		{"hard link out", []entry{{name: "h", typ: tar.TypeLink, link: "../../etc/passwd"}}, "leaves the layer"},
	} {
		s := NewStore(state.RootsAt(t.TempDir()))
		p := archive(t, "evil:latest", layerOf(t, tc.layer...))
		_, err := s.Load(p, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want a refusal saying %q", tc.name, err, tc.want)
		}
		if entries, _ := os.ReadDir(s.Roots.LayersDir()); len(entries) != 0 {
			t.Errorf("%s: left %d layers", tc.name, len(entries))
		}
		if ids, _ := s.imageIDs(); len(ids) != 0 {
			t.Errorf("%s: stored an image", tc.name)
		}
		if _, err := os.Stat("/tmp/escaped"); err == nil {
			os.Remove("/tmp/escaped")
			t.Errorf("%s: wrote /tmp/escaped", tc.name)
		}
	}
}

// A 60-layer image loads and mounts although its layer directories, joined,
// do not fit in a page of mount options.
func TestSixtyLayers(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	var layers []v1.Layer
	for i := range 60 {
		layers = append(layers, layerOf(t, entry{name: "layers/", typ: tar.TypeDir}, entry{name: "layers/" + strconv.Itoa(i), body: strconv.Itoa(i)}))
	}
	s := NewStore(roots)
	seen := map[int]int64{}
	s.Progress = func(layer, layers int, n int64) {
		if layers != 61 || n < seen[layer] {
			t.Errorf("progress: layer %d of %d at %d bytes (was %d)", layer, layers, n, seen[layer])
		}
		seen[layer] = n
	}
	if _, err := s.Load(archive(t, "tall:v1", layers...), nil); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 61 {
		t.Errorf("progress heard of %d layers, want 61", len(seen))
	}
	im, err := s.Get("tall:v1")
	if err != nil || len(im.Layers) != 61 {
		t.Fatalf("%v layers, %v", im, err)
	}
	if n := len(strings.Join(im.LowerDirs(), ":")); n < 4096 {
		t.Fatalf("the layers' paths are only %d bytes: the test needs more than a page", n)
	}
	out, err := exec.Command(sandboxtest.Binary(t), "run", "tall:v1", "sh", "-c", "ls /layers | wc -l; cat /layers/0 /layers/59").CombinedOutput()
	if got := strings.Join(strings.Fields(string(out)), " "); err != nil || got != "60 059" {
		t.Errorf("a sandbox of the 60-layer image: %q, %v", out, err)
	}
}

// An image for another architecture is refused with a message naming both.
func TestLoadRefusesOtherPlatforms(t *testing.T) {
	sandboxtest.RequireRoot(t)
	s := NewStore(state.RootsAt(t.TempDir()))
	_, err := s.Load(archiveFor(t, "arm:v1", "arm64"), nil)
	if err == nil || !strings.Contains(err.Error(), "linux/arm64") || !strings.Contains(err.Error(), "this machine is linux/amd64") {
		t.Errorf("load of an arm64 image: %v", err)
	}
	if entries, _ := os.ReadDir(s.Roots.LayersDir()); len(entries) != 0 {
		t.Errorf("left %d layers", len(entries))
	}
}
