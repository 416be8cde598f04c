package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tarEntries lists a layer tar as "type name [-> link] mode uid:gid size".
func tarEntries(t *testing.T, dir string) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := WriteLayer(&buf, dir); err != nil {
		t.Fatal(err)
	}
	var out []string
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(CanonicalTime) || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %v owner names %q %q; want the canonical time and numbers only", h.Name, h.ModTime, h.Uname, h.Gname)
		}
		link := ""
		if h.Linkname != "" {
			link = " -> " + h.Linkname
		}
		out = append(out, fmt.Sprintf("%c %s%s %04o %d:%d %d", h.Typeflag, h.Name, link, h.Mode, h.Uid, h.Gid, h.Size))
		for k, v := range h.PAXRecords {
			if strings.HasPrefix(k, "SCHILY.xattr.") {
				out = append(out, "  xattr "+strings.TrimPrefix(k, "SCHILY.xattr.")+"="+v)
			}
		}
	}
	return out
}

func TestCanonicalLayerTar(t *testing.T) {
	mk := func(content string, mode os.FileMode, mtime time.Time) (string, string) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "a/b"), 0o755)
		p := filepath.Join(dir, "a/b/f")
		os.WriteFile(p, []byte(content), mode)
		os.Chmod(p, mode)
		os.Symlink("b/f", filepath.Join(dir, "a/link"))
		os.Link(p, filepath.Join(dir, "a/hard"))
		os.WriteFile(filepath.Join(dir, "a.txt"), []byte("z"), 0o644)
		for _, q := range []string{p, filepath.Join(dir, "a"), filepath.Join(dir, "a.txt")} {
			os.Chtimes(q, mtime, mtime)
		}
		d, _, err := DiffID(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d, dir
	}
	base, dir := mk("x", 0o644, time.Unix(1, 0))
	if again, _ := mk("x", 0o644, time.Unix(2e9, 0)); again != base {
		t.Error("diffID depends on mtimes")
	}
	if other, _ := mk("y", 0o644, time.Unix(1, 0)); other == base {
		t.Error("diffID ignores a byte of content")
	}
	if other, _ := mk("x", 0o755, time.Unix(1, 0)); other == base {
		t.Error("diffID ignores permissions")
	}
	got := strings.Join(tarEntries(t, dir), "\n")
	// a/ before its children, a.txt after a/'s subtree (lexical by name
	// within each directory); the second name of a hard-linked file is a
	// link to the first.
	for _, line := range []string{"5 a/ 0755 0:0 0", "5 a/b/ 0755 0:0 0", "0 a/b/f 0644 0:0 1", "1 a/hard -> a/b/f 0644 0:0 0", "2 a/link -> b/f 0777 0:0 0", "0 a.txt 0644 0:0 1"} {
		if !strings.Contains(got, line) {
			t.Errorf("tar lacks %q:\n%s", line, got)
		}
	}
	if strings.Index(got, "a/hard") > strings.Index(got, "a.txt") {
		t.Errorf("entries out of order:\n%s", got)
	}
}
