package image

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"glassbox/sandbox/state"
)

// testStore returns a store in a fresh temporary root whose Self is a copy
// of /bin/ls (a real dynamic binary) that the test may change.
func testStore(t testing.TB) *Store {
	t.Helper()
	dir := t.TempDir()
	self := filepath.Join(dir, "self")
	if err := copyFile("/bin/ls", self, 0o755); err != nil {
		t.Fatal(err)
	}
	s := NewStore(state.RootsAt(filepath.Join(dir, "glassbox-root")))
	s.Self = self
	s.Lean = nil // the image carries Self (TestBuiltinImageCarriesLean sets one)
	return s
}

func layerInodes(t *testing.T, im *Image) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, l := range im.Layers {
		st, err := stampOf(filepath.Join(filepath.Dir(l.Dir), "layer.json"))
		if err != nil {
			t.Fatal(err)
		}
		out[l.Digest] = st.Ino
	}
	return out
}

func TestBuiltinImage(t *testing.T) {
	s := testStore(t)
	im, err := s.Get("")
	if err != nil {
		t.Fatal(err)
	}
	if im.Name != "calculator" || !strings.HasPrefix(im.ID, "sha256:") || len(im.ID) != 71 {
		t.Errorf("name %q id %q", im.Name, im.ID)
	}
	if len(im.Layers) != 2 {
		t.Fatalf("want base and app layers, got %d", len(im.Layers))
	}
	base, app := im.Layers[0], im.Layers[1]
	if !strings.HasPrefix(base.CreatedBy, "ADD base /") || app.CreatedBy != "COPY calculator /app/calculator" {
		t.Errorf("created_by: %q, %q", base.CreatedBy, app.CreatedBy)
	}
	if got := im.LowerDirs(); !slices.Equal(got, []string{app.Dir, base.Dir}) {
		t.Errorf("LowerDirs = %v, want app then base", got)
	}
	if got := im.TopFirst(); got[0].Digest != app.Digest {
		t.Errorf("TopFirst starts with %s", got[0].CreatedBy)
	}
	for _, l := range im.Layers {
		if want := filepath.Join(s.Roots.LayersDir(), strings.TrimPrefix(l.Digest, "sha256:"), "fs"); l.Dir != want {
			t.Errorf("layer dir %s, want %s", l.Dir, want)
		}
		if d, st, err := DiffID(l.Dir); err != nil || d != l.Digest || st.Size != l.Size {
			t.Errorf("stored layer %s re-digests to %s size %d (recorded %d): %v", l.Digest, d, st.Size, l.Size, err)
		}
	}

	// The app layer carries Self, executable, at /app/calculator.
	fi, err := os.Stat(filepath.Join(app.Dir, "app/calculator"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("/app/calculator: %v %v", fi, err)
	}
	self, _ := os.ReadFile(s.Self)
	carried, _ := os.ReadFile(filepath.Join(app.Dir, "app/calculator"))
	if !slices.Equal(self, carried) {
		t.Error("/app/calculator differs from Self")
	}
	// The base layer has the skeleton, the /etc files and ls's libraries.
	for _, p := range []string{"proc", "sys", "dev", "tmp", "app", "etc/passwd", "etc/group", "etc/nsswitch.conf"} {
		if _, err := os.Lstat(filepath.Join(base.Dir, p)); err != nil {
			t.Errorf("base layer lacks /%s", p)
		}
	}
	if fi, err := os.Stat(filepath.Join(base.Dir, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("/tmp mode %v, want sticky 0777", fi.Mode())
	}
	libs, err := SharedLibraries(s.Self)
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range libs {
		fi, err := os.Lstat(filepath.Join(base.Dir, lib))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("base layer lacks %s as a regular file: %v", lib, err)
		}
	}

	c := im.Config
	if !slices.Equal(c.Env, []string{"SERVER_PORT=8000", "WORKER_COUNT=4"}) || !slices.Equal(c.Cmd, []string{"/app/calculator"}) ||
		!slices.Equal(c.ExposedPorts, []string{"8000/tcp"}) || !slices.Equal(c.TCPPorts(), []int{8000}) || c.Healthcheck == nil || c.Healthcheck.Path != "/health" || c.Healthcheck.Port != 8000 {
		t.Errorf("config %+v", c)
	}
	if !slices.Equal(im.Argv(), []string{"/app/calculator"}) {
		t.Errorf("Argv %v", im.Argv())
	}
	var steps []string
	for _, h := range im.History {
		step, _, _ := strings.Cut(h.CreatedBy, " ")
		steps = append(steps, step)
		if h.EmptyLayer == (h.Layer != "") || h.Created.IsZero() {
			t.Errorf("history %+v", h)
		}
	}
	if want := []string{"FROM", "ADD", "COPY", "ENV", "EXPOSE", "HEALTHCHECK", "CMD"}; !slices.Equal(steps, want) {
		t.Errorf("history steps %v, want %v", steps, want)
	}

	for _, n := range []string{"calculator", "calculator:latest"} {
		again, err := s.Get(n)
		if err != nil || again.ID != im.ID {
			t.Errorf("Get(%q) = %v, %v; want the same image", n, again, err)
		}
	}
	list, missing, err := s.List()
	if err != nil || len(missing) != 0 || len(list) != 2 || !slices.ContainsFunc(list, func(x *Image) bool { return x.ID == im.ID }) {
		t.Errorf("List = %v, %v, %v; want calculator and busybox", list, missing, err)
	}
}

func TestBuildTwiceReusesLayers(t *testing.T) {
	s := testStore(t)
	first, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	inodes := layerInodes(t, first)

	// Unchanged Self: the stored image is returned, nothing is built.
	imgFile, _ := stampOf(filepath.Join(s.imageDir(first.ID), "config.json"))
	again, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	if now, _ := stampOf(filepath.Join(s.imageDir(first.ID), "config.json")); now != imgFile {
		t.Error("image record rewritten though nothing changed")
	}
	if again.ID != first.ID {
		t.Errorf("ID changed: %s → %s", first.ID, again.ID)
	}

	// A lost image forces a full rebuild; every step gives the same
	// content, so the stored layers are reused, not rewritten.
	if err := os.RemoveAll(s.imageDir(first.ID)); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rebuilt.LowerDirs(), first.LowerDirs()) {
		t.Errorf("rebuild of the same content changed the layers: %v → %v", first.LowerDirs(), rebuilt.LowerDirs())
	}
	if got := layerInodes(t, rebuilt); !mapsEqual(got, inodes) {
		t.Errorf("layers rewritten: %v → %v", inodes, got)
	}
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	if len(entries) != 2 {
		t.Errorf("layer store holds %d entries, want 2 (no leftovers of the rebuild)", len(entries))
	}
}

func TestChangedSelfRebuildsAppLayerOnly(t *testing.T) {
	s := testStore(t)
	first, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(s.Self, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("a new build"))
	f.Close()

	second, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	if second.Layers[0].Digest != first.Layers[0].Digest {
		t.Error("base layer changed though only Self did")
	}
	if layerInodes(t, second)[second.Layers[0].Digest] != layerInodes(t, first)[first.Layers[0].Digest] {
		t.Error("base layer rewritten")
	}
	if second.Layers[1].Digest == first.Layers[1].Digest {
		t.Error("app layer digest unchanged after Self changed")
	}
	if second.ID == first.ID {
		t.Error("image ID unchanged after Self changed")
	}
	// The old app layer stays (a sandbox may still run on it).
	if _, err := s.Layer(first.Layers[1].Digest); err != nil {
		t.Errorf("old app layer: %v", err)
	}
}

func TestRemovedLayerIsRebuilt(t *testing.T) {
	s := testStore(t)
	first, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(first.Layers[1].Dir)); err != nil {
		t.Fatal(err)
	}
	again, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.LowerDirs(), first.LowerDirs()) {
		t.Errorf("layers %v, want %v", again.LowerDirs(), first.LowerDirs())
	}
	if _, err := os.Stat(again.Layers[1].Dir); err != nil {
		t.Errorf("app layer not rebuilt: %v", err)
	}
}

func TestUnknownImageCreatesNothing(t *testing.T) {
	s := testStore(t)
	for _, name := range []string{"x", "ubuntu", "calculator:v2", "../calculator", "abc"} {
		im, err := s.Get(name)
		if im != nil || !errors.Is(err, ErrUnknown) {
			t.Fatalf("Get(%q) = %v, %v; want ErrUnknown", name, im, err)
		}
		want := `unknown image "` + name + `" (glassbox images lists them; built in: calculator, busybox)`
		if err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
	if _, err := os.Stat(s.Roots.Lib); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unknown image created %s: %v", s.Roots.Lib, err)
	}
}

func TestMissingSelf(t *testing.T) {
	s := testStore(t)
	s.Self = filepath.Join(t.TempDir(), "gone")
	if _, err := s.Get(""); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("err = %v, want one naming the missing binary", err)
	}
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	if len(entries) != 0 {
		t.Errorf("left %d entries in the layer store", len(entries))
	}
}

func TestSharedLibrariesDynamic(t *testing.T) {
	libs, err := SharedLibraries("/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) < 2 {
		t.Fatalf("ls needs at least its interpreter and libc, got %v", libs)
	}
	f, err := elf.Open("/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	interp, _ := interpreter(f)
	if libs[0] != interp || !strings.Contains(interp, "ld-linux") {
		t.Errorf("first entry %q, want the interpreter %q", libs[0], interp)
	}
	var names []string
	for _, l := range libs {
		if !filepath.IsAbs(l) {
			t.Errorf("%s is not absolute", l)
		}
		names = append(names, filepath.Base(l))
	}
	if !slices.Contains(names, "libc.so.6") {
		t.Errorf("no libc in %v", names)
	}
	// Every DT_NEEDED of ls itself is there, and so are the libraries those
	// need in turn (ls → libselinux → libpcre2 on Debian).
	needed, _ := f.ImportedLibraries()
	for _, n := range needed {
		if !slices.Contains(names, n) {
			t.Errorf("DT_NEEDED %s missing from %v", n, names)
		}
	}
	if slices.Contains(needed, "libselinux.so.1") && !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "libpcre2") }) {
		t.Errorf("libselinux's own dependency libpcre2 missing from %v", names)
	}
	seen := map[string]bool{}
	for _, l := range libs {
		if seen[l] {
			t.Errorf("%s listed twice", l)
		}
		seen[l] = true
	}
}

func TestSharedLibrariesStatic(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "static")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./testdata/static")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a static binary: %v\n%s", err, out)
	}
	libs, err := SharedLibraries(bin)
	if err != nil || len(libs) != 0 {
		t.Errorf("static binary needs %v, %v; want nothing", libs, err)
	}
	// Its image's base layer is the skeleton alone.
	s := testStore(t)
	s.Self = bin
	im, err := s.Get("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(im.Layers[0].Dir, "lib64")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("static image's base layer has /lib64: %v", err)
	}
}

func TestSharedLibrariesNotELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "script")
	os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
	if _, err := SharedLibraries(p); err == nil || !strings.Contains(err.Error(), "ELF") {
		t.Errorf("err = %v, want an ELF error", err)
	}
}

func TestConcurrentGet(t *testing.T) {
	s := testStore(t)
	const n = 6
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A store of its own, as another glassbox process would have:
			// only the flock keeps them apart.
			own := NewStore(s.Roots)
			own.Self = s.Self
			im, err := own.Get("calculator")
			errs[i] = err
			if im != nil {
				ids[i] = im.ID
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("Get %d: %s, %v; want %s", i, ids[i], errs[i], ids[0])
		}
	}
	entries, _ := os.ReadDir(s.Roots.LayersDir())
	if len(entries) != 2 {
		t.Errorf("layer store holds %d entries, want 2", len(entries))
	}
	images, _ := os.ReadDir(s.Roots.ImagesDir())
	for _, e := range images {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// With a lean calculator the app layer carries it instead of Self, the
// base layer no shared libraries (it needs none), and a new Self rebuilds
// the image but reuses the app layer, whose content did not change.
func TestBuiltinImageCarriesLean(t *testing.T) {
	s := testStore(t)
	lean := []byte("\x7fELF a static calculator")
	s.Lean = func(w io.Writer) (int64, error) {
		n, err := w.Write(lean)
		return int64(n), err
	}
	first, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	base, app := first.Layers[0], first.Layers[1]
	carried, err := os.ReadFile(filepath.Join(app.Dir, "app/calculator"))
	if fi, serr := os.Stat(filepath.Join(app.Dir, "app/calculator")); err != nil || serr != nil || fi.Mode().Perm() != 0o755 || !bytes.Equal(carried, lean) {
		t.Fatalf("/app/calculator = %q, %v: want the lean calculator, mode 0755", carried, err)
	}
	if app.CreatedBy != "COPY calculator /app/calculator" || strings.Contains(base.CreatedBy, "shared libraries") {
		t.Errorf("created_by: %q, %q", base.CreatedBy, app.CreatedBy)
	}
	libs, err := SharedLibraries(s.Self) // what carrying Self would have added
	if err != nil || len(libs) == 0 {
		t.Fatalf("Self's libraries: %v, %v", libs, err)
	}
	for _, lib := range libs {
		if _, err := os.Lstat(filepath.Join(base.Dir, lib)); err == nil {
			t.Errorf("base layer carries %s, which the lean calculator does not need", lib)
		}
	}

	f, err := os.OpenFile(s.Self, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("a new build"))
	f.Close()
	second, err := s.Get("calculator")
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID {
		t.Error("image not rebuilt after Self changed")
	}
	if second.Layers[0].Digest != base.Digest || second.Layers[1].Digest != app.Digest {
		t.Error("layers changed though the lean calculator did not")
	}
}
