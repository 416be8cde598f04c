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
// once: the host's PID 1 does not change namespaces. The links (ten
// readlinks per process, a fifth of a full re-read) are re-read every
// slowRefresh rather than every refresh, and even then not all of them
// (see nsProc).
type nsReader struct {
	last  []Namespace
	at    time.Time
	paths [len(nsKinds)]string
	host  [len(nsKinds)]uint64
	hostP [len(nsKinds)]string
	// work are the workload's links when it is not the centre process
	// (the init): what the workload is in is what the sandbox is in.
	work [len(nsKinds)]string
	// proc and workProc are the centre process's and the workload's.
	proc, workProc nsProc
	// buf takes a link's target: a buffer of the reader's, because one on
	// the stack escapes through the system call.
	buf [64]byte
}

// Indexes in nsKinds of the two links nsProc treats apart.
const (
	nsPid  = 4
	nsUser = 8
)

// nsProc reads one process's links. Of what the kernel lets a running
// process do about its own namespaces, two rules spare most readlinks:
//
//   - Its pid namespace is fixed at fork (setns and unshare change only
//     pid_for_children): the pid link is read once.
//   - Moving into another namespace of any kind — setns(2), unshare(2) —
//     needs CAP_SYS_ADMIN in the process's user namespace, except for
//     entering or making another user namespace, from which it can never
//     come back (going back needs CAP_SYS_ADMIN in the one it left, an
//     ancestor). A process with no_new_privs set (for ever) and without
//     CAP_SYS_ADMIN in its permitted set (which can then grow only through
//     a new user namespace: exec grants nothing under no_new_privs, and no
//     one can give capabilities to another process) is "settled": while
//     its user link stays the one it was settled in, none of its links can
//     have changed, and that one link is all a reading asks.
//
// A glassbox workload (docker's default capabilities, no_new_privs) is
// settled; its init is not, and is read whole.
type nsProc struct {
	dir  int // /proc/PID/ns held open (-1: read by path)
	ino  [len(nsKinds)]uint64
	ok   [len(nsKinds)]bool
	read uint64 // the Inspector's round (its snapshot count) of the last reading (0: none)
	// user is the user link the process was proven settled in (0: not
	// proven); left: it has been seen in another since, and is read
	// whole from then on.
	user uint64
	left bool
}

// readProc reads p's links into p.ino and p.ok at round. settled says
// what the process's status said of it at round statusRound (see nsProc).
func (r *nsReader) readProc(c *collector, p *nsProc, paths *[len(nsKinds)]string, round uint64, settled bool, statusRound uint64) {
	if p.user != 0 {
		ino, ok := readNSLink(c, r.buf[:], p.dir, nsUser, paths[nsUser])
		if ok && ino == p.user {
			p.read = round
			return
		}
		p.user, p.left = 0, true
	}
	prevUser, prevOK, prevRead := p.ino[nsUser], p.ok[nsUser], p.read
	errs := len(c.errs)
	any := false
	for i := range nsKinds {
		if i == nsPid && p.ok[i] {
			continue // fixed at fork
		}
		p.ino[i], p.ok[i] = readNSLink(c, r.buf[:], p.dir, i, paths[i])
		any = any || p.ok[i]
	}
	if !any {
		p.ok[nsPid] = false // the process is gone: nothing is shown of it
	}
	p.read = round
	// Settled from here on if the status that said so was read after the
	// last reading, and the user link is the same at both readings: the
	// process has not left that user namespace in between (it could not
	// have come back), so the status spoke of it.
	if settled && !p.left && prevRead != 0 && statusRound > prevRead && len(c.errs) == errs &&
		prevOK && p.ok[nsUser] && prevUser == p.ino[nsUser] {
		p.user = p.ino[nsUser]
	}
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
	r := &nsReader{proc: nsProc{dir: openDir(fs.procPath(pid, "ns"))}, workProc: nsProc{dir: -1}}
	if workload > 0 && workload != pid {
		for i, k := range nsKinds {
			r.work[i] = fs.procPath(workload, "ns", k)
		}
		r.workProc.dir = openDir(fs.procPath(workload, "ns"))
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

// nsUTS is the index of the uts link in nsKinds.
const nsUTS = 9

// utsInode is the centre process's UTS namespace as last read (0: not read).
func (r *nsReader) utsInode() uint64 {
	if !r.proc.ok[nsUTS] {
		return 0
	}
	return r.proc.ino[nsUTS]
}

// openUTS opens the centre process's UTS namespace file in the held
// directory: the process it was opened for, or an error.
func (r *nsReader) openUTS(path string) (*heldFile, error) {
	if r.proc.dir < 0 {
		return openHeld(path)
	}
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(r.proc.dir), uintptr(unsafe.Pointer(&nsNames[nsUTS][0])),
		unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return nil, &pathError{op: "open", path: path, err: e}
	}
	return &heldFile{path: path, fd: int(fd), dir: -1}, nil
}

// settledness is what the processes' status readings say of the centre
// process and of the workload (see nsProc), the round of each reading, and
// the round of this snapshot.
type settledness struct {
	round                uint64
	proc, work           bool
	procRound, workRound uint64
}

func (r *nsReader) read(c *collector, now time.Time, st settledness) []Namespace {
	if r.last != nil && now.Sub(r.at) < slowRefresh {
		return r.last
	}
	errs := len(c.errs)
	r.readProc(c, &r.proc, &r.paths, st.round, st.proc, st.procRound)
	if r.work[0] != "" {
		r.readProc(c, &r.workProc, &r.work, st.round, st.work, st.workRound)
	}
	out := make([]Namespace, 0, len(nsKinds))
	for i, k := range nsKinds {
		if !r.proc.ok[i] {
			continue
		}
		ino := r.proc.ino[i]
		n := Namespace{Kind: k, Inode: ino, HostInode: r.host[i], Source: r.paths[i], HostSource: r.hostP[i]}
		if r.work[i] != "" {
			if w := r.workProc.ino[i]; r.workProc.ok[i] && w != ino {
				n.InitInode, n.InitSource = ino, r.paths[i]
				n.Inode, n.Source = w, r.work[i]
			}
		}
		n.Own = n.HostInode != 0 && n.Inode != n.HostInode
		out = append(out, n)
	}
	if len(c.errs) == errs {
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
	for _, p := range []*nsProc{&r.proc, &r.workProc} {
		if p.dir >= 0 {
			unix.Close(p.dir)
		}
		p.dir = -1
	}
}
