package image

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// ExportMerged writes the merged root filesystem of a stack of layer
// directories (top-most first: a sandbox's upper directory, then its
// image's layers) to w as a tar, the way overlayfs shows it: the top-most
// layer that has a path wins, whiteouts hide what is below, opaque
// directories hide the lower layers' content. Entries keep their modes,
// owners and times.
func ExportMerged(w io.Writer, topFirst []string) error {
	tw := tar.NewWriter(w)
	if err := exportDir(tw, topFirst, ""); err != nil {
		return err
	}
	return tw.Close()
}

// exportDir writes what the directory rel holds when dirs (the layers'
// copies of it, top-most first) are merged.
func exportDir(tw *tar.Writer, dirs []string, rel string) error {
	type found struct {
		layer int
		st    unix.Stat_t
	}
	names := map[string]found{}
	hidden := map[string]bool{}
	for i, d := range dirs {
		entries, err := os.ReadDir(filepath.Join(d, rel))
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if _, ok := names[n]; ok || hidden[n] {
				continue
			}
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(d, rel, n), &st); err != nil {
				return err
			}
			if isWhiteout(&st) {
				hidden[n] = true
				continue
			}
			names[n] = found{i, st}
		}
		if opaque, _ := isOpaque(filepath.Join(d, rel)); opaque && rel != "" {
			break // the layers below have nothing here
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		f := names[n]
		p := path.Join(rel, n)
		full := filepath.Join(dirs[f.layer], p)
		h := &tar.Header{Name: p, Mode: tarMode(f.st.Mode), Uid: int(f.st.Uid), Gid: int(f.st.Gid),
			ModTime: time.Unix(f.st.Mtim.Sec, f.st.Mtim.Nsec)}
		switch f.st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			h.Typeflag, h.Name = tar.TypeDir, p+"/"
		case unix.S_IFLNK:
			h.Typeflag = tar.TypeSymlink
			h.Linkname, _ = os.Readlink(full)
		case unix.S_IFREG:
			h.Typeflag, h.Size = tar.TypeReg, f.st.Size
		case unix.S_IFIFO:
			h.Typeflag = tar.TypeFifo
		default:
			continue // device nodes and sockets are the runtime's, not content
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			src, err := os.Open(full)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, io.LimitReader(src, h.Size))
			src.Close()
			if err != nil {
				return fmt.Errorf("/%s: %w", p, err)
			}
		}
		if h.Typeflag == tar.TypeDir {
			// the layers from the one that has the directory down, as long
			// as they have a directory there too
			var below []string
			for _, d := range dirs[f.layer:] {
				if fi, err := os.Lstat(filepath.Join(d, p)); err == nil && fi.IsDir() {
					below = append(below, d)
				}
			}
			if err := exportDir(tw, below, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// SandboxLayers are a sandbox's layers as ExportMerged takes them: its
// writable layer, which stays until rm, over its image's.
func SandboxLayers(sb *state.Sandbox) ([]string, error) {
	if _, err := os.Stat(sb.UpperDir); err != nil {
		return nil, fmt.Errorf("sandbox %s has no writable layer now (it is %s)", sb.Name, sb.Status)
	}
	dirs := []string{sb.UpperDir}
	for _, l := range sb.Layers {
		dirs = append(dirs, l.Dir)
	}
	return dirs, nil
}

// Import stores a root filesystem tarball (gzip'd or not; src a path, or
// "-" with r) as a one-layer image, tagged ref when ref is not "".
func (s *Store) Import(src string, r io.Reader, ref string) (*Image, error) {
	if ref != "" {
		if _, _, err := ParseReference(ref); err != nil {
			return nil, err
		}
		if IsBuiltinName(ref) {
			return nil, fmt.Errorf("%s is a built-in image's name; choose another", ref)
		}
	}
	tmp, err := os.MkdirTemp("", "glassbox-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	plain := filepath.Join(tmp, "rootfs.tar")
	if err := plainCopy(src, r, plain); err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	stg, err := s.StageLayer()
	if err != nil {
		return nil, err
	}
	defer stg.Discard()
	f, err := os.Open(plain)
	if err != nil {
		return nil, err
	}
	_, err = Unpack(f, stg.Dir, false)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	by := "Imported from " + src
	l, err := stg.Commit(by)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	im := &Image{Layers: []state.Layer{l}, Created: now,
		History: []History{{CreatedBy: by, Created: now, Layer: l.Digest, Size: l.Size}}}
	var tags []string
	if ref != "" {
		tags = []string{ref}
	}
	return s.Put(im, tags)
}
