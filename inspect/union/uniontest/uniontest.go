// Package uniontest writes layer directories for tests, in overlayfs's own
// format: whiteouts are real character devices 0/0 (Linux lets anyone make
// those since 5.8) and opaque directories carry the real attribute —
// trusted.overlay.opaque as root, as glassbox writes it, and
// user.overlay.opaque otherwise, as a user-namespace mount would. Nothing
// is simulated: a reader sees what it would see in the image store.
package uniontest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Layer writes a layer into a new temporary directory (see Write) and
// returns it.
func Layer(tb testing.TB, spec string) string {
	tb.Helper()
	dir := tb.TempDir()
	Write(tb, dir, spec)
	return dir
}

// Write adds the entries of spec to the layer directory dir, one a line:
//
//	f PATH SIZE      a regular file of SIZE bytes (the byte 'x' repeated)
//	z PATH SIZE      a regular file of SIZE zero bytes (binary)
//	t PATH TEXT…     a regular file holding TEXT and a newline
//	d PATH           a directory
//	o PATH           an opaque directory
//	l PATH TARGET    a symlink
//	w PATH           a whiteout
//	h PATH OTHER     a hard link to OTHER (already written)
//
// Parent directories are made as needed (mode 0755).
func Write(tb testing.TB, dir, spec string) {
	tb.Helper()
	for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		p := filepath.Join(dir, f[1])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		var err error
		switch f[0] {
		case "f":
			n, _ := strconv.Atoi(f[2])
			err = os.WriteFile(p, bytes.Repeat([]byte("x"), n), 0o644)
		case "z":
			n, _ := strconv.Atoi(f[2])
			err = os.WriteFile(p, make([]byte, n), 0o644)
		case "t":
			err = os.WriteFile(p, []byte(strings.Join(f[2:], " ")+"\n"), 0o644)
		case "d":
			err = os.MkdirAll(p, 0o755)
		case "o":
			if err = os.MkdirAll(p, 0o755); err == nil {
				err = SetOpaque(p)
			}
		case "l":
			err = os.Symlink(f[2], p)
		case "w":
			err = Whiteout(p)
		case "h":
			err = os.Link(filepath.Join(dir, f[2]), p)
		default:
			tb.Fatalf("layer spec: unknown entry %q", line)
		}
		if err != nil {
			tb.Fatalf("layer spec %q: %v", line, err)
		}
	}
}

// Whiteout makes the whiteout for p: a character device 0/0.
func Whiteout(p string) error { return unix.Mknod(p, unix.S_IFCHR, 0) }

// SetOpaque marks a directory opaque the way overlayfs does.
func SetOpaque(p string) error {
	name := "user.overlay.opaque"
	if os.Geteuid() == 0 {
		name = "trusted.overlay.opaque"
	}
	return unix.Setxattr(p, name, []byte("y"), 0)
}

// Course is a stack of three layers, base first, with every case the
// explorer explains: a base; a step that changes a file, deletes one (a
// whiteout), hides a directory's content (an opaque directory) and leaves
// leftovers; a step that deletes what the one before added and writes
// files again.
var Course = []string{`
f /bin/busybox 5000
l /bin/sh busybox
t /etc/passwd root:x:0:0
f /etc/hosts 50
f /var/cache/app/a 1000
f /var/cache/app/b 2000
d /tmp`, `
f /etc/passwd 120
w /etc/hosts
o /var/cache/app
f /var/cache/app/c 10
f /big 30000
f /var/lib/apt/lists/deb_main 4000
f /var/log/build.log 700
f /var/log/keep.txt 5`, `
w /big
f /bin/busybox 5000
f /etc/passwd 130
f /root/.cache/pip/wheel 300
f /tmp/x 1`}

// BigFiles is how many regular files BigLayers writes.
const BigFiles = 50_000

// BigLayers writes an image of 50 000 files in four layers below dir and
// returns their directories, base first: a base of 30 000 files in 300
// directories; a layer adding 10 000 and rewriting 2 000; one adding
// 7 500, removing 500 (whiteouts) and making a directory opaque; one
// adding 500 leftovers (apt lists, logs).
func BigLayers(tb testing.TB, dir string) []string {
	tb.Helper()
	file := func(layer, p string, size int) {
		full := filepath.Join(dir, layer, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, make([]byte, size), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for d := range 300 {
		for f := range 100 {
			file("l1", fmt.Sprintf("/usr/share/pkg%03d/file%03d", d, f), 100+f)
		}
	}
	for d := range 100 {
		for f := range 100 {
			file("l2", fmt.Sprintf("/opt/app/mod%03d/src%03d.py", d, f), 2000)
		}
	}
	for d := range 20 {
		for f := range 100 {
			file("l2", fmt.Sprintf("/usr/share/pkg%03d/file%03d", d, f), 300)
		}
	}
	for d := range 75 {
		for f := range 100 {
			file("l3", fmt.Sprintf("/srv/data/set%03d/item%03d", d, f), 500)
		}
	}
	for f := range 500 {
		p := filepath.Join(dir, "l3", fmt.Sprintf("/usr/share/pkg%03d/file%03d", 100+f/100, f%100))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := Whiteout(p); err != nil {
			tb.Fatal(err)
		}
	}
	opq := filepath.Join(dir, "l3", "/usr/share/pkg299")
	if err := os.MkdirAll(opq, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := SetOpaque(opq); err != nil {
		tb.Fatal(err)
	}
	for f := range 250 {
		file("l4", fmt.Sprintf("/var/lib/apt/lists/list%03d", f), 4000)
		file("l4", fmt.Sprintf("/var/log/apt/run%03d.log", f), 1000)
	}
	var dirs []string
	for _, l := range []string{"l1", "l2", "l3", "l4"} {
		dirs = append(dirs, filepath.Join(dir, l))
	}
	return dirs
}
