package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Whiteouts and opaque directories, overlayfs's way on disk, are OCI's
// .wh. files in the tar; overlayfs's other xattrs are left out, others
// kept. Needs root for the device node and trusted.* xattrs.
func TestLayerTarWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make whiteouts (mknod) and trusted.* xattrs; run the tests as root (CI does)")
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc/opq"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc/opq/new"), []byte("n"), 0o600)
	if err := unix.Mknod(filepath.Join(dir, "etc/gone"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(dir, "etc/opq"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	unix.Setxattr(filepath.Join(dir, "etc"), "trusted.overlay.impure", []byte("y"), 0)
	userXattrs := true
	if err := unix.Setxattr(filepath.Join(dir, "etc/opq/new"), "user.note", []byte("kept"), 0); err == unix.ENOTSUP {
		// tmpfs before Linux 6.6 (the cgroup v2 VM's /tmp) has no user.* xattrs
		t.Logf("%s does not take user.* xattrs: their carrying is not checked here", dir)
		userXattrs = false
	} else if err != nil {
		t.Fatal(err)
	}
	os.Chown(filepath.Join(dir, "etc/opq/new"), 1000, 2000)
	got := strings.Join(tarEntries(t, dir), "\n")
	for _, line := range []string{
		"0 etc/.wh.gone 0000 0:0 0", "5 etc/opq/ 0755 0:0 0", "0 etc/opq/.wh..wh..opq 0000 0:0 0",
		"0 etc/opq/new 0600 1000:2000 1", "  xattr user.note=kept",
	} {
		if line == "  xattr user.note=kept" && !userXattrs {
			continue
		}
		if !strings.Contains(got, line) {
			t.Errorf("tar lacks %q:\n%s", line, got)
		}
	}
	if strings.Contains(got, "overlay") {
		t.Errorf("overlayfs's own xattrs in the tar:\n%s", got)
	}
	if strings.Index(got, ".wh..wh..opq") > strings.Index(got, "opq/new") {
		t.Errorf("opaque marker after the directory's content:\n%s", got)
	}
	// A device node that is not a whiteout is refused.
	if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := DiffID(dir); err == nil || !strings.Contains(err.Error(), "device node") {
		t.Errorf("a device node in a layer: %v, want a refusal", err)
	}
}
