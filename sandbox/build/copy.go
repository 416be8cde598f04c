package build

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"glassbox/sandbox/build/dockerfile"
	"glassbox/sandbox/image"
)

// copy plans a COPY or ADD: every source file, where it goes, its digest.
func (p *planner) copy(in *dockerfile.Instruction, st *step, cfg *image.Config, from *image.Image, steps []*step) error {
	var words []string
	var err error
	if in.IsJSON {
		for _, w := range in.JSON {
			v, err := dockerfile.Word(w, p.lookup(cfg), p.df.Escape)
			if err != nil {
				return err
			}
			words = append(words, v)
		}
	} else if words, err = dockerfile.Words(in.Args, p.lookup(cfg), p.df.Escape); err != nil {
		return err
	}
	if len(words) < 2 {
		return fmt.Errorf("needs at least one source and a destination (%s SRC... DEST)", in.Cmd)
	}
	srcArgs, destArg := words[:len(words)-1], words[len(words)-1]
	dest := destArg
	if !path.IsAbs(dest) {
		dest = path.Join(orRoot(cfg.WorkingDir), dest)
	}
	dest = path.Clean(dest)
	var own *owner
	if v, ok := in.Flag("chown"); ok {
		if own, err = p.owner(v, from); err != nil {
			return err
		}
	}
	var rels []string
	for _, a := range srcArgs {
		m, err := p.ctx.resolve(a)
		if err != nil {
			return err
		}
		rels = append(rels, m...)
	}
	asDir := strings.HasSuffix(destArg, "/") || len(rels) > 1 || p.exists(from, steps, dest)
	st.kind = kindCopy
	for _, rel := range rels {
		fi, err := os.Stat(filepath.Join(p.ctx.dir, rel))
		if err != nil {
			return err
		}
		if in.Cmd == "ADD" && fi.Mode().IsRegular() {
			if isArchive, err := isTarArchive(filepath.Join(p.ctx.dir, rel)); err != nil {
				return err
			} else if isArchive {
				s, err := p.ctx.source(rel, fi)
				if err != nil {
					return err
				}
				st.copies = append(st.copies, copyOp{src: s, target: dest, unpack: true, chown: own})
				st.files = append(st.files, digestOf(s))
				continue
			}
		}
		srcs, err := p.ctx.collect(rel, asDir || fi.IsDir())
		if err != nil {
			return err
		}
		sortSources(srcs)
		for _, s := range srcs {
			target := dest
			if s.dest != "" && s.dest != "." {
				target = path.Join(dest, s.dest)
			}
			st.copies = append(st.copies, copyOp{src: s, target: target, chown: own})
			st.files = append(st.files, digestOf(s))
		}
	}
	st.text = in.Cmd + " "
	if v, ok := in.Flag("chown"); ok {
		st.text += "--chown=" + v + " "
	}
	st.text += strings.Join(srcArgs, " ") + " " + destArg
	st.keyInputs = "\nowner " + fmt.Sprint(own)
	return nil
}

// owner reads --chown=USER[:GROUP], numbers or names from the image's
// /etc/passwd and /etc/group.
func (p *planner) owner(v string, from *image.Image) (*owner, error) {
	u, g, hasGroup := strings.Cut(v, ":")
	uid, err := p.idOf(u, "/etc/passwd", from)
	if err != nil {
		return nil, fmt.Errorf("--chown=%s: %w", v, err)
	}
	gid := uid
	if hasGroup {
		if gid, err = p.idOf(g, "/etc/group", from); err != nil {
			return nil, fmt.Errorf("--chown=%s: %w", v, err)
		}
	}
	return &owner{uid, gid}, nil
}

func (p *planner) idOf(name, file string, from *image.Image) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	if from != nil {
		for _, l := range from.TopFirst() {
			data, err := os.ReadFile(filepath.Join(l.Dir, file))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(data), "\n") {
				f := strings.Split(line, ":")
				if len(f) >= 3 && f[0] == name {
					return strconv.Atoi(f[2])
				}
			}
			break
		}
	}
	return 0, fmt.Errorf("no %q in the image's %s", name, file)
}

// isTarArchive says whether ADD unpacks the file: a tar, plain or
// compressed with gzip or bzip2.
func isTarArchive(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return false, nil
	}
	_, err = tar.NewReader(r).Next()
	return err == nil, nil
}

func decompress(f io.Reader) (io.Reader, error) {
	br := bufio.NewReader(f)
	magic, _ := br.Peek(3)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return gzip.NewReader(br)
	case len(magic) == 3 && string(magic) == "BZh":
		return bzip2.NewReader(br), nil
	}
	return br, nil
}

// apply writes a COPY/ADD's files into the layer directory.
func (c *copyOp) apply(ctxDir, layer string, progress func(int64)) error {
	target := filepath.Join(layer, c.target)
	if err := image.MkdirParents(layer, c.target); err != nil {
		return err
	}
	src := filepath.Join(ctxDir, c.src.rel)
	if c.unpack {
		return c.untar(src, target)
	}
	uid, gid := 0, 0
	if c.chown != nil {
		uid, gid = c.chown.uid, c.chown.gid
	}
	fi := c.src.info
	switch {
	case fi.IsDir():
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(target, fi.Mode()&os.ModePerm|fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
			return err
		}
	case c.src.link != "":
		os.Remove(target)
		if err := os.Symlink(c.src.link, target); err != nil {
			return err
		}
		return os.Lchown(target, uid, gid)
	default:
		n, err := copyContent(src, target, fi.Mode())
		if err != nil {
			return err
		}
		progress(n)
		os.Chtimes(target, fi.ModTime(), fi.ModTime())
	}
	return os.Lchown(target, uid, gid)
}

func copyContent(src, dst string, mode os.FileMode) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	os.Remove(dst)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("copy %s: %w", src, err)
	}
	perm := mode & os.ModePerm
	perm |= mode & (os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	return n, os.Chmod(dst, perm)
}

// untar unpacks a local archive (ADD) into dir, refusing entries that
// would land outside it or write through a symlink, and device nodes.
func (c *copyOp) untar(src, dir string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return fmt.Errorf("%s: %w", c.src.rel, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.src.rel, err)
		}
		name := path.Clean("/" + h.Name)
		if name == "/" {
			continue
		}
		if strings.Contains(h.Name, "..") && path.Clean(h.Name) != strings.TrimPrefix(name, "/") {
			return fmt.Errorf("%s: entry %q leaves the destination", c.src.rel, h.Name)
		}
		if err := image.MkdirParents(dir, name); err != nil {
			return fmt.Errorf("%s: %s: %w", c.src.rel, h.Name, err)
		}
		target := filepath.Join(dir, name)
		mode := os.FileMode(h.Mode) & os.ModePerm
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			os.Chmod(target, mode)
		case tar.TypeReg:
			os.Remove(target)
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
			os.Chmod(target, mode)
		case tar.TypeSymlink:
			os.Remove(target)
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			old := filepath.Join(dir, path.Clean("/"+h.Linkname))
			if fi, err := os.Lstat(old); err != nil || !fi.Mode().IsRegular() {
				return fmt.Errorf("%s: hard link %s to %q: not a file of the archive", c.src.rel, h.Name, h.Linkname)
			}
			os.Remove(target)
			if err := os.Link(old, target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: entry %s is a device node or other special file, which ADD does not unpack", c.src.rel, h.Name)
		}
		uid, gid := h.Uid, h.Gid
		if c.chown != nil {
			uid, gid = c.chown.uid, c.chown.gid
		}
		if err := os.Lchown(target, uid, gid); err != nil && !errors.Is(err, syscall.EPERM) {
			return err
		}
	}
}
