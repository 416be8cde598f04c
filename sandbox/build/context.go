package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"
)

// buildContext is the directory a build may copy from, less what
// .dockerignore leaves out.
type buildContext struct {
	dir    string
	ignore *patternmatcher.PatternMatcher
}

func openContext(dir string) (*buildContext, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("build context %s: not a directory", dir)
	}
	c := &buildContext{dir: abs}
	data, err := os.ReadFile(filepath.Join(abs, ".dockerignore"))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	c.ignore, err = patternmatcher.New(ignorePatterns(string(data)))
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return c, nil
}

// ignorePatterns reads .dockerignore: one pattern a line, # comments,
// paths relative to the context root.
func ignorePatterns(data string) []string {
	var out []string
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		p := strings.TrimPrefix(line, "!")
		p = filepath.Clean(strings.TrimPrefix(filepath.ToSlash(p), "/"))
		if neg {
			p = "!" + p
		}
		out = append(out, p)
	}
	return out
}

// Ignored says whether .dockerignore leaves rel (slash-separated, relative
// to the context) out.
func (c *buildContext) Ignored(rel string) bool {
	if rel == "." || rel == "" {
		return false
	}
	ok, _ := c.ignore.MatchesOrParentMatches(rel)
	return ok
}

// source is one file of a COPY/ADD source set, in the context.
type source struct {
	rel  string // slash path relative to the context
	dest string // where it goes, relative to the step's destination
	info fs.FileInfo
	uid  uint32
	gid  uint32
	link string // symlink target
	sum  string // sha256 of the content (regular files)
}

// resolve expands one COPY/ADD source argument (a path or a glob, relative
// to the context) into the files it names, refusing anything outside the
// context. Each match that is a directory contributes its content.
func (c *buildContext) resolve(arg string) ([]string, error) {
	if strings.Contains(arg, "://") {
		return nil, fmt.Errorf("%s: URLs are not supported (builds run offline): download it into the build context and COPY it", arg)
	}
	clean := path.Clean("/" + filepath.ToSlash(arg))[1:]
	if clean == "" {
		clean = "."
	}
	if strings.HasPrefix(path.Clean(filepath.ToSlash(arg)), "../") || path.Clean(filepath.ToSlash(arg)) == ".." {
		return nil, fmt.Errorf("%s: outside the build context", arg)
	}
	var matches []string
	if strings.ContainsAny(clean, "*?[") {
		m, err := filepath.Glob(filepath.Join(c.dir, clean))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
		for _, p := range m {
			rel, _ := filepath.Rel(c.dir, p)
			if !c.Ignored(filepath.ToSlash(rel)) {
				matches = append(matches, filepath.ToSlash(rel))
			}
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no file in the build context matches", arg)
		}
	} else {
		if c.Ignored(clean) {
			return nil, fmt.Errorf("%s: excluded by .dockerignore", arg)
		}
		if _, err := os.Lstat(filepath.Join(c.dir, clean)); err != nil {
			return nil, fmt.Errorf("%s: no such file in the build context", arg)
		}
		matches = []string{clean}
	}
	for _, m := range matches {
		if err := c.inside(m); err != nil {
			return nil, err
		}
	}
	return matches, nil
}

// inside refuses a path whose symlinks lead out of the context.
func (c *buildContext) inside(rel string) error {
	real, err := filepath.EvalSymlinks(filepath.Join(c.dir, rel))
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if real != c.dir && !strings.HasPrefix(real, c.dir+string(filepath.Separator)) {
		return fmt.Errorf("%s: a symlink that leads outside the build context (to %s)", rel, real)
	}
	return nil
}

// collect lists the files below (or at) the context path rel, which COPY
// puts at dest: a directory's content goes into dest, a file becomes dest.
// The top path is followed if it is a symlink (it stays in the context,
// checked by resolve); symlinks below it are copied as symlinks.
func (c *buildContext) collect(rel string, asDir bool) ([]source, error) {
	top := filepath.Join(c.dir, rel)
	fi, err := os.Stat(top)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		s, err := c.source(rel, fi)
		if err != nil {
			return nil, err
		}
		s.dest = path.Base(rel)
		if !asDir {
			s.dest = ""
		}
		return []source{s}, nil
	}
	var out []source
	err = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(c.dir, p)
		r = filepath.ToSlash(r)
		if p != top && c.Ignored(r) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Lstat(p)
		if p == top {
			info, err = os.Stat(p)
		}
		if err != nil {
			return err
		}
		s, err := c.source(r, info)
		if err != nil {
			return err
		}
		s.dest, _ = filepath.Rel(top, p)
		s.dest = filepath.ToSlash(s.dest)
		out = append(out, s)
		return nil
	})
	return out, err
}

func (c *buildContext) source(rel string, fi fs.FileInfo) (source, error) {
	s := source{rel: rel, info: fi}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.uid, s.gid = st.Uid, st.Gid
	}
	full := filepath.Join(c.dir, rel)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		var err error
		if s.link, err = os.Readlink(full); err != nil {
			return s, err
		}
	case fi.Mode().IsRegular():
		f, err := os.Open(full)
		if err != nil {
			return s, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return s, fmt.Errorf("read %s: %w", rel, err)
		}
		s.sum = "sha256:" + hex.EncodeToString(h.Sum(nil))
	case fi.IsDir():
	default:
		return s, fmt.Errorf("%s: only files, directories and symlinks can be copied", rel)
	}
	return s, nil
}

// fileDigest is one source file as the cache key sees it: path, mode,
// owner and content, never the mtime.
type fileDigest struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

func digestOf(s source) fileDigest {
	content := s.sum
	if s.link != "" {
		content = "link:" + s.link
	}
	if s.info.IsDir() {
		content = "dir"
	}
	meta := fmt.Sprintf("%o %d:%d %s", s.info.Mode(), s.uid, s.gid, content)
	sum := sha256.Sum256([]byte(meta))
	return fileDigest{Path: s.rel, Digest: "sha256:" + hex.EncodeToString(sum[:])}
}

func sortSources(list []source) {
	slices.SortStableFunc(list, func(a, b source) int { return strings.Compare(a.dest, b.dest) })
}
