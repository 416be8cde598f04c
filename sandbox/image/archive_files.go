package image

// The archive files that load, save and export read and write, below the
// image formats: what kind of archive a file is, a gzip'd one made plain,
// an OCI layout unpacked from a tar and packed into one, and the progress
// of a long read.

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func isGzip(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 2)
	n, _ := io.ReadFull(f, magic)
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
}

// plainCopy copies the archive to dst, gunzipping it if it is gzip'd.
func plainCopy(src string, r io.Reader, dst string) error {
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gunzip the archive: %w", err)
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("read the archive: %w", err)
	}
	return out.Close()
}

// archiveKind says whether a tar is a docker save archive or an OCI layout.
func archiveKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	kind := ""
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("not a tar archive (a docker save archive or an OCI layout): %w", err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "oci-layout":
			kind = "oci"
		case "manifest.json":
			if kind == "" {
				kind = "docker"
			}
		}
	}
	if kind == "" {
		return "", errors.New("neither a docker save archive (no manifest.json) nor an OCI layout (no oci-layout)")
	}
	return kind, nil
}

// untarPlain unpacks an OCI layout tar (blobs and index files) into dir.
func untarPlain(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := entryName(h.Name)
		if err != nil || n == "" {
			if err != nil {
				return err
			}
			continue
		}
		if err := MkdirParents(dir, n); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(filepath.Join(dir, n), 0o755)
		case tar.TypeReg:
			out, err := os.OpenFile(filepath.Join(dir, n), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("OCI layout: unexpected entry %s", h.Name)
		}
	}
}

// tarDir writes dir's files (an OCI layout) as a tar, sorted, fixed times.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: CanonicalTime}
		if fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(h)
		}
		h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// progressReader reports the bytes read through it, every 4 MiB.
type progressReader struct {
	r      io.Reader
	n      int64
	last   int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= 4<<20 || (err == io.EOF && p.n != p.last) {
		p.last = p.n
		p.report(p.n)
	}
	return n, err
}
