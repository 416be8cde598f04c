//go:build linux

package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// fsReader reads a process's mount table. /proc/PID/mountinfo is held open
// and re-read when the kernel says the table changed (see changed); the
// previous parse is reused otherwise.
type fsReader struct {
	hostRoot  string
	mountinfo *heldFile
	sb        *state.Sandbox
	buf       []byte
	last      []byte
	mounts    []Mount
	root      mountLine
	hasRoot   bool
	overlay   overlayOptions
	parseErrs []string

	// The writable layer is walked on each snapshot while that is cheap;
	// a big one (a container that wrote many files) is re-walked at most
	// once per 100 times the last walk took, so the walk stays ≤1% of the
	// time.
	upperSize   int64
	upperN      int
	upperAt     time.Time
	upperCost   time.Duration
	upperWalked string

	lowerSizes map[string]int64
	resolved   map[string]string

	selfMountinfo string // glassbox's own mount table, to place a bind-mounted root
	rootHostDir   string
}

func openFilesystem(fs FS, pid int, sb *state.Sandbox) (*fsReader, []string) {
	r := &fsReader{hostRoot: fs.HostRoot, sb: sb, buf: make([]byte, 64<<10), selfMountinfo: filepath.Join(fs.ProcRoot, "self", "mountinfo")}
	f, err := openRecords(fs.procPath(pid, "mountinfo"))
	if err != nil {
		return r, []string{err.Error()}
	}
	r.mountinfo = f
	return r, nil
}

func (r *fsReader) close() { r.mountinfo.close() }

func (r *fsReader) read(c *collector, out *Filesystem, now time.Time) {
	if r.mountinfo == nil {
		return
	}
	out.Source = r.mountinfo.path
	if r.last == nil || r.changed() {
		b, err := r.readAll()
		if err != nil {
			c.add(err)
			return
		}
		r.parse(b)
	}
	c.errs = append(c.errs, r.parseErrs...)

	out.Mounts = r.mounts
	if !r.hasRoot {
		c.add(fmt.Errorf("%s: no mount on /", r.mountinfo.path))
		return
	}
	out.RootType = r.root.FSType
	out.RootSource, out.RootDir = r.root.Source, r.root.Root
	out.RootHostDir = r.rootHostDir
	if r.root.FSType != "overlay" {
		return
	}
	out.Upper = Upper{Dir: r.overlay.Upper, Work: r.overlay.Work}
	if r.overlay.Upper != "" {
		if r.upperWalked != r.overlay.Upper || now.Sub(r.upperAt) >= 100*r.upperCost {
			start := time.Now()
			size, n, err := walkUpper(filepath.Join(r.hostRoot, r.overlay.Upper))
			if errors.Is(err, fs.ErrNotExist) {
				// The overlay was mounted from another mount namespace
				// (a VM's or a nested engine's root) whose paths are not ours.
				c.add(fmt.Errorf("upper dir %s is not visible from glassbox's mount namespace: size not measured", r.overlay.Upper))
				r.upperWalked = ""
			} else if err != nil {
				c.add(err)
				r.upperWalked = ""
			} else {
				r.upperSize, r.upperN, r.upperWalked = size, n, r.overlay.Upper
				r.upperAt, r.upperCost = now, time.Since(start)
			}
		}
		out.Upper.SizeBytes, out.Upper.ChangedFiles = r.upperSize, r.upperN
	}
	out.Lowers = make([]Lower, len(r.overlay.Lowers))
	for i, dir := range r.overlay.Lowers {
		l := Lower{Dir: dir, DataOnly: r.overlay.DataOnly[i], Resolved: r.resolve(dir)}
		known := false
		if r.sb != nil {
			for _, rec := range r.sb.Layers {
				if d := filepath.Clean(rec.Dir); d == filepath.Clean(dir) || (l.Resolved != "" && d == l.Resolved) {
					l.Digest, l.CreatedBy, l.SizeBytes = rec.Digest, rec.CreatedBy, rec.Size
					known = rec.Size > 0 || rec.Digest != "" // a layer the record knows but did not measure is walked
					l.SizeSource = SizeFromRecord
				}
			}
		}
		if !known {
			l.SizeBytes, l.SizeSource = r.lowerSize(dir), SizeWalked
		}
		out.Lowers[i] = l
	}
}

// ownPath is where a bind-mounted root's directory is in glassbox's own
// mount namespace (the host's): mountinfo names it inside its filesystem,
// which may be mounted anywhere (/tmp as a tmpfs of its own). Read once
// per change of the process's mount table.
func (r *fsReader) ownPath(root mountLine) string {
	b, err := os.ReadFile(r.selfMountinfo)
	if err != nil {
		return ""
	}
	lines, _ := parseMountinfo(b)
	return hostPath(lines, root.Dev, root.Root)
}

// changed asks the kernel whether the process's mount table changed since
// the last look: /proc/PID/mountinfo signals POLLPRI|POLLERR on a change
// of its mount namespace (proc(5)). Re-generating mountinfo is a fifth of
// a refresh's cost otherwise.
func (r *fsReader) changed() bool {
	fds := []unix.PollFd{{Fd: int32(r.mountinfo.fd), Events: unix.POLLPRI}}
	n, err := unix.Poll(fds, 0)
	if err != nil || n > 0 {
		return true
	}
	// A regular file (a fixture) always polls readable and never "changes".
	return false
}

func (r *fsReader) parse(b []byte) {
	if bytes.Equal(b, r.last) && r.last != nil {
		return
	}
	r.last = append(r.last[:0], b...)
	lines, bad := parseMountinfo(b)
	r.parseErrs = bad
	r.mounts = toMounts(lines)
	r.root, r.hasRoot = rootMount(lines)
	r.overlay = overlayOptions{}
	r.rootHostDir = ""
	if r.hasRoot && r.root.FSType == "overlay" {
		r.overlay = parseOverlay(r.root.SuperOptions)
	} else if r.hasRoot && r.root.Root != "/" {
		r.rootHostDir = r.ownPath(r.root)
	}
}

// readAll preads the whole mountinfo, growing the buffer as needed (hosts
// running many containers have long mount tables).
func (r *fsReader) readAll() ([]byte, error) {
	for {
		b, err := r.mountinfo.read(r.buf)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, errTooBig) || len(r.buf) >= 16<<20 {
			return nil, err
		}
		r.buf = make([]byte, 2*len(r.buf))
	}
}

// lowerSize measures a layer no record describes (another engine's
// container, --pid) once: a lower layer is read-only, so its size does not
// change while it is mounted. 0 when it cannot be walked or is too big.
func (r *fsReader) lowerSize(dir string) int64 {
	if size, ok := r.lowerSizes[dir]; ok {
		return size
	}
	size, _, err := walkUpper(filepath.Join(r.hostRoot, dir))
	if err != nil {
		size = 0
	}
	if r.lowerSizes == nil {
		r.lowerSizes = map[string]int64{}
	}
	r.lowerSizes[dir] = size
	return size
}

// resolve follows a lower layer named by a symbolic link (docker's
// overlay2 l/ links) to its directory, once: "" when dir is no link.
func (r *fsReader) resolve(dir string) string {
	if res, ok := r.resolved[dir]; ok {
		return res
	}
	res := ""
	host := filepath.Join(r.hostRoot, dir)
	if fi, err := os.Lstat(host); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if p, err := filepath.EvalSymlinks(host); err == nil {
			if r.hostRoot != "" {
				p = "/" + strings.TrimPrefix(strings.TrimPrefix(p, filepath.Clean(r.hostRoot)), "/")
			}
			res = p
		}
	}
	if r.resolved == nil {
		r.resolved = map[string]string{}
	}
	r.resolved[dir] = res
	return res
}

// maxUpperEntries bounds the walk of a writable layer; a container that
// wrote more than this shows the count so far and an error.
const maxUpperEntries = 100000

// walkUpper sums the writable layer: the bytes of regular files and the
// number of entries (files, directories, symlinks and whiteouts — the
// character devices 0/0 overlayfs leaves for deletions), i.e. what the
// sandbox changed relative to its image.
func walkUpper(dir string) (size int64, n int, err error) {
	var walk func(string) error
	walk = func(d string) error {
		f, err := os.Open(d)
		if err != nil {
			return fmt.Errorf("walk upper dir: %w", err)
		}
		ents, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return fmt.Errorf("walk upper dir %s: %w", d, err)
		}
		for _, e := range ents {
			n++
			if n > maxUpperEntries {
				return fmt.Errorf("walk upper dir %s: more than %d entries, stopped counting", dir, maxUpperEntries)
			}
			p := d + "/" + e.Name()
			switch {
			case e.IsDir():
				if err := walk(p); err != nil {
					return err
				}
			case e.Type().IsRegular():
				if info, err := e.Info(); err == nil {
					size += info.Size()
				}
			}
		}
		return nil
	}
	err = walk(dir)
	return size, n, err
}

// sharing counts, per layer directory, the live glassbox sandboxes whose
// overlay uses it. The store's records are re-read when the sandboxes
// directory changes (one is created or removed) or every few seconds; a
// record counts while its status is running or paused and its init
// process exists (under the FS's proc root).
type sharing struct {
	mu      sync.Mutex // the Inspectors that share it may snapshot at once
	store   *state.Store
	fs      FS
	modTime time.Time
	loaded  time.Time
	// sharers are the records that were live when read; source is
	// Lower.SharedSource. A count then allocates only the names' slices:
	// it runs on every refresh of every sandbox a UI shows.
	sharers []sharer
	source  string
	dir     []byte // the sandboxes' directory, NUL-terminated
}

// sharer is one live sandbox's record as count uses it.
type sharer struct {
	name string
	proc []byte   // "/proc/PID", NUL-terminated: it counts while its init exists
	dirs []string // its layers' directories, cleaned
	// alive is whether proc existed when last looked at, at checked.
	alive   bool
	checked time.Time
}

const sharingReload = 5 * time.Second

// sharerRecheck is how long a sharer's init found alive (or gone) is
// believed: every Inspector of a UI counts on every refresh, and asking
// /proc each time was N² lookups a round (10 000 at 100 sandboxes, a
// quarter of the round). Within it one round asks once per sandbox; an
// init that ends shows in the counts at most this late, less than the
// UI's shortest interval.
const sharerRecheck = 100 * time.Millisecond

// sharings holds one sharing per state root and proc root for every
// Inspector of the process: a UI that shows N sandboxes holds N Inspectors,
// and each reading its own would read all N records, N² in all (at 100
// sandboxes, top --once parsed 10 000 records).
var sharings struct {
	sync.Mutex
	m map[[2]string]*sharing
}

// sharingFor returns the process's sharing for store's root and fs's /proc.
func sharingFor(store *state.Store, fs FS) *sharing {
	key := [2]string{store.Roots.Run, fs.ProcRoot}
	sharings.Lock()
	defer sharings.Unlock()
	if s := sharings.m[key]; s != nil {
		return s
	}
	if sharings.m == nil {
		sharings.m = map[[2]string]*sharing{}
	}
	s := &sharing{store: store, fs: fs}
	sharings.m[key] = s
	return s
}

func (s *sharing) count(lowers []Lower) {
	if len(lowers) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.source == "" {
		s.source = filepath.Join(s.store.Roots.SandboxesDir(), "*", "state.json")
		s.dir = append([]byte(s.store.Roots.SandboxesDir()), 0)
	}
	mod, err := modTime(s.dir)
	if err == nil && (!mod.Equal(s.modTime) || now.Sub(s.loaded) > sharingReload) {
		if recs, err := s.store.List(); err == nil {
			s.load(recs)
			s.modTime, s.loaded = mod, now
		}
	}
	for i := range lowers {
		lowers[i].SharedSource = s.source
	}
	var clean [8]string
	dirs := clean[:0]
	for i := range lowers {
		dirs = append(dirs, filepath.Clean(lowers[i].Dir))
	}
	for j := range s.sharers {
		sh := &s.sharers[j]
		if now.Sub(sh.checked) >= sharerRecheck {
			sh.alive, sh.checked = s.fs.procExists(sh.proc), now
		}
		if !sh.alive {
			continue
		}
		for i, dir := range dirs {
			for _, d := range sh.dirs {
				if d == dir {
					lowers[i].SharedBy++
					lowers[i].SharedWith = append(lowers[i].SharedWith, sh.name)
					break
				}
			}
		}
	}
}

// load keeps, of recs, the live records with an init.
func (s *sharing) load(recs []*state.Sandbox) {
	s.sharers = s.sharers[:0]
	for _, rec := range recs {
		if !rec.Status.Live() || rec.InitPID <= 0 {
			continue
		}
		sh := sharer{name: rec.Name, proc: append([]byte(s.fs.procPath(rec.InitPID)), 0)}
		for _, l := range rec.Layers {
			sh.dirs = append(sh.dirs, filepath.Clean(l.Dir))
		}
		s.sharers = append(s.sharers, sh)
	}
}
