package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxEntrySize bounds one file of a layer archive: anything larger is
// taken as a hostile or broken archive, not unpacked.
const MaxEntrySize = 64 << 30

// Unpack writes an OCI layer tar into dir as an overlayfs-native layer:
// .wh.NAME becomes a whiteout (a 0/0 character device), .wh..wh..opq the
// opaque xattr on its directory (userxattr: user.overlay.opaque instead of
// trusted.), .wh..wh..plnk* is skipped. Hard links, modes, owners, xattrs
// and symlinks (as symlinks) are kept. Entries that would leave dir —
// ".." in a name, a path through a symlink, a hard link to outside —,
// device nodes and absurd sizes are refused with an error; the caller
// discards dir then.
func Unpack(r io.Reader, dir string, userxattr bool) (LayerStats, error) {
	var st LayerStats
	tr := tar.NewReader(r)
	opaque := "trusted.overlay.opaque"
	if userxattr {
		opaque = "user.overlay.opaque"
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("read the layer: %w", err)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return st, err
		}
		if name == "" {
			continue // the layer's root itself
		}
		st.Files++
		parent, base := path.Dir(name), path.Base(name)
		if err := MkdirParents(dir, name); err != nil {
			return st, fmt.Errorf("%s: %w", h.Name, err)
		}
		pdir := filepath.Join(dir, parent)
		switch {
		case base == OpaqueMarker:
			if err := unix.Setxattr(pdir, opaque, []byte("y"), 0); err != nil {
				return st, fmt.Errorf("%s: mark %s opaque: %w", h.Name, parent, err)
			}
			// The user.* spelling too, where the file system has user
			// xattrs (tmpfs before Linux 6.6 has not): the layer may also
			// be a lower of a --userns sandbox, whose userxattr mount
			// reads only user.overlay.*.
			if !userxattr {
				if err := unix.Setxattr(pdir, "user.overlay.opaque", []byte("y"), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
					return st, fmt.Errorf("%s: mark %s opaque: %w", h.Name, parent, err)
				}
			}
			continue
		case strings.HasPrefix(base, WhiteoutPrefix+WhiteoutPrefix):
			continue // .wh..wh..plnk and other aufs bookkeeping
		case strings.HasPrefix(base, WhiteoutPrefix):
			target := filepath.Join(pdir, strings.TrimPrefix(base, WhiteoutPrefix))
			os.RemoveAll(target)
			if err := unix.Mknod(target, unix.S_IFCHR, 0); err != nil {
				return st, fmt.Errorf("%s: whiteout: %w", h.Name, err)
			}
			continue
		}
		target := filepath.Join(dir, name)
		if err := unpackEntry(tr, h, dir, target); err != nil {
			return st, fmt.Errorf("%s: %w", h.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			st.Size += h.Size
		}
		if h.Typeflag != tar.TypeLink {
			if err := os.Lchown(target, h.Uid, h.Gid); err != nil {
				return st, fmt.Errorf("%s: %w", h.Name, err)
			}
			for k, v := range h.PAXRecords {
				x, ok := strings.CutPrefix(k, "SCHILY.xattr.")
				if !ok || x == "security.selinux" || strings.HasPrefix(x, "trusted.overlay.") || strings.HasPrefix(x, "user.overlay.") {
					continue
				}
				if err := unix.Lsetxattr(target, x, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
					return st, fmt.Errorf("%s: xattr %s: %w", h.Name, x, err)
				}
			}
			if h.Typeflag != tar.TypeSymlink {
				// after chown, which clears setuid and setgid
				if err := os.Chmod(target, fileMode(h.Mode)); err != nil {
					return st, fmt.Errorf("%s: %w", h.Name, err)
				}
				os.Chtimes(target, h.ModTime, h.ModTime)
			}
		}
	}
}

// entryName cleans a tar entry's name; one that climbs out is an error.
func entryName(n string) (string, error) {
	c := path.Clean("/" + n)
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the layer (..): refusing the archive", n)
		}
	}
	return strings.TrimPrefix(c, "/"), nil
}

func fileMode(m int64) os.FileMode {
	mode := os.FileMode(m & 0o777)
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

func unpackEntry(tr *tar.Reader, h *tar.Header, root, target string) error {
	switch h.Typeflag {
	case tar.TypeDir:
		fi, err := os.Lstat(target)
		if err == nil && fi.IsDir() {
			return nil
		}
		os.RemoveAll(target)
		return os.Mkdir(target, 0o755)
	case tar.TypeReg, tar.TypeRegA:
		if h.Size < 0 || h.Size > MaxEntrySize {
			return fmt.Errorf("a file of %d bytes: refusing the archive", h.Size)
		}
		os.RemoveAll(target) // never write through what was there (a symlink)
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && n != h.Size {
			err = fmt.Errorf("%d of %d bytes", n, h.Size)
		}
		return err
	case tar.TypeSymlink:
		os.RemoveAll(target)
		return os.Symlink(h.Linkname, target)
	case tar.TypeLink:
		src, err := entryName(h.Linkname)
		if err != nil {
			return err
		}
		old := filepath.Join(root, src)
		if fi, err := os.Lstat(old); err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("hard link to %q: not a file earlier in the layer; refusing the archive", h.Linkname)
		}
		if err := checkNoSymlinks(root, src); err != nil {
			return err
		}
		os.RemoveAll(target)
		return os.Link(old, target)
	case tar.TypeFifo:
		os.RemoveAll(target)
		return unix.Mkfifo(target, 0o600)
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Errorf("a device node (%d:%d) is not allowed in a layer: refusing the archive", h.Devmajor, h.Devminor)
	}
	return fmt.Errorf("unsupported tar entry type %q: refusing the archive", h.Typeflag)
}

// MkdirParents creates the directories leading to inside (not inside
// itself) below root, 0755 and root's, refusing to go through a symlink or
// anything but a directory: an archive cannot write outside root that way.
func MkdirParents(root, inside string) error {
	cur := root
	for _, part := range strings.Split(strings.Trim(path.Dir("/"+inside), "/"), "/") {
		if part == "" || part == "." {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory (a symlink or file on the way): refusing", strings.TrimPrefix(cur, root))
		}
	}
	return nil
}

func checkNoSymlinks(root, inside string) error {
	cur := root
	parts := strings.Split(inside, "/")
	for _, part := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, part)
		if fi, err := os.Lstat(cur); err != nil || !fi.IsDir() {
			return fmt.Errorf("%s: not a directory on the way", inside)
		}
	}
	return nil
}
