//go:build linux

package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/containerd/cgroups/v3"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// Cgroup modes, as the Snapshot and state.Cgroup spell them.
const (
	ModeV1     = "v1"
	ModeV2     = "v2"
	ModeHybrid = "hybrid"
)

// FS is where inspect reads the kernel from: a proc root and a cgroupfs root,
// so that the same code reads the live /proc and /sys/fs/cgroup or a fixture
// tree under testdata (the way procfs.NewFS(root) does for /proc).
type FS struct {
	ProcRoot   string // "/proc" on the host
	CgroupRoot string // "/sys/fs/cgroup" on the host
	// Mode is the host's cgroup layout: v1 (controllers under
	// CgroupRoot/<controller>), v2 (one hierarchy at CgroupRoot) or hybrid
	// (v1 controllers plus a cgroup2 mount at CgroupRoot/unified).
	Mode string
	// HostRoot prefixes host paths that mountinfo names (an overlay's upper
	// dir, walked for its size): "" on the live host, a fixture tree in tests.
	HostRoot string

	// live is true for the running kernel: only then may inspect enter a
	// namespace (UTS hostname, netlink inside the netns).
	live bool
	proc procfs.FS
}

// Host returns the FS of the running kernel; the cgroup mode comes from
// containerd's cgroups.Mode(), which looks at what is mounted on /sys/fs/cgroup.
func Host() (FS, error) {
	fs, err := NewFS("/proc", "/sys/fs/cgroup", hostMode())
	if err != nil {
		return FS{}, err
	}
	fs.live = true
	return fs, nil
}

func hostMode() string {
	switch cgroups.Mode() {
	case cgroups.Unified:
		return ModeV2
	case cgroups.Hybrid:
		return ModeHybrid
	case cgroups.Legacy:
		return ModeV1
	}
	return ""
}

// NewFS returns an FS rooted at the given trees. An empty mode is detected
// from the cgroup tree's layout (cgroup.controllers at the root: v2; under
// unified/: hybrid; otherwise v1), which lets fixture trees force either.
func NewFS(procRoot, cgroupRoot, mode string) (FS, error) {
	p, err := procfs.NewFS(procRoot)
	if err != nil {
		return FS{}, fmt.Errorf("open proc root %s: %w", procRoot, err)
	}
	if mode == "" {
		mode = detectMode(cgroupRoot)
	}
	switch mode {
	case ModeV1, ModeV2, ModeHybrid:
	default:
		return FS{}, fmt.Errorf("cgroup mode %q: want v1, v2 or hybrid", mode)
	}
	return FS{ProcRoot: procRoot, CgroupRoot: cgroupRoot, Mode: mode, proc: p}, nil
}

func detectMode(root string) string {
	if exists(filepath.Join(root, "cgroup.controllers")) {
		return ModeV2
	}
	if exists(filepath.Join(root, "unified", "cgroup.controllers")) {
		return ModeHybrid
	}
	return ModeV1
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// atFDCWD is AT_FDCWD (-100) as a system call argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

// procExists says whether path (NUL-terminated, below the proc root)
// exists, without allocating: faccessat(2) on the bytes as they are.
func (fs FS) procExists(path []byte) bool {
	_, _, e := unix.Syscall6(unix.SYS_FACCESSAT, atFDCWD, uintptr(unsafe.Pointer(&path[0])), unix.F_OK, 0, 0, 0)
	return e == 0
}

// modTime is the modification time of a NUL-terminated path, read with
// statx(2) without allocating.
func modTime(path []byte) (time.Time, error) {
	var st unix.Statx_t
	_, _, e := unix.Syscall6(unix.SYS_STATX, atFDCWD, uintptr(unsafe.Pointer(&path[0])), 0,
		unix.STATX_MTIME, uintptr(unsafe.Pointer(&st)), 0)
	if e != 0 {
		return time.Time{}, e
	}
	return time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec)), nil
}

// procPath is a path below the proc root: procPath(4242, "ns", "pid").
func (fs FS) procPath(pid int, elem ...string) string {
	return filepath.Join(append([]string{fs.ProcRoot, itoa(pid)}, elem...)...)
}

// ErrNoProcess is returned when the process to inspect does not exist.
var ErrNoProcess = errors.New("no such process")

// ErrNotRunning is returned when a sandbox's record names no live process.
var ErrNotRunning = errors.New("sandbox is not running")

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
