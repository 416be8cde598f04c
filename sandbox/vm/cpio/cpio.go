// Package cpio writes cpio archives in the "newc" format (SVR4 without
// checksums, magic 070701): the format the Linux kernel unpacks an
// initramfs from (Documentation/driver-api/early-userspace/buffer-format).
//
// Each entry is a 110-byte ASCII header — the magic and thirteen 8-digit
// hexadecimal fields — then the name and a NUL, padded with NULs to a
// multiple of four bytes, then the data, padded the same way. A last entry
// named TRAILER!!! ends the archive.
//
// Entries get fixed metadata (owner root, mtime 0) so that the same input
// always makes the same bytes.
package cpio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

const (
	magic   = "070701"
	trailer = "TRAILER!!!"

	// File type bits of st_mode, as cpio stores them.
	typeDir     = 0o040000
	typeRegular = 0o100000
	typeSymlink = 0o120000
	typeCharDev = 0o020000
)

// Writer writes one archive. Names are relative to the archive's root
// ("init", "dev/console"); a leading "/" or "./" is dropped. Directories
// must be written before what they hold: the kernel creates each entry as
// it reads it.
type Writer struct {
	w      io.Writer
	n      int64 // bytes written so far (for the padding)
	ino    uint32
	closed bool
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// header is one entry's header fields, in the order newc stores them.
type header struct {
	mode, nlink          uint32
	size                 int64
	rdevmajor, rdevminor uint32
	name                 string
}

// Dir adds a directory.
func (w *Writer) Dir(name string, perm fs.FileMode) error {
	return w.entry(header{mode: typeDir | modeBits(perm), nlink: 2, name: name}, nil)
}

// File adds a regular file of size bytes read from r.
func (w *Writer) File(name string, perm fs.FileMode, size int64, r io.Reader) error {
	return w.entry(header{mode: typeRegular | modeBits(perm), nlink: 1, size: size, name: name}, r)
}

// Symlink adds a symbolic link to target; the target is the entry's data.
func (w *Writer) Symlink(name, target string) error {
	return w.entry(header{mode: typeSymlink | 0o777, nlink: 1, size: int64(len(target)), name: name}, strings.NewReader(target))
}

// CharDev adds a character device node (an initramfs needs /dev/console
// before devtmpfs is mounted: the kernel opens it for init's stdio).
func (w *Writer) CharDev(name string, perm fs.FileMode, major, minor uint32) error {
	return w.entry(header{mode: typeCharDev | modeBits(perm), nlink: 1, rdevmajor: major, rdevminor: minor, name: name}, nil)
}

// Close writes the trailer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	return w.write(header{nlink: 1, name: trailer}, nil, false)
}

func (w *Writer) entry(h header, data io.Reader) error {
	if w.closed {
		return errors.New("cpio: write after close")
	}
	name, err := clean(h.name)
	if err != nil {
		return err
	}
	h.name = name
	return w.write(h, data, true)
}

func (w *Writer) write(h header, data io.Reader, numbered bool) error {
	var ino uint32
	if numbered {
		w.ino++
		ino = w.ino
	}
	if h.size < 0 || h.size > 0xffffffff {
		return fmt.Errorf("cpio: %s: size %d does not fit newc's 32 bits", h.name, h.size)
	}
	fields := []uint32{
		ino, h.mode, 0 /* uid */, 0 /* gid */, h.nlink, 0, /* mtime */
		uint32(h.size), 0, 0 /* dev major, minor */, h.rdevmajor, h.rdevminor,
		uint32(len(h.name) + 1), 0, /* check: only the 070702 format uses it */
	}
	var b strings.Builder
	b.WriteString(magic)
	for _, f := range fields {
		fmt.Fprintf(&b, "%08x", f)
	}
	b.WriteString(h.name)
	b.WriteByte(0)
	if err := w.put([]byte(b.String())); err != nil {
		return err
	}
	if err := w.pad(); err != nil {
		return err
	}
	if h.size > 0 {
		n, err := io.Copy(countWriter{w}, io.LimitReader(data, h.size))
		if err != nil {
			return fmt.Errorf("cpio: %s: %w", h.name, err)
		}
		if n != h.size {
			return fmt.Errorf("cpio: %s: %d bytes, want %d", h.name, n, h.size)
		}
	}
	return w.pad()
}

func (w *Writer) put(p []byte) error {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return err
}

// pad writes NULs up to the next multiple of four bytes.
func (w *Writer) pad() error {
	if r := w.n % 4; r != 0 {
		return w.put(make([]byte, 4-r))
	}
	return nil
}

type countWriter struct{ w *Writer }

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.w.Write(p)
	c.w.n += int64(n)
	return n, err
}

// clean turns "/a/b" or "./a/b" into "a/b" and refuses names that are not
// clean paths inside the archive's root.
func clean(name string) (string, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(name, "./"), "/")
	if s == "" || s == "." || s == trailer || path.Clean(s) != s || s == ".." || strings.HasPrefix(s, "../") {
		return "", fmt.Errorf("cpio: bad entry name %q", name)
	}
	return s, nil
}

// modeBits keeps the permission bits and setuid/setgid/sticky, in st_mode's
// positions (Go's fs.FileMode keeps the last three elsewhere).
func modeBits(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return bits
}
