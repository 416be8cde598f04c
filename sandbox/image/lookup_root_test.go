package image

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// TestResolveMergesAsOverlayfs: Resolve finds a file as a process in the
// merged root would: whiteouts and opaque directories hide the layers below,
// symlinks (relative, absolute, on the way and at the end) resolve inside
// the root and never on the host.
func TestResolveMergesAsOverlayfs(t *testing.T) {
	sandboxtest.RequireRoot(t) // whiteouts are character devices, opaque dirs trusted xattrs
	base := t.TempDir()
	lower := state.Layer{Dir: filepath.Join(base, "lower")}
	upper := state.Layer{Dir: filepath.Join(base, "upper")}
	file := func(l state.Layer, p string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(l.Dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(l.Dir, p), []byte(p), mode); err != nil {
			t.Fatal(err)
		}
	}
	link := func(l state.Layer, p, target string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(l.Dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(l.Dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	file(lower, "usr/bin/tool", 0o755)
	file(lower, "usr/bin/gone", 0o755)
	file(lower, "opt/app/old", 0o644)
	file(lower, "etc/passwd", 0o644)
	link(lower, "bin", "usr/bin")
	link(lower, "sbin", "/usr/bin")
	link(lower, "etc/escape", "../../../../etc/passwd")
	link(lower, "etc/loop", "loop")
	link(upper, "usr/bin/latest", "./tool")
	file(upper, "opt/app/new", 0o644)
	if err := unix.Mknod(filepath.Join(upper.Dir, "usr/bin/gone"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(upper.Dir, "opt/app"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	layers := []state.Layer{upper, lower}
	for _, c := range []struct {
		inside, host string // host "" = not found
	}{
		{"/usr/bin/tool", "lower/usr/bin/tool"},
		{"/bin/tool", "lower/usr/bin/tool"},   // a relative link on the way
		{"/sbin/tool", "lower/usr/bin/tool"},  // an absolute one: the sandbox's /usr
		{"/bin/latest", "lower/usr/bin/tool"}, // a link at the end, in the upper layer
		{"/usr/bin/gone", ""},                 // whited out above
		{"/bin/gone", ""},                     // …through a link too
		{"/opt/app/new", "upper/opt/app/new"}, //
		{"/opt/app/old", ""},                  // below an opaque directory
		{"/etc/escape", "lower/etc/passwd"},   // ".." stops at the sandbox's /
		{"/usr/bin/../../etc/passwd", "lower/etc/passwd"},
		{"/etc/loop", ""},
		{"/usr/bin/tool/x", ""},
	} {
		host, fi, ok := Resolve(layers, c.inside)
		switch {
		case c.host == "" && ok:
			t.Errorf("Resolve(%s) = %s, want not found", c.inside, host)
		case c.host != "" && (!ok || host != filepath.Join(base, c.host)):
			t.Errorf("Resolve(%s) = %q, %v; want %s", c.inside, host, ok, c.host)
		case ok && fi.Mode()&os.ModeSymlink != 0:
			t.Errorf("Resolve(%s) returned a symlink", c.inside)
		}
	}
	if _, ok := Lookup(layers, "/bin"); !ok {
		t.Error("Lookup(/bin) does not find the symlink itself")
	}
	if _, ok := Lookup(layers, "/bin/tool"); ok {
		t.Error("Lookup follows a symlink; only Resolve does")
	}
}
