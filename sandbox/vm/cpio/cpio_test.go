package cpio

import (
	"bytes"
	"glassbox/sandbox/sandboxtest"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gocpio "github.com/cavaliergopher/cpio"
)

// entry is what a test writes and expects to read back.
type entry struct {
	name, data, link string
	mode             uint32 // st_mode as cpio stores it, type bits included
}

// sample writes an archive with one of each kind of entry, including data
// whose length is not a multiple of four (the padding) and an empty file.
func sample(t *testing.T) ([]byte, []entry) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Dir("/dev", 0o755))
	must(w.CharDev("dev/console", 0o600, 5, 1))
	must(w.Dir("./app", 0o755))
	must(w.File("app/calculator", 0o755, 5, strings.NewReader("hello")))
	must(w.File("app/empty", 0o644, 0, strings.NewReader("")))
	must(w.File("app/three", 0o640, 3, strings.NewReader("abcdef"))) // only size bytes are taken
	must(w.Dir("tmp", 0o777|fs.ModeSticky))
	must(w.Symlink("init", "/app/calculator"))
	must(w.Close())
	return buf.Bytes(), []entry{
		{name: "dev", mode: 0o040755},
		{name: "dev/console", mode: 0o020600},
		{name: "app", mode: 0o040755},
		{name: "app/calculator", mode: 0o100755, data: "hello"},
		{name: "app/empty", mode: 0o100644},
		{name: "app/three", mode: 0o100640, data: "abc"},
		{name: "tmp", mode: 0o041777},
		{name: "init", mode: 0o120777, link: "/app/calculator"},
	}
}

// TestReadBackWithGoReader reads the archive with an independent newc
// reader: names, types, permission bits, data and link targets survive.
func TestReadBackWithGoReader(t *testing.T) {
	data, want := sample(t)
	if len(data)%4 != 0 {
		t.Errorf("archive is %d bytes, not a multiple of 4", len(data))
	}
	r := gocpio.NewReader(bytes.NewReader(data))
	var got []entry
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read entry %d: %v", len(got)+1, err)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		if h.Uid != 0 || h.Guid != 0 || h.ModTime.Unix() != 0 {
			t.Errorf("%s: uid %d gid %d mtime %d, want root and 0", h.Name, h.Uid, h.Guid, h.ModTime.Unix())
		}
		got = append(got, entry{name: h.Name, mode: uint32(h.Mode), data: string(body), link: h.Linkname})
	}
	if len(got) != len(want) {
		t.Fatalf("read %d entries, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %+v (mode %o), want %+v (mode %o)", i, got[i], got[i].mode, want[i], want[i].mode)
		}
	}
}

// TestReadBackWithCpio lists the archive with GNU cpio, then extracts it
// and compares what lands on disk.
func TestReadBackWithCpio(t *testing.T) {
	bin, err := exec.LookPath("cpio")
	if err != nil {
		sandboxtest.Missing(t, "cpio", "apt-get install cpio")
	}
	data, want := sample(t)
	cmd := exec.Command(bin, "-t", "--quiet")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	var names []string
	for _, e := range want {
		names = append(names, e.name)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("cpio -t lists %q, want %q", got, names)
	}

	cmd = exec.Command(bin, "-tv", "--quiet")
	cmd.Stdin = bytes.NewReader(data)
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -tv: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "5,") || !strings.HasPrefix(string(out[strings.Index(string(out), "\n")+1:]), "crw-------") {
		t.Errorf("cpio -tv does not show dev/console as character device 5, 1:\n%s", out)
	}

	dir := t.TempDir()
	cmd = exec.Command(bin, "-i", "--quiet", "--no-absolute-filenames", "--make-directories", "--no-preserve-owner")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Geteuid() != 0 && strings.Contains(string(out), "console") {
			t.Skip("extracting a device node needs root")
		}
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	for _, e := range want {
		p := filepath.Join(dir, e.name)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Errorf("extracted: %v", err)
			continue
		}
		switch e.mode & 0o170000 {
		case typeRegular:
			b, _ := os.ReadFile(p)
			if string(b) != e.data || fi.Mode().Perm() != fs.FileMode(e.mode&0o777) {
				t.Errorf("%s: %q mode %v, want %q mode %o", e.name, b, fi.Mode(), e.data, e.mode&0o777)
			}
		case typeSymlink:
			if l, _ := os.Readlink(p); l != e.link {
				t.Errorf("%s: link to %q, want %q", e.name, l, e.link)
			}
		case typeDir:
			if !fi.IsDir() {
				t.Errorf("%s: %v, want a directory", e.name, fi.Mode())
			}
		case typeCharDev:
			if fi.Mode()&fs.ModeCharDevice == 0 {
				t.Errorf("%s: %v, want a character device", e.name, fi.Mode())
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "tmp")); err != nil || fi.Mode()&fs.ModeSticky == 0 {
		t.Errorf("tmp lost its sticky bit: %v %v", fi, err)
	}
}

func TestRefusesBadNames(t *testing.T) {
	w := NewWriter(io.Discard)
	for _, name := range []string{"", "/", ".", "..", "../etc", "a/../../b", "a//b", "TRAILER!!!"} {
		if err := w.Dir(name, 0o755); err == nil {
			t.Errorf("Dir(%q) was accepted", name)
		}
	}
	w.Close()
	if err := w.Dir("late", 0o755); err == nil {
		t.Error("an entry after Close was accepted")
	}
}

func TestShortDataIsAnError(t *testing.T) {
	w := NewWriter(io.Discard)
	if err := w.File("short", 0o644, 10, strings.NewReader("abc")); err == nil {
		t.Error("a file with less data than its size was accepted")
	}
}
