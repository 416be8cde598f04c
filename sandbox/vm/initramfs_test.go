package vm

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gocpio "github.com/cavaliergopher/cpio"

	"glassbox/sandbox/image"
	"glassbox/sandbox/vm/guest"
)

type readEntry struct {
	mode uint32
	data string
	link string
}

func readArchive(t *testing.T, data []byte) (map[string]readEntry, []string) {
	t.Helper()
	r := gocpio.NewReader(bytes.NewReader(data))
	out := map[string]readEntry{}
	var order []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out, order
		}
		if err != nil {
			t.Fatalf("read the initramfs back: %v", err)
		}
		b, _ := io.ReadAll(r)
		out[h.Name] = readEntry{mode: uint32(h.Mode), data: string(b), link: h.Linkname}
		order = append(order, h.Name)
	}
}

// TestInitramfsCarriesTheImage writes an initramfs from two layers and a
// module tree and reads it back: the layers merged (the upper one wins),
// the modules in load order, the init's configuration, /dev/console, and
// /init linked to the command.
func TestInitramfsCarriesTheImage(t *testing.T) {
	base, app := t.TempDir(), t.TempDir()
	writeFile(t, base+"/etc/passwd", "root:x:0:0::/root:/sbin/nologin\n")
	writeFile(t, base+"/lib64/ld.so", "loader")
	writeFile(t, base+"/app/calculator", "old")
	os.Symlink("/lib64/ld.so", base+"/lib64/ld-link")
	os.MkdirAll(base+"/proc", 0o555)
	writeFile(t, app+"/app/calculator", "new calculator")
	os.Chmod(app+"/app/calculator", 0o755)
	mods := fakeModules(t, "")
	k := &Kernel{Image: "/boot/vmlinuz", Release: "6.1.0-test", Modules: mods}
	cfg := GuestConfig("glassbox-vm", []string{"/app/calculator"}, []string{"SERVER_PORT=8000"}, "/app")

	var buf bytes.Buffer
	n, err := WriteInitramfs(&buf, []string{base, app}, "", k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("reported %d bytes, wrote %d", n, buf.Len())
	}
	got, order := readArchive(t, buf.Bytes())

	if e := got["app/calculator"]; e.data != "new calculator" || e.mode != 0o100755 {
		t.Errorf("app/calculator: %+v (mode %o), want the upper layer's file, 0755", e, e.mode)
	}
	if got["etc/passwd"].data == "" || got["lib64/ld.so"].data != "loader" || got["lib64/ld-link"].link != "/lib64/ld.so" {
		t.Errorf("base layer's files are missing: %v", order)
	}
	if e := got["proc"]; e.mode != 0o040555 {
		t.Errorf("proc: mode %o, want a 0555 directory", e.mode)
	}
	if e := got["init"]; e.link != "/app/calculator" || e.mode&0o170000 != 0o120000 {
		t.Errorf("init: %+v, want a link to the command", e)
	}
	if e, ok := got["dev/console"]; !ok || e.mode != 0o020600 {
		t.Errorf("dev/console: %+v %v, want a 0600 character device", e, ok)
	}
	var gc guest.Config
	if err := json.Unmarshal([]byte(got[strings.TrimPrefix(guest.ConfigPath, "/")].data), &gc); err != nil {
		t.Fatalf("the init's configuration: %v", err)
	}
	if gc.Hostname != "glassbox-vm" || gc.Args[0] != "/app/calculator" || gc.WorkDir != "/app" || gc.Interface != "eth0" || gc.Address != "10.0.2.15/24" {
		t.Errorf("guest config %+v", gc)
	}
	if len(gc.Modules) != 8 {
		t.Fatalf("modules to load: %v, want the 8 of the network card", gc.Modules)
	}
	for i, m := range gc.Modules {
		if !strings.HasPrefix(m, "/lib/modules/6.1.0-test/kernel/") {
			t.Errorf("module %s is not below /lib/modules/<release>", m)
		}
		if _, ok := got[strings.TrimPrefix(m, "/")]; !ok {
			t.Errorf("module %s is not in the archive", m)
		}
		if i == len(gc.Modules)-1 && !strings.HasSuffix(m, "/virtio_net.ko") {
			t.Errorf("last module %s, want virtio_net (it needs the others)", m)
		}
	}
	// Every entry's parent directory comes before it.
	seen := map[string]bool{}
	for _, name := range order {
		if d := filepath.Dir(name); d != "." && !seen[d] {
			t.Errorf("%s comes before its directory %s", name, d)
		}
		seen[name] = true
	}
}

func TestInitramfsRefusesAMissingCommand(t *testing.T) {
	base := t.TempDir()
	writeFile(t, base+"/etc/passwd", "")
	cfg := GuestConfig("h", []string{"/app/calculator"}, nil, "/")
	_, err := WriteInitramfs(io.Discard, []string{base}, "", &Kernel{}, cfg)
	if err == nil || !strings.Contains(err.Error(), "/app/calculator is not a file of the image") {
		t.Errorf("command missing from the layers: %v", err)
	}
}

func TestDetectAccel(t *testing.T) {
	dir := t.TempDir()
	sys := dir + "/module"
	dev := dir + "/kvm"
	if a := detectAccel(sys, dev); a.KVM || !strings.Contains(a.Why, "no "+dev) {
		t.Errorf("no /dev/kvm: %+v", a)
	}
	writeFile(t, dev, "")
	os.MkdirAll(sys+"/kvm_pvm", 0o755)
	if a := detectAccel(sys, dev); a.KVM || !strings.Contains(a.Why, "kvm_pvm") || a.Name != "TCG" {
		t.Errorf("kvm_pvm only: %+v, want TCG naming kvm_pvm", a)
	}
	os.MkdirAll(sys+"/kvm_intel", 0o755)
	a := detectAccel(sys, dev)
	if !a.KVM || a.Name != "KVM" || !strings.Contains(strings.Join(a.args, " "), "-accel kvm") {
		t.Errorf("kvm_intel and a usable /dev/kvm: %+v", a)
	}
}

// An image that does not carry glassbox (the lean calculator) gets it as
// /init, a regular file, with the shared libraries its loader looks for;
// a library the layers have already is theirs.
func TestInitramfsAddsTheInit(t *testing.T) {
	base := t.TempDir()
	writeFile(t, base+"/app/calculator", "lean calculator")
	os.Chmod(base+"/app/calculator", 0o755)
	libs, err := image.SharedLibraries("/bin/ls")
	if err != nil || len(libs) < 2 {
		t.Fatalf("ls's libraries: %v, %v", libs, err)
	}
	writeFile(t, base+libs[1], "the image's own")
	cfg := GuestConfig("h", []string{"/app/calculator"}, nil, "/")

	var buf bytes.Buffer
	if _, err := WriteInitramfs(&buf, []string{base}, "/bin/ls", &Kernel{}, cfg); err != nil {
		t.Fatal(err)
	}
	got, _ := readArchive(t, buf.Bytes())
	ls, _ := os.ReadFile("/bin/ls")
	if e := got["init"]; e.data != string(ls) || e.mode != 0o100755 {
		t.Errorf("init: mode %o, %d bytes; want /bin/ls, a 0755 file", e.mode, len(e.data))
	}
	if e := got["app/calculator"]; e.data != "lean calculator" {
		t.Errorf("app/calculator: %q", e.data)
	}
	for i, lib := range libs {
		e, ok := got[strings.TrimPrefix(lib, "/")]
		host, _ := os.ReadFile(lib)
		switch {
		case !ok:
			t.Errorf("%s: missing", lib)
		case i == 1 && e.data != "the image's own":
			t.Errorf("%s: the image's file was replaced", lib)
		case i != 1 && e.data != string(host):
			t.Errorf("%s: %d bytes, want the host's %d", lib, len(e.data), len(host))
		}
	}
}
