package vm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindKernelOrder(t *testing.T) {
	dir := t.TempDir()
	p := kernelPlaces{boot: dir + "/boot", modules: dir + "/modules", cache: dir + "/cache", release: "6.9.0-host"}

	// Nothing anywhere: an error naming what was looked at and what to install.
	_, err := p.find()
	var nk *NoKernelError
	if !errors.As(err, &nk) {
		t.Fatalf("find with no kernel: %v, want a NoKernelError", err)
	}
	for _, want := range []string{dir + "/boot/vmlinuz-6.9.0-host", dir + "/cache", "apt-get install linux-image-amd64", "--kernel"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// Another kernel in /boot is the last resort.
	writeFile(t, dir+"/boot/vmlinuz-6.1.0-other", "other")
	writeFile(t, dir+"/modules/6.1.0-other/modules.dep", "")
	k, err := p.find()
	if err != nil || k.Image != dir+"/boot/vmlinuz-6.1.0-other" || k.Release != "6.1.0-other" || k.Modules != dir+"/modules/6.1.0-other" {
		t.Fatalf("find with another /boot kernel: %+v %v", k, err)
	}

	// An incomplete cache entry is not used; a complete one beats /boot's other kernel.
	writeFile(t, dir+"/cache/6.1.0-27-amd64-6.1.115-1/vmlinux", "partial")
	if k, _ := p.find(); k.Image != dir+"/boot/vmlinuz-6.1.0-other" {
		t.Errorf("an incomplete cache entry was used: %+v", k)
	}
	entry := dir + "/cache/6.1.0-28-amd64-6.1.119-1"
	writeFile(t, entry+"/vmlinux", "cached kernel")
	writeFile(t, entry+"/release", "6.1.0-28-amd64\n")
	writeFile(t, entry+"/modules/modules.dep", "")
	writeFile(t, entry+"/.complete", "")
	k, err = p.find()
	if err != nil || k.Image != entry+"/vmlinux" || k.Release != "6.1.0-28-amd64" || k.Modules != entry+"/modules" ||
		k.Size != int64(len("cached kernel")) || !strings.Contains(k.Origin, "fetched") {
		t.Fatalf("find with a cache entry: %+v %v", k, err)
	}
	// The newest complete entry wins.
	newer := dir + "/cache/6.1.0-30-amd64-6.1.124-1"
	writeFile(t, newer+"/vmlinux", "newer")
	writeFile(t, newer+"/.complete", "")
	later := time.Now().Add(time.Minute)
	os.Chtimes(newer+"/.complete", later, later)
	if k, _ := p.find(); k.Image != newer+"/vmlinux" || k.Modules != "" {
		t.Errorf("the newer cache entry was not chosen: %+v", k)
	}

	// The host's own image comes first.
	writeFile(t, dir+"/boot/vmlinuz-6.9.0-host", "host kernel")
	k, err = p.find()
	if err != nil || k.Image != dir+"/boot/vmlinuz-6.9.0-host" || k.Release != "6.9.0-host" || k.Origin != "the host's own kernel image" {
		t.Fatalf("find with the host's image: %+v %v", k, err)
	}
	if k.Modules != "" {
		t.Errorf("modules %q for a release without a module tree", k.Modules)
	}
}

func TestNamedKernel(t *testing.T) {
	dir := t.TempDir()
	if _, err := namedKernel(dir+"/nope", dir); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("--kernel of a missing file: %v", err)
	}
	entry := dir + "/6.1.0-28-amd64-6.1.119-1"
	writeFile(t, entry+"/vmlinux", "k")
	writeFile(t, entry+"/release", "6.1.0-28-amd64")
	writeFile(t, entry+"/.complete", "")
	os.MkdirAll(entry+"/modules", 0o755)
	k, err := namedKernel(entry+"/vmlinux", dir)
	if err != nil || k.Modules != entry+"/modules" || k.Release != "6.1.0-28-amd64" {
		t.Errorf("--kernel of a cache entry's image: %+v %v", k, err)
	}
}
