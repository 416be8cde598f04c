package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// BenchmarkLoad100MB loads a docker archive of one 100 MB layer (1 000
// files of 100 KiB) with glassbox, unpacks the same layer with tar -x, and
// loads the archive with docker load (the test kit's dockerd), interleaved;
// it reports the medians of 3 rounds in ms. Run it with -benchtime 1x.
func BenchmarkLoad100MB(b *testing.B) {
	sandboxtest.RequireRoot(b)
	dir := b.TempDir()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	data := make([]byte, 100<<10)
	for i := range 1000 {
		data[0], data[1] = byte(i), byte(i>>8)
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data/f%04d", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
	}
	tw.Close()
	layerTar := filepath.Join(dir, "layer.tar")
	os.WriteFile(layerTar, layer.Bytes(), 0o644)
	l, err := tarball.LayerFromFile(layerTar)
	if err != nil {
		b.Fatal(err)
	}
	img, _ := mutate.AppendLayers(empty.Image, l)
	cf, _ := img.ConfigFile()
	cf.Architecture, cf.OS = "amd64", "linux"
	img, _ = mutate.ConfigFile(img, cf)
	archivePath := filepath.Join(dir, "image.tar")
	ref, _ := name.NewTag("load-bench:latest")
	if err := tarball.WriteToFile(archivePath, ref, img); err != nil {
		b.Fatal(err)
	}
	d := sandboxtest.Dockerd(b)
	res := map[string][]time.Duration{}
	for b.Loop() {
		for round := range 3 {
			s := NewStore(state.RootsAt(filepath.Join(dir, fmt.Sprint("root", round))))
			t0 := time.Now()
			if _, err := s.Load(archivePath, nil); err != nil {
				b.Fatal(err)
			}
			res["glassbox-load"] = append(res["glassbox-load"], time.Since(t0))

			out := filepath.Join(dir, fmt.Sprint("tar", round))
			os.MkdirAll(out, 0o755)
			t0 = time.Now()
			if o, err := exec.Command("tar", "-x", "-f", layerTar, "-C", out).CombinedOutput(); err != nil {
				b.Fatalf("tar -x: %v %s", err, o)
			}
			res["tar-x"] = append(res["tar-x"], time.Since(t0))

			d.Run(b, "rmi", "-f", "load-bench:latest")
			t0 = time.Now()
			d.Run(b, "load", "-q", "-i", archivePath)
			res["docker-load"] = append(res["docker-load"], time.Since(t0))
			os.RemoveAll(out)
			os.RemoveAll(s.Roots.Lib)
		}
	}
	for k, v := range res {
		slices.Sort(v)
		b.ReportMetric(float64(v[len(v)/2].Microseconds())/1000, k+"-ms")
	}
}
