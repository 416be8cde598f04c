package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A layer on disk is overlayfs-native, so that it mounts as a lowerdir as
// it is: a deleted file is a whiteout (a character device 0/0), a directory
// that hides what the layers below had there is opaque (the xattr
// trusted.overlay.opaque, or user.overlay.opaque for user-namespace
// mounts, set to "y"). In a tar (OCI's layer format) the same facts are
// spelt as files: .wh.NAME and DIR/.wh..wh..opq.
const (
	WhiteoutPrefix = ".wh."
	OpaqueMarker   = ".wh..wh..opq"
)

var opaqueXattrs = []string{"trusted.overlay.opaque", "user.overlay.opaque"}

// CanonicalTime is the modification time every entry of a canonical layer
// tar carries, so the same content gives the same bytes whenever it was
// made.
var CanonicalTime = time.Unix(0, 0).UTC()

// LayerStats are facts gathered while a layer is written as a tar.
type LayerStats struct {
	Size    int64 // bytes of regular file content (a hard-linked file once)
	Files   int   // entries of any kind, whiteouts included
	TarSize int64 // bytes of the canonical tar
	// Opaque lists the opaque directories ("/var/cache"), which only root
	// can see on disk (trusted.* attributes are hidden from others).
	Opaque []string
}

// DiffID returns the OCI diffID of the layer directory dir — "sha256:<hex>"
// of its canonical tar (see WriteLayer) — and its stats. It is the layer's
// identity in the store: the same content has the same diffID wherever and
// whenever it was made, and `save` writes exactly the tar it digests.
func DiffID(dir string) (string, LayerStats, error) {
	h := &countingHash{Hash: sha256.New()}
	st, err := WriteLayer(h, dir)
	if err != nil {
		return "", st, err
	}
	st.TarSize = h.n
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), st, nil
}

type countingHash struct {
	hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.Hash.Write(p)
}

// WriteLayer writes the layer directory dir to w as a canonical OCI layer
// tar: entries in lexical order of their names within each directory (a
// directory before what it holds), every mtime CanonicalTime, owners as
// numbers only, permission and setuid/setgid/sticky bits, symlinks as
// symlinks, a file's further hard links as links to its first name,
// whiteouts and opaque directories as .wh. files, extended attributes
// other than overlayfs's own as PAX records. Device nodes other than
// whiteouts are refused; sockets are left out (they cannot be carried).
func WriteLayer(w io.Writer, dir string) (LayerStats, error) {
	lw := &layerWriter{tw: tar.NewWriter(w), root: dir, links: map[[2]uint64]string{}, buf: make([]byte, 1<<20)}
	if err := lw.dir("", ""); err != nil {
		return lw.st, err
	}
	return lw.st, lw.tw.Close()
}

type layerWriter struct {
	tw    *tar.Writer
	root  string
	links map[[2]uint64]string // (dev, ino) → first name, for hard links
	buf   []byte
	st    LayerStats
}

// child is one entry of a directory, under the name it has in the tar.
type child struct {
	disk, name string
	st         unix.Stat_t
	whiteout   bool
}

// dir writes the entries below the directory rel ("" for the root), whose
// name in the tar is prefix.
func (lw *layerWriter) dir(rel, prefix string) error {
	f, err := os.Open(path.Join(lw.root, rel))
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", "/"+rel, err)
	}
	kids := make([]child, 0, len(names))
	for _, n := range names {
		c := child{disk: path.Join(rel, n), name: prefix + n}
		if err := unix.Lstat(path.Join(lw.root, c.disk), &c.st); err != nil {
			return fmt.Errorf("stat %s: %w", "/"+c.disk, err)
		}
		if isWhiteout(&c.st) {
			c.whiteout, c.name = true, prefix+WhiteoutPrefix+n
		}
		kids = append(kids, c)
	}
	slices.SortFunc(kids, func(a, b child) int { return strings.Compare(a.name, b.name) })
	for _, c := range kids {
		if err := lw.entry(c); err != nil {
			return err
		}
	}
	return nil
}

func isWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

func (lw *layerWriter) entry(c child) error {
	full := path.Join(lw.root, c.disk)
	if c.whiteout {
		return lw.marker(c.name)
	}
	if strings.HasPrefix(path.Base(c.name), WhiteoutPrefix) {
		// On disk such a name would read as a whiteout once in a tar.
		return fmt.Errorf("/%s: a file name may not start with %s in a layer", c.disk, WhiteoutPrefix)
	}
	hdr := &tar.Header{
		Name: c.name, Mode: tarMode(c.st.Mode), Uid: int(c.st.Uid), Gid: int(c.st.Gid),
		ModTime: CanonicalTime,
	}
	xattrs, opaque, err := readXattrs(full)
	if err != nil {
		return fmt.Errorf("read xattrs of /%s: %w", c.disk, err)
	}
	if len(xattrs) > 0 {
		hdr.PAXRecords = xattrs
	}
	switch c.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, c.name+"/"
	case unix.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
		if hdr.Linkname, err = os.Readlink(full); err != nil {
			return err
		}
	case unix.S_IFREG:
		key := [2]uint64{uint64(c.st.Dev), c.st.Ino}
		if first, ok := lw.links[key]; ok && c.st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			break
		}
		if c.st.Nlink > 1 {
			lw.links[key] = c.name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, c.st.Size
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFSOCK:
		return nil
	default:
		return fmt.Errorf("/%s: a device node may not be in a layer (only whiteouts, which are 0/0)", c.disk)
	}
	if err := lw.tw.WriteHeader(hdr); err != nil {
		return err
	}
	lw.st.Files++
	switch hdr.Typeflag {
	case tar.TypeReg:
		if err := lw.content(full, c, hdr.Size); err != nil {
			return err
		}
	case tar.TypeDir:
		if opaque {
			lw.st.Opaque = append(lw.st.Opaque, "/"+c.disk)
			if err := lw.marker(c.name + "/" + OpaqueMarker); err != nil {
				return err
			}
		}
		return lw.dir(c.disk, c.name+"/")
	}
	return nil
}

func (lw *layerWriter) content(full string, c child, size int64) error {
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(lw.tw, io.LimitReader(f, size), lw.buf)
	if err != nil {
		return fmt.Errorf("/%s: %w", c.disk, err)
	}
	if n != size {
		return fmt.Errorf("/%s: changed while being read", c.disk)
	}
	lw.st.Size += n
	return nil
}

// marker writes a whiteout or opaque marker: an empty file owned by root.
func (lw *layerWriter) marker(name string) error {
	lw.st.Files++
	return lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0, ModTime: CanonicalTime})
}

// tarMode is a stat mode's permission and special bits as tar spells them.
func tarMode(m uint32) int64 {
	return int64(m & (unix.S_ISUID | unix.S_ISGID | unix.S_ISVTX | 0o777))
}

// readXattrs returns the extended attributes a layer tar carries (as PAX
// SCHILY.xattr. records) and whether the directory is opaque. overlayfs's
// own attributes (trusted.overlay.*, user.overlay.*) are its bookkeeping of
// one mount, not content, and security.selinux is the host's label.
func readXattrs(p string) (map[string]string, bool, error) {
	size, err := unix.Llistxattr(p, nil)
	if err != nil || size == 0 {
		if err == unix.ENOTSUP {
			err = nil
		}
		return nil, false, err
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(p, buf)
	if err != nil {
		return nil, false, err
	}
	var out map[string]string
	opaque := false
	for _, name := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if name == "" || name == "security.selinux" {
			continue
		}
		overlay := strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
		if overlay && !slices.Contains(opaqueXattrs, name) {
			continue
		}
		val, err := getXattr(p, name)
		if err != nil {
			return nil, false, err
		}
		if overlay {
			opaque = opaque || val == "y"
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out["SCHILY.xattr."+name] = val
	}
	return out, opaque, nil
}

func getXattr(p, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(p, name, buf)
		if err == unix.ERANGE {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("xattr %s: %w", name, err)
		}
		return string(buf[:n]), nil
	}
}
