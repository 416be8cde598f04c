package sandboxtest

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// BusyboxImage is the name ImportBusybox gives its image.
const BusyboxImage = "glassbox-test/busybox:latest"

// ImportBusybox makes an image of the machine's static busybox (a root with
// /bin/busybox and a link per applet; the command defaults to sh) in this
// dockerd, without a registry, and returns its name. It needs busybox-static.
func (d *Docker) ImportBusybox(t testing.TB) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		Missing(t, "busybox", "apt-get install busybox-static")
	}
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatalf("read %s: %v", bb, err)
	}
	applets, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", bb, err)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, dir := range []string{"bin", "dev", "etc", "proc", "sys", "tmp", "root"} {
		mode := int64(0o755)
		if dir == "tmp" {
			mode = 0o1777
		}
		tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: mode})
	}
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))})
	tw.Write(bin)
	for _, a := range strings.Fields(string(applets)) {
		if a != "busybox" {
			tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777})
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("busybox layer: %v", err)
	}
	cmd := d.Command("import", "--change", `CMD ["/bin/sh"]`, "--change", "ENV PATH=/bin", "-", BusyboxImage)
	cmd.Stdin = &layer
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	return BusyboxImage
}
