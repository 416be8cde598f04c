//go:build linux

package union

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// opaqueXattrs mark an opaque directory: trusted.* on mounts made by root,
// user.* on mounts with the userxattr option (user namespaces).
var opaqueXattrs = []string{"trusted.overlay.opaque", "user.overlay.opaque"}

// layerReader reads one layer directory with *at system calls relative to
// each directory's descriptor: no path is resolved twice and no symlink is
// followed. Subdirectories are read in parallel while a worker is free:
// the cost is one fstatat per entry, and the cores can share them.
type layerReader struct {
	recorded map[string]bool // opaque directories the record lists
	workers  chan struct{}   // free workers; a directory is read inline when none is
	wg       sync.WaitGroup

	mu    sync.Mutex // guards what follows
	st    LayerStats
	links map[uint64]bool // inodes of hard-linked files already counted
	err   error
}

// readLayers reads every layer, in parallel.
func readLayers(layers []Layer) ([]*Entry, []LayerStats, error) {
	workers := make(chan struct{}, runtime.GOMAXPROCS(0)-1)
	roots := make([]*Entry, len(layers))
	stats := make([]LayerStats, len(layers))
	errs := make([]error, len(layers))
	var wg sync.WaitGroup
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roots[i], stats[i], errs[i] = readLayer(l, workers)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, nil, fmt.Errorf("read layer %s: %w", Number(&Stack{Layers: layers}, i), err)
		}
	}
	return roots, stats, nil
}

func readLayer(l Layer, workers chan struct{}) (*Entry, LayerStats, error) {
	r := &layerReader{workers: workers}
	if l.Opaque != nil {
		r.recorded = map[string]bool{}
		for _, p := range l.Opaque {
			r.recorded[path.Clean("/"+p)] = true
		}
	} else if os.Geteuid() != 0 {
		r.st.OpaqueUnknown = true
	}
	fd, err := unix.Open(l.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, r.st, &os.PathError{Op: "open", Path: l.Dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, r.st, &os.PathError{Op: "stat", Path: l.Dir, Err: err}
	}
	root := entry("", &st)
	if root.Opaque = r.opaque(fd, "/"); root.Opaque {
		r.st.Opaques++
	}
	r.wg.Add(1)
	r.dir(fd, "/", root)
	r.wg.Wait()
	return root, r.st, r.err
}

// entry turns a stat into an Entry.
func entry(name string, st *unix.Stat_t) *Entry {
	e := &Entry{
		Name: name, Mode: fs.FileMode(st.Mode & 0o777), UID: st.Uid, GID: st.Gid,
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), ino: st.Ino, nlink: uint32(st.Nlink),
	}
	if st.Mode&unix.S_ISUID != 0 {
		e.Mode |= fs.ModeSetuid
	}
	if st.Mode&unix.S_ISGID != 0 {
		e.Mode |= fs.ModeSetgid
	}
	if st.Mode&unix.S_ISVTX != 0 {
		e.Mode |= fs.ModeSticky
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e.Kind, e.Size = File, st.Size
	case unix.S_IFDIR:
		e.Kind, e.Mode = Dir, e.Mode|fs.ModeDir
	case unix.S_IFLNK:
		e.Kind, e.Mode = Symlink, e.Mode|fs.ModeSymlink
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			e.Kind, e.Mode = Whiteout, fs.ModeCharDevice|fs.ModeDevice
		} else {
			e.Kind, e.Mode = Other, e.Mode|fs.ModeCharDevice|fs.ModeDevice
		}
	case unix.S_IFBLK:
		e.Kind, e.Mode = Other, e.Mode|fs.ModeDevice
	case unix.S_IFIFO:
		e.Kind, e.Mode = Other, e.Mode|fs.ModeNamedPipe
	default:
		e.Kind, e.Mode = Other, e.Mode|fs.ModeSocket
	}
	return e
}

// dir reads the directory open as fd (at path p inside the layer) into e,
// closes fd and marks itself done in r.wg.
func (r *layerReader) dir(fd int, p string, e *Entry) {
	defer r.wg.Done()
	var st LayerStats
	defer func() {
		r.mu.Lock()
		r.st.Files += st.Files
		r.st.Size += st.Size
		r.st.Whiteouts += st.Whiteouts
		r.st.Opaques += st.Opaques
		r.st.Unreadable = append(r.st.Unreadable, st.Unreadable...)
		r.mu.Unlock()
	}()
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		r.fail(&os.PathError{Op: "list", Path: p, Err: err})
		return
	}
	slices.Sort(names)
	e.kids = make([]*Entry, 0, len(names))
	for _, name := range names {
		var sys unix.Stat_t
		if err := unix.Fstatat(fd, name, &sys, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // an upper layer changes while it is read
			}
			r.fail(&os.PathError{Op: "stat", Path: path.Join(p, name), Err: err})
			return
		}
		st.Files++
		c := entry(name, &sys)
		e.kids = append(e.kids, c)
		switch c.Kind {
		case File:
			if c.nlink > 1 && !r.firstLink(c.ino) {
				continue
			}
			st.Size += c.Size
		case Whiteout:
			st.Whiteouts++
		case Symlink:
			c.Link = readlink(fd, name)
		case Dir:
			cp := path.Join(p, name)
			cfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				if errors.Is(err, unix.EACCES) {
					st.Unreadable = append(st.Unreadable, cp)
					continue
				}
				if errors.Is(err, unix.ENOENT) {
					continue
				}
				r.fail(&os.PathError{Op: "open", Path: cp, Err: err})
				return
			}
			if c.Opaque = r.opaque(cfd, cp); c.Opaque {
				st.Opaques++
			}
			r.wg.Add(1)
			select {
			case r.workers <- struct{}{}:
				go func() {
					defer func() { <-r.workers }()
					r.dir(cfd, cp, c)
				}()
			default:
				r.dir(cfd, cp, c)
			}
		}
	}
}

// firstLink says whether a hard-linked inode is met for the first time.
func (r *layerReader) firstLink(ino uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.links == nil {
		r.links = map[uint64]bool{}
	}
	if r.links[ino] {
		return false
	}
	r.links[ino] = true
	return true
}

func (r *layerReader) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// opaque says whether the directory open as fd is opaque: listed in the
// layer's record, or carrying the attribute.
func (r *layerReader) opaque(fd int, p string) bool {
	if r.recorded[p] {
		return true
	}
	var buf [8]byte
	for _, name := range opaqueXattrs {
		n, err := unix.Fgetxattr(fd, name, buf[:])
		if err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

func readlink(dirfd int, name string) string {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return ""
		}
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}
