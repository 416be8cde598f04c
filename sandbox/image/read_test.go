package image

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// Find and Stored read the store as it is: nothing is built, nothing is
// created, so that a user without root may read images.
func TestFindBuildsNothing(t *testing.T) {
	s := testStore(t)
	if _, err := s.Find("calculator"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Find of a built-in image never built: %v, want ErrUnknown", err)
	}
	if _, err := os.Stat(s.Roots.Lib); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Find created the store: %v", err)
	}
	if list, err := s.Stored(); err != nil || len(list) != 0 {
		t.Errorf("Stored of an empty store: %v %v", list, err)
	}
	built, err := s.Get("")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"", "calculator", "calculator:latest", built.ShortID()} {
		im, err := s.Find(ref)
		if err != nil || im.ID != built.ID {
			t.Errorf("Find(%q) = %v, %v; want %s", ref, im, err, built.ID)
		}
	}
	if im, _ := s.Find(""); im.Name != "calculator" {
		t.Errorf("Find(\"\") is named %q", im.Name)
	}
	if _, err := s.Find("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Find(nope): %v", err)
	}
	list, err := s.Stored()
	if err != nil || len(list) != 1 || list[0].ID != built.ID || list[0].Name != "calculator:latest" {
		t.Errorf("Stored: %v %v", list, err)
	}
}

// A layer's record lists its opaque directories, which readers without
// root cannot see on disk.
func TestLayerRecordListsOpaqueDirs(t *testing.T) {
	s := testStore(t)
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	put := func(opaque bool) LayerInfo {
		st, err := s.StageLayer()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Discard()
		dir := filepath.Join(st.Dir, "var", "cache")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if opaque {
			// As overlayfs marks it: trusted.* when mounted by root.
			attr := "user.overlay.opaque"
			if os.Geteuid() == 0 {
				attr = "trusted.overlay.opaque"
			}
			if err := unix.Setxattr(dir, attr, []byte("y"), 0); err != nil {
				t.Fatal(err)
			}
		}
		l, err := st.Commit("RUN test")
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.LayerInfo(l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	if info := put(true); !slices.Equal(info.Opaque, []string{"/var/cache"}) || info.Files != 3 { // var, var/cache and its opaque marker
		t.Errorf("opaque layer: %+v", info)
	}
	if info := put(false); info.Opaque == nil || len(info.Opaque) != 0 {
		t.Errorf("a layer without opaque directories records an empty list, not none: %#v", info.Opaque)
	}
	if _, err := s.LayerInfo("sha256:0000"); err == nil {
		t.Error("LayerInfo of no layer")
	}
}
