package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// nsKinds are the entries of /proc/PID/ns, in the order shown.
// pid_for_children and time_for_children are the namespaces the process's
// future children get: they differ from pid/time after unshare(2) without
// a fork, which is how a runtime's init enters a new pid namespace.
var nsKinds = [...]string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

// parseNSLink reads a namespace symlink's target, "pid:[4026531836]".
func parseNSLink(b []byte) (kind string, inode uint64, err error) {
	i := bytes.Index(b, []byte(":["))
	if i < 0 || len(b) < i+3 || b[len(b)-1] != ']' {
		return "", 0, fmt.Errorf("namespace link %q: %w", b, errSyntax)
	}
	n, ok := parseUint(b[i+2 : len(b)-1])
	if !ok {
		return "", 0, fmt.Errorf("namespace link %q: %w", b, errSyntax)
	}
	return string(b[:i]), n, nil
}

// nsReader reads a process's namespace links on each refresh (a process
// can setns(2), so they are not cached) against the host's, read once:
// the host's PID 1 does not change namespaces.
type nsReader struct {
	paths [len(nsKinds)]string
	host  [len(nsKinds)]uint64
	hostP [len(nsKinds)]string
}

func openNS(fs FS, pid int) (*nsReader, []string) {
	r := &nsReader{}
	var errs []string
	// The host's namespaces come from procfs (read once; its per-call
	// open/readdir/readlink cost does not matter here).
	hostNS, err := fs.proc.Proc(1)
	var host map[string]uint64
	if err == nil {
		nss, nerr := hostNS.Namespaces()
		if nerr != nil {
			errs = append(errs, fmt.Sprintf("read host namespaces %s: %v", filepath.Join(fs.ProcRoot, "1", "ns"), nerr))
		}
		host = make(map[string]uint64, len(nss))
		for k, v := range nss {
			host[k] = uint64(v.Inode)
		}
	} else {
		errs = append(errs, fmt.Sprintf("host PID 1: %v", err))
	}
	for i, k := range nsKinds {
		r.paths[i] = fs.procPath(pid, "ns", k)
		r.hostP[i] = fs.procPath(1, "ns", k)
		r.host[i] = host[k]
	}
	return r, errs
}

func (r *nsReader) read(c *collector) []Namespace {
	out := make([]Namespace, 0, len(nsKinds))
	var buf [64]byte
	for i, k := range nsKinds {
		n, err := unix.Readlink(r.paths[i], buf[:])
		if errors.Is(err, unix.ENOENT) {
			continue // a kind this kernel does not have (time before 5.6)
		}
		if err != nil {
			c.add(&pathError{op: "readlink", path: r.paths[i], err: err})
			continue
		}
		_, ino, err := parseNSLink(buf[:n])
		if err != nil {
			c.add(&pathError{op: "parse", path: r.paths[i], err: err})
			continue
		}
		out = append(out, Namespace{
			Kind: k, Inode: ino, HostInode: r.host[i], Own: r.host[i] != 0 && ino != r.host[i],
			Source: r.paths[i], HostSource: r.hostP[i],
		})
	}
	return out
}
