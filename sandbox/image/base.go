package image

import (
	"fmt"
	"os"
	"path/filepath"
)

// The base layer's skeleton: the directories a container's root needs as
// mount points (/proc, /sys, /dev, /tmp) or that programs expect.
var baseDirs = []struct {
	path string
	mode os.FileMode
}{
	{"app", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"proc", 0o555}, {"sys", 0o555},
	{"root", 0o700}, {"run", 0o755}, {"tmp", 0o1777}, {"var", 0o755}, {"var/tmp", 0o1777},
}

// baseFiles are the /etc files every image carries. hostname, hosts and
// resolv.conf are placeholders: the runtime generates them per sandbox (and
// may bind-mount over them, which needs a file to mount on).
var baseFiles = []struct {
	path, content string
}{
	{"etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"},
	{"etc/group", "root:x:0:\nnogroup:x:65534:\n"},
	{"etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"},
	{"etc/hostname", ""},
	{"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
	{"etc/resolv.conf", ""},
}

// fillBase writes the base layer into dir: the skeleton, the /etc files,
// and each shared library at the path it was found at on the host (its
// content, not a symlink to it: the host's tree is not there at run time).
func fillBase(dir string, libs []string) error {
	for _, d := range baseDirs {
		p := filepath.Join(dir, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode|modeSticky(d.mode)); err != nil {
			return err
		}
	}
	for _, f := range baseFiles {
		p := filepath.Join(dir, f.path)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
	}
	for _, lib := range libs {
		fi, err := os.Stat(lib)
		if err != nil {
			return err
		}
		if err := copyFile(lib, filepath.Join(dir, lib), fi.Mode().Perm()); err != nil {
			return fmt.Errorf("copy shared library %s: %w", lib, err)
		}
	}
	return nil
}

// modeSticky turns the octal 01000 written in baseDirs into Go's sticky bit
// (os.FileMode keeps it in a high bit of its own).
func modeSticky(m os.FileMode) os.FileMode {
	if m&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}
