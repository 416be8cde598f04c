package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// A command an upper layer deleted (a whiteout) or hid (an opaque
// directory) is not in the image, whatever the layers below hold.
func TestResolveCommandHonoursWhiteouts(t *testing.T) {
	sandboxtest.RequireRoot(t) // whiteouts are character devices, opaque dirs trusted xattrs
	base := t.TempDir()
	lower := state.Layer{Dir: filepath.Join(base, "lower")}
	upper := state.Layer{Dir: filepath.Join(base, "upper")}
	for _, p := range []string{"bin/deleted", "usr/local/bin/hidden", "bin/kept"} {
		f := filepath.Join(lower.Dir, p)
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(upper.Dir, "bin"), 0o755)
	os.MkdirAll(filepath.Join(upper.Dir, "usr/local/bin"), 0o755)
	if err := unix.Mknod(filepath.Join(upper.Dir, "bin/deleted"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(upper.Dir, "usr/local/bin"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	layers := []state.Layer{upper, lower}
	env := []string{"PATH=/usr/local/bin:/bin"}
	if p, err := resolveCommand(layers, "kept", env); err != nil || p != "/bin/kept" {
		t.Errorf("kept: %q, %v", p, err)
	}
	for _, name := range []string{"deleted", "hidden", "/bin/deleted", "/usr/local/bin/hidden"} {
		p, err := resolveCommand(layers, name, env)
		if err == nil {
			t.Errorf("%s: found at %s, though an upper layer removed it", name, p)
		} else if !strings.Contains(err.Error(), "not found in the image's PATH") && !strings.Contains(err.Error(), "no such file in the image") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
