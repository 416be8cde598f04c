package image

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// busyboxStore is a store in a fresh root whose busybox is a copy of the
// host's static one, which the test may change.
func busyboxStore(t *testing.T) *Store {
	t.Helper()
	s := testStore(t)
	host := hostBusybox()
	if libs, err := SharedLibraries(host); err != nil || len(libs) > 0 {
		t.Fatalf("these tests need a static busybox at %s (apt-get install busybox-static): %v %v", host, libs, err)
	}
	s.Busybox = filepath.Join(t.TempDir(), "busybox")
	if err := copyFile(host, s.Busybox, 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBusyboxImage(t *testing.T) {
	s := busyboxStore(t)
	im, err := s.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	if im.Name != "busybox" || len(im.Layers) != 2 {
		t.Fatalf("image %s with %d layers, want busybox with skeleton and busybox layers", im.Name, len(im.Layers))
	}
	base, bb := im.Layers[0], im.Layers[1]
	for _, p := range []string{"proc", "sys", "dev", "tmp", "etc/passwd", "etc/group"} {
		if _, err := os.Lstat(filepath.Join(base.Dir, p)); err != nil {
			t.Errorf("skeleton layer lacks /%s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(base.Dir, "lib")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("skeleton layer has /lib (a static busybox needs no libraries): %v", err)
	}
	want, _ := os.ReadFile(s.Busybox)
	got, err := os.ReadFile(filepath.Join(bb.Dir, "bin/busybox"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("/bin/busybox is not the host's busybox: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(bb.Dir, "bin/busybox")); fi.Mode().Perm() != 0o755 {
		t.Errorf("/bin/busybox mode %v", fi.Mode())
	}
	for _, applet := range []string{"bin/sh", "bin/ls", "bin/cat", "bin/sleep", "usr/bin/wget", "bin/echo", "usr/bin/env"} {
		target, err := os.Readlink(filepath.Join(bb.Dir, applet))
		if err != nil || target != "/bin/busybox" {
			t.Errorf("/%s: link to %q, %v; want a link to /bin/busybox", applet, target, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(bb.Dir, "linuxrc")); err == nil {
		t.Error("the image carries busybox's linuxrc")
	}
	if !slices.Equal(im.Argv(), []string{"sh"}) || !slices.ContainsFunc(im.Config.Env, func(kv string) bool {
		return strings.HasPrefix(kv, "PATH=") && strings.Contains(kv, "/usr/bin") && strings.Contains(kv, "/sbin")
	}) || im.Config.Healthcheck != nil || len(im.Config.ExposedPorts) != 0 {
		t.Errorf("config %+v", im.Config)
	}
	var steps []string
	for _, h := range im.History {
		step, _, _ := strings.Cut(h.CreatedBy, " ")
		steps = append(steps, step)
	}
	if want := []string{"FROM", "ADD", "COPY", "ENV", "CMD"}; !slices.Equal(steps, want) {
		t.Errorf("history %v, want %v", steps, want)
	}
	if again, err := s.Get("busybox:latest"); err != nil || again.ID != im.ID {
		t.Errorf("busybox:latest = %v, %v; want the same image", again, err)
	}
	list, missing, err := s.List()
	if err != nil || len(missing) != 0 || len(list) != 2 || !slices.ContainsFunc(list, func(x *Image) bool { return x.ID == im.ID && slices.Equal(x.Tags, []string{"busybox:latest"}) }) {
		t.Errorf("List = %v, %v, %v; want calculator and busybox", list, missing, err)
	}
}

// A new busybox on the host (an upgrade) rebuilds the busybox layer and
// keeps the skeleton layer as it is.
func TestBusyboxRebuiltWhenHostBinaryChanges(t *testing.T) {
	s := busyboxStore(t)
	first, err := s.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	inodes := layerInodes(t, first)
	f, err := os.OpenFile(s.Busybox, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("an upgrade")) // trailing bytes: still a working ELF
	f.Close()
	second, err := s.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID || second.Layers[1].Digest == first.Layers[1].Digest {
		t.Error("image and busybox layer unchanged after the host's busybox changed")
	}
	if second.Layers[0].Digest != first.Layers[0].Digest || layerInodes(t, second)[second.Layers[0].Digest] != inodes[first.Layers[0].Digest] {
		t.Error("skeleton layer rebuilt though only busybox changed")
	}
	if third, err := s.Get("busybox"); err != nil || third.ID != second.ID {
		t.Errorf("unchanged host binary: %v, %v; want the stored image", third, err)
	}
}

// Without a static busybox the error says what to install, and nothing is
// created.
func TestNoStaticBusybox(t *testing.T) {
	dynamic := filepath.Join(t.TempDir(), "busybox")
	if err := copyFile("/bin/ls", dynamic, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ bin, says string }{
		{filepath.Join(t.TempDir(), "none"), "looked for /bin/busybox"},
		{dynamic, "is dynamically linked"},
	} {
		s := testStore(t)
		s.Busybox = tc.bin
		im, err := s.Get("busybox")
		if im != nil || !errors.Is(err, ErrNoBusybox) || !strings.Contains(err.Error(), tc.says) ||
			!strings.Contains(err.Error(), "apt-get install busybox-static") {
			t.Errorf("busybox %s: %v, %v; want ErrNoBusybox saying %q and what to install", tc.bin, im, err, tc.says)
		}
		if entries, _ := os.ReadDir(s.Roots.LayersDir()); len(entries) != 0 {
			t.Errorf("busybox %s: left %d entries in the layer store", tc.bin, len(entries))
		}
		if ids, _ := s.imageIDs(); len(ids) != 0 {
			t.Errorf("busybox %s: an image was stored", tc.bin)
		}
	}
}
