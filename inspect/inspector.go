//go:build linux

package inspect

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// slowRefresh is how often the figures that (almost) never change while a
// sandbox lives are re-read: its namespaces (of a process that cannot move
// itself, the user link alone: see nsProc), its cgroup limits (memory, CPU
// quota, pids), each process's identity (status) and the host's firewall
// (its counters alone while the ruleset's generation holds). The mount
// table, both hostnames, and the interfaces' flags, MACs and addresses, are
// re-read when the kernel signals a change (checked on each snapshot);
// without such signals, every slowRefresh. Everything else — every counter,
// process, mount and the writable layer — is read on each snapshot.
var slowRefresh = 5 * time.Second

// Inspector takes repeated snapshots of one sandbox or process. It keeps the
// kernel files it reads open between snapshots (see heldFile), so a refresh
// costs reads, not opens. It is not safe for concurrent use; Close releases
// every descriptor. Slices and maps in its snapshots may be shared between
// snapshots of one Inspector: treat them as read-only.
//
//	in, err := inspect.New(fs, sb, store)
//	defer in.Close()
//	for range tick { snap, err := in.Snapshot() … }
type Inspector struct {
	fs    FS
	sb    *state.Sandbox
	store *state.Store
	pid   int

	cgPath, unifiedPath string
	dirs, paths         map[string]string

	ns  *nsReader
	cg  *cgroupReader
	net *netReader
	uts *utsReader
	fsv *fsReader

	procs     map[int]*procHandle
	rootOnly  bool // the process is in the root cgroup: show it alone, not the whole host
	pidsBuf   []int
	buf       []byte
	prev      *Snapshot
	openErrs  []string
	target    *procHandle
	closed    bool
	sharing   *sharing
	procsPath string
	container *Container // another engine's container (ForContainer)
	env       environReader
	// fw is the last reading of the host's firewall (firewall.go), taken
	// every slowRefresh: it asks nftables for two chains and the whole of
	// iptables-nft's FORWARD, hundreds of netlink objects a time.
	fw   *Firewall
	fwAt time.Time
	nf   *nft // the nfnetlink socket fw is read on, once opened
	// fwGen is the ruleset's generation fw was read at (fwGenOK: it
	// could be asked, and fw was read whole).
	fwGen   uint32
	fwGenOK bool
	// fwRefs are the bridge's counter rules that reading found
	// (readCounters asks for them alone while the generation holds).
	fwRefs []ruleRef
	// round counts the snapshots (1 at open).
	round uint64
}

// New opens an Inspector on a glassbox sandbox: its init process (InitPID)
// and everything in its cgroup. store (may be nil) is used to count how
// many live sandboxes share each image layer. A sandbox whose init is gone,
// or whose InitPID now belongs to another process, gives ErrNotRunning.
func New(fs FS, sb *state.Sandbox, store *state.Store) (*Inspector, error) {
	if sb == nil {
		return nil, errors.New("inspect: no sandbox record")
	}
	if sb.InitPID <= 0 {
		return nil, fmt.Errorf("%w: %s (%s) has no init process", ErrNotRunning, sb.Name, sb.Status)
	}
	in, err := open(fs, sb.InitPID, sb, store)
	if errors.Is(err, ErrNoProcess) {
		return nil, fmt.Errorf("%w: %s (%s): init process %d is gone", ErrNotRunning, sb.Name, sb.Status, sb.InitPID)
	}
	if err != nil {
		return nil, err
	}
	if sb.Cgroup.Path != "" && in.cgPath != "" && filepath.Clean(sb.Cgroup.Path) != filepath.Clean(in.cgPath) {
		in.Close()
		return nil, fmt.Errorf("%w: %s: process %d is in cgroup %s, not the sandbox's %s (the PID was reused)",
			ErrNotRunning, sb.Name, sb.InitPID, in.cgPath, sb.Cgroup.Path)
	}
	return in, nil
}

// ForPID opens an Inspector on any process of the host, glassbox's or not
// (a docker, podman or kubernetes container's process, or a plain one).
func ForPID(fs FS, pid int) (*Inspector, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrNoProcess, pid)
	}
	return open(fs, pid, nil, nil)
}

func open(fs FS, pid int, sb *state.Sandbox, store *state.Store) (*Inspector, error) {
	in := &Inspector{fs: fs, sb: sb, store: store, pid: pid, procs: map[int]*procHandle{}, buf: make([]byte, 64<<10)}
	target, err := openProc(fs, pid)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("%w: %d", ErrNoProcess, pid)
		}
		return nil, fmt.Errorf("inspect process %d: %w", pid, err)
	}
	in.target = target
	in.procs[pid] = target

	cgFile := fs.procPath(pid, "cgroup")
	b, err := readWhole(cgFile, in.buf)
	if err != nil {
		in.Close()
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return nil, fmt.Errorf("%w: %d", ErrNoProcess, pid)
		}
		return nil, fmt.Errorf("inspect process %d: %w", pid, err)
	}
	lines, err := parseProcCgroup(b)
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("read %s: %w", cgFile, err)
	}
	in.cgPath, in.unifiedPath, in.dirs = cgroupDirs(fs, lines)
	in.paths = cgroupPaths(fs, lines)
	in.rootOnly = in.cgPath == "/" || in.cgPath == ""

	var errs []string
	workload := 0
	if sb != nil {
		workload = sb.WorkloadPID
	}
	in.ns, errs = openNS(fs, pid, workload)
	in.openErrs = append(in.openErrs, errs...)
	in.cg, errs = openCgroup(fs.Mode, in.dirs, in.unifiedPath)
	in.openErrs = append(in.openErrs, errs...)
	if in.cg.procs != nil {
		in.procsPath = in.cg.procs.path
	}
	in.net, errs = openNet(fs, pid)
	in.openErrs = append(in.openErrs, errs...)

	var hostUTS, ownUTS uint64
	c := &collector{buf: in.buf}
	in.round = 1
	for _, n := range in.ns.read(c, time.Now(), settledness{round: in.round}) {
		if n.Kind == "uts" {
			hostUTS, ownUTS = n.HostInode, n.Inode
		}
	}
	hostname := ""
	if sb != nil {
		hostname = sb.Hostname
	}
	in.uts, errs = openUTS(fs, pid, sb != nil, hostname, ownUTS, hostUTS)
	in.openErrs = append(in.openErrs, errs...)
	in.fsv, errs = openFilesystem(fs, pid, sb)
	in.openErrs = append(in.openErrs, errs...)
	if store != nil {
		in.sharing = sharingFor(store, fs)
	}
	return in, nil
}

// CgroupDir is the directory of the process's cgroup for a controller
// ("memory", "cpu", …; on v2 any controller gives the one directory).
func (in *Inspector) CgroupDir(controller string) string {
	return dirFor(in.fs.Mode, in.dirs, controller)
}

// Snapshot reads everything once more. What cannot be read goes into
// Snapshot.Errors; the error is non-nil (wrapping ErrNotRunning or
// ErrNoProcess) only when the centre process itself has gone, and the
// snapshot is still returned with what could be read. CPU rates are
// filled against this Inspector's previous snapshot (see Rate).
func (in *Inspector) Snapshot() (*Snapshot, error) {
	if in.closed {
		return nil, errors.New("inspect: snapshot of a closed Inspector")
	}
	s := &Snapshot{Taken: time.Now(), Sandbox: in.sb, Container: in.container, PID: in.pid}
	if in.container != nil {
		s.Sandbox = nil // the record ForContainer made is a view of Container, not glassbox's
	}
	c := &collector{buf: in.buf, errs: append([]string(nil), in.openErrs...)}

	in.round++
	// The processes first: their status tells the namespace reading which
	// links it can spare (nsProc).
	gone := in.readProcesses(c, s)
	s.Namespaces = in.ns.read(c, s.Taken, in.settledness())
	in.fsv.read(c, &s.Filesystem, s.Taken)
	if in.sharing != nil {
		in.sharing.count(s.Filesystem.Lowers)
	}
	s.Cgroup.Mode = in.fs.Mode
	s.Cgroup.Path = in.cgPath
	s.Cgroup.Dirs = in.dirs
	s.Cgroup.Paths = in.paths
	s.Cgroup.ProcsSource = in.procsPath
	in.cg.read(c, &s.Cgroup, s.Taken)
	in.net.read(c, &s.Network, s.Taken)
	if in.sb != nil {
		s.Network.Ports = in.sb.Network.Ports
		if n := in.sb.Network; n.Mode == "bridge" && n.Bridge != "" {
			s.Network.Firewall = in.firewall(n, s.Taken)
		}
	}
	in.uts.follow(in.ns, in.fs, in.pid)
	in.uts.read(c, &s.UTS, s.Taken)
	if !gone {
		s.Environ = in.env.read(in.fs, in.workload(), c)
	}

	if in.prev != nil {
		Rate(in.prev, s)
	}
	in.prev = s
	if len(c.errs) > 0 {
		s.Errors = c.errs
	}
	if gone {
		if in.container != nil {
			return s, fmt.Errorf("%w: %s: process %d has exited", ErrNotRunning, in.container.Ref(), in.pid)
		}
		if in.sb != nil {
			return s, fmt.Errorf("%w: %s: init process %d has exited", ErrNotRunning, in.sb.Name, in.pid)
		}
		return s, fmt.Errorf("%w: %d has exited", ErrNoProcess, in.pid)
	}
	return s, nil
}

// workload is the sandbox's workload process: the centre process unless
// the record names another.
func (in *Inspector) workload() int {
	if in.sb != nil && in.sb.WorkloadPID > 0 && in.container == nil {
		return in.sb.WorkloadPID
	}
	return in.pid
}

// Close releases every file descriptor and socket the Inspector holds.
func (in *Inspector) Close() error {
	if in.closed {
		return nil
	}
	in.closed = true
	for _, p := range in.procs {
		p.close()
	}
	if in.cg != nil {
		in.cg.close()
	}
	if in.net != nil {
		in.net.close()
	}
	if in.ns != nil {
		in.ns.close()
	}
	if in.uts != nil {
		in.uts.close()
	}
	if in.fsv != nil {
		in.fsv.close()
	}
	if in.nf != nil {
		in.nf.close()
	}
	return nil
}

// ForContainer opens an Inspector on another engine's container: its
// first process, its cgroup and mounts, with what its engine says about
// it (name, layers, ports, hostname) beside the kernel's figures.
func ForContainer(fs FS, c *Container) (*Inspector, error) {
	if !c.Running() {
		return nil, fmt.Errorf("%w: %s is %s", ErrNotRunning, c.Ref(), c.Status)
	}
	in, err := open(fs, c.PID, c.Record(), nil)
	if err != nil {
		return nil, err
	}
	in.container = c
	return in, nil
}
