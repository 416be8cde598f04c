//go:build linux

package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nsKinds are the entries of /proc/PID/ns, in the order shown.
// pid_for_children and time_for_children are the namespaces the process's
// future children get: they differ from pid/time after unshare(2) without
// a fork, which is how a runtime's init enters a new pid namespace.
var nsKinds = [...]string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

// parseNSLink reads a namespace symlink's target, "pid:[4026531836]".
func parseNSLink(b []byte) (kind string, inode uint64, err error) {
	n, err := parseNSInode(b)
	if err != nil {
		return "", 0, err
	}
	return string(b[:bytes.Index(b, []byte(":["))]), n, nil
}

// parseNSInode is parseNSLink's inode alone.
func parseNSInode(b []byte) (uint64, error) {
	i := bytes.Index(b, []byte(":["))
	if i < 0 || len(b) < i+3 || b[len(b)-1] != ']' {
		return 0, fmt.Errorf("namespace link %q: %w", b, errSyntax)
	}
	n, ok := parseUint(b[i+2 : len(b)-1])
	if !ok {
		return 0, fmt.Errorf("namespace link %q: %w", b, errSyntax)
	}
	return n, nil
}

// nsReader reads a process's namespace links against the host's, read
// once: the host's PID 1 does not change namespaces. A process changes its
// own only by setns(2)/unshare(2), which a sandbox's init does not do after
// it starts; the links (ten readlinks, a fifth of a refresh's cost) are
// re-read every slowRefresh rather than every refresh.
type nsReader struct {
	last  []Namespace
	at    time.Time
	paths [len(nsKinds)]string
	host  [len(nsKinds)]uint64
	hostP [len(nsKinds)]string
	// work are the workload's links when it is not the centre process
	// (the init): what the workload is in is what the sandbox is in.
	work [len(nsKinds)]string
	// dir and workDir hold /proc/PID/ns of the process and of the
	// workload open: each link is then read with readlinkat(2) on its
	// short name, without walking /proc to it again (-1: not open, read
	// by path).
	dir, workDir int
	// buf takes a link's target: a buffer of the reader's, because one on
	// the stack escapes through the system call.
	buf [64]byte
}

// nsNames are nsKinds as C strings, for readlinkat(2) without converting
// (and allocating) a Go string on every read.
var nsNames = func() (out [len(nsKinds)][]byte) {
	for i, k := range nsKinds {
		out[i] = append([]byte(k), 0)
	}
	return out
}()

// openNS reads the host's namespaces once: those of the host's PID 1, the
// reference every container tool compares against. Reading another
// process's ns links needs ptrace read access to it, which fails even for
// root when PID 1 holds capabilities the reader lacks (this VM's PID 1 has
// CAP_SYS_RESOURCE, its shells do not). Then the reader's own namespaces
// stand in, per kind, and HostSource says so. (procfs's Proc.Namespaces
// would fail the whole set on the first unreadable link, hence readlink
// here.)
func openNS(fs FS, pid, workload int) (*nsReader, []string) {
	r := &nsReader{dir: openDir(fs.procPath(pid, "ns")), workDir: -1}
	if workload > 0 && workload != pid {
		for i, k := range nsKinds {
			r.work[i] = fs.procPath(workload, "ns", k)
		}
		r.workDir = openDir(fs.procPath(workload, "ns"))
	}
	var errs []string
	self := fs.ProcRoot + "/self"
	if fs.live {
		self = fs.procPath(os.Getpid())
	}
	var buf [64]byte
	for i, k := range nsKinds {
		r.paths[i] = fs.procPath(pid, "ns", k)
		for _, cand := range []string{fs.procPath(1, "ns", k), filepath.Join(self, "ns", k)} {
			n, err := unix.Readlink(cand, buf[:])
			if err != nil {
				if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
					errs = append(errs, fmt.Sprintf("read host namespace %s: %v", cand, err))
				}
				continue
			}
			if _, ino, err := parseNSLink(buf[:n]); err == nil {
				r.host[i], r.hostP[i] = ino, cand
				break
			}
		}
	}
	return r, errs
}

func (r *nsReader) read(c *collector, now time.Time) []Namespace {
	if r.last != nil && now.Sub(r.at) < slowRefresh {
		return r.last
	}
	out := make([]Namespace, 0, len(nsKinds))
	for i, k := range nsKinds {
		ino, ok := readNSLink(c, r.buf[:], r.dir, i, r.paths[i])
		if !ok {
			continue
		}
		n := Namespace{Kind: k, Inode: ino, HostInode: r.host[i], Source: r.paths[i], HostSource: r.hostP[i]}
		if r.work[i] != "" {
			if w, ok := readNSLink(c, r.buf[:], r.workDir, i, r.work[i]); ok && w != ino {
				n.InitInode, n.InitSource = ino, r.paths[i]
				n.Inode, n.Source = w, r.work[i]
			}
		}
		n.Own = n.HostInode != 0 && n.Inode != n.HostInode
		out = append(out, n)
	}
	if len(c.errs) == 0 {
		r.last, r.at = out, now
	}
	return out
}

// readNSLink reads the link of nsKinds[kind] in the held directory dir
// (by path when dir is -1) into buf; false when the kernel has no such kind (time
// before 5.6), or on an error, which goes to c.
func readNSLink(c *collector, buf []byte, dir, kind int, path string) (uint64, bool) {
	var n int
	var err error
	if dir >= 0 {
		n, err = readlinkat(dir, nsNames[kind], buf)
	} else {
		n, err = unix.Readlink(path, buf)
	}
	if errors.Is(err, unix.ENOENT) {
		return 0, false
	}
	if err != nil {
		c.add(&pathError{op: "readlink", path: path, err: err})
		return 0, false
	}
	ino, err := parseNSInode(buf[:n])
	if err != nil {
		c.add(&pathError{op: "parse", path: path, err: err})
		return 0, false
	}
	return ino, true
}

// readlinkat is readlinkat(2) on a NUL-terminated name.
func readlinkat(dir int, name []byte, buf []byte) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dir), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// openDir opens a directory to read links in, or returns -1.
func openDir(path string) int {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

func (r *nsReader) close() {
	for _, fd := range []int{r.dir, r.workDir} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	r.dir, r.workDir = -1, -1
}
