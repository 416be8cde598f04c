package vm

import (
	"bytes"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInitramfsHonoursWhiteouts: a whiteout (0/0 character device) in an
// upper layer removes a lower file; an opaque directory hides the lower
// directory's content. Making both needs root.
func TestInitramfsHonoursWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make whiteouts (mknod) and trusted.* xattrs")
	}
	base, top := t.TempDir(), t.TempDir()
	writeFile(t, base+"/app/calculator", "calc")
	writeFile(t, base+"/gone", "x")
	writeFile(t, base+"/data/old", "x")
	if err := unix.Mknod(top+"/gone", unix.S_IFCHR|0o600, 0); err != nil {
		t.Fatal(err)
	}
	writeFile(t, top+"/data/new", "y")
	if err := unix.Setxattr(top+"/data", "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	cfg := GuestConfig("h", []string{"/app/calculator"}, nil, "/")
	if _, err := WriteInitramfs(&buf, []string{base, top}, "", &Kernel{}, cfg); err != nil {
		t.Fatal(err)
	}
	got, _ := readArchive(t, buf.Bytes())
	if _, ok := got["gone"]; ok {
		t.Error("a whited-out file is in the initramfs")
	}
	if _, ok := got["data/old"]; ok {
		t.Error("a file below an opaque directory's lower layer is in the initramfs")
	}
	if got["data/new"].data != "y" {
		t.Error("the opaque directory's own file is missing")
	}
}
