// Command attacker is the escape battery's workload: a static program that
// tries, from inside a sandbox, each known way out of a container with the
// raw system call, and prints one JSON line per attempt with what the
// kernel answered. It judges nothing; the test (escape_test.go) holds what
// each attempt must get. Built by the test with CGO_ENABLED=0.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Attempt is one line of the output.
type Attempt struct {
	Name    string `json:"name"`
	Syscall string `json:"syscall"`
	Result  string `json:"result"` // an errno name (EPERM), or "ok", or "ok: …"
}

var out = json.NewEncoder(os.Stdout)

func report(name, call string, err error) {
	out.Encode(Attempt{Name: name, Syscall: call, Result: result(err)})
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	if errno, ok := err.(syscall.Errno); ok {
		return unix.ErrnoName(errno)
	}
	if pe, ok := err.(*os.PathError); ok {
		return result(pe.Err)
	}
	if se, ok := err.(*os.SyscallError); ok {
		return result(se.Err)
	}
	return err.Error()
}

func raw(trap uintptr, a ...uintptr) error {
	var args [6]uintptr
	copy(args[:], a)
	_, _, e := unix.RawSyscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
	if e != 0 {
		return e
	}
	return nil
}

func cstr(s string) uintptr {
	b, _ := unix.BytePtrFromString(s)
	return uintptr(unsafe.Pointer(b))
}

func main() {
	// Which descriptors did the sandbox start us with? The Go runtime opens
	// a few of its own before main (cgroup files, to size GOMAXPROCS), all
	// close-on-exec; whatever lacks close-on-exec came through the exec.
	fds := inheritedFDs()
	hostPID := flag.Int("host-pid", 0, "a process on the host, outside every sandbox")
	siblingPID := flag.Int("sibling-pid", 0, "the host PID of another sandbox's workload")
	blockDev := flag.String("block-dev", "", "MAJOR:MINOR of the host's disk")
	hostIf := flag.String("host-if", "", "a network interface of the host")
	hostFile := flag.String("host-file", "", "a file on the host, outside the sandbox's root")
	leakedFD := flag.Int("leaked-fd", 77, "the descriptor a caller of glassbox leaked")
	flag.Parse()

	out.Encode(Attempt{Name: "descriptors the workload starts with", Syscall: "/proc/self/fd without FD_CLOEXEC", Result: "ok: " + fds})
	report("walk a leaked descriptor to the host", "openat(leaked, \"..\")", func() error {
		fd, err := unix.Openat(*leakedFD, "..", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}())

	report("mount a tmpfs", "mount", unix.Mount("t", "/tmp", "tmpfs", 0, ""))
	report("remount /proc/sys read-write", "mount(MS_REMOUNT)", unix.Mount("", "/proc/sys", "", unix.MS_REMOUNT|unix.MS_BIND, ""))
	report("unmount the mask over /proc/kcore", "umount2", unix.Unmount("/proc/kcore", unix.MNT_DETACH))
	report("unshare a user namespace", "unshare(CLONE_NEWUSER)", unix.Unshare(unix.CLONE_NEWUSER))
	report("unshare a mount namespace", "unshare(CLONE_NEWNS)", unix.Unshare(unix.CLONE_NEWNS))
	report("clone into new namespaces", "clone(CLONE_NEWUSER|CLONE_NEWNS)", cloneNewNS())
	report("open a host process's namespace", "open(/proc/HOSTPID/ns/mnt)", openClose(fmt.Sprintf("/proc/%d/ns/mnt", *hostPID)))
	report("open the init's namespace", "open(/proc/1/ns/mnt)", openClose("/proc/1/ns/mnt"))
	report("setns into a namespace", "setns", func() error {
		fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Setns(fd, 0)
	}())
	report("join a new session keyring", "keyctl(JOIN_SESSION_KEYRING)", raw(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, cstr("glassbox-escape")))
	report("add a key", "add_key", raw(unix.SYS_ADD_KEY, cstr("user"), cstr("glassbox-escape"), cstr("x"), 1, uintptr(unix.KEY_SPEC_PROCESS_KEYRING&0xffffffff)))
	report("load an eBPF program", "bpf(BPF_PROG_LOAD)", func() error {
		var attr [128]byte
		return raw(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	}())
	report("open a perf event", "perf_event_open", func() error {
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_CPU_CLOCK}
		attr.Size = uint32(unsafe.Sizeof(attr))
		fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}())
	report("ptrace a host process", "ptrace(ATTACH, host pid)", ptraceAttach(*hostPID))
	report("ptrace another sandbox's workload", "ptrace(ATTACH, sibling pid)", ptraceAttach(*siblingPID))
	report("ptrace the init", "ptrace(ATTACH, 1)", ptraceAttach(1))
	report("read the init's memory", "process_vm_readv(1)", func() error {
		var b [8]byte
		local := []unix.Iovec{{Base: &b[0], Len: 8}}
		remote := []unix.RemoteIovec{{Base: 0x400000, Len: 8}}
		_, err := unix.ProcessVMReadv(1, local, remote, 0)
		return err
	}())
	report("load a kernel to boot", "kexec_load", raw(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0))
	report("load a kernel module", "init_module", raw(unix.SYS_INIT_MODULE, 0, 0, cstr("")))
	report("load a kernel module from a file", "finit_module", raw(unix.SYS_FINIT_MODULE, 0, cstr(""), 0))
	report("power the machine off", "reboot(POWER_OFF)", raw(unix.SYS_REBOOT, unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2, unix.LINUX_REBOOT_CMD_POWER_OFF))
	report("open the host's root by handle (shocker)", "open_by_handle_at", shocker())
	report("make and read a block device of the host's disk", "mknod+open", blockDevice(*blockDev))
	report("trigger a sysrq", "open(/proc/sysrq-trigger, O_WRONLY)", openClose("/proc/sysrq-trigger", unix.O_WRONLY))
	report("set the host's core_pattern", "open(/proc/sys/kernel/core_pattern, O_WRONLY)", openClose("/proc/sys/kernel/core_pattern", unix.O_WRONLY))
	report("set the host's uevent helper", "open(/sys/kernel/uevent_helper, O_WRONLY)", openClose("/sys/kernel/uevent_helper", unix.O_WRONLY))
	report("read the host's memory", "read(/proc/kcore)", func() error {
		b, err := os.ReadFile("/proc/kcore")
		if err != nil {
			return err
		}
		return fmt.Errorf("ok: %d bytes", len(b))
	}())
	report("move into a parent cgroup", "write(cgroup.procs)", moveCgroup())
	report("set a cgroup release agent", "open(release_agent, O_WRONLY)", releaseAgent())
	report("chroot back to the host's root", "chroot+chdir(..)+chroot", chrootEscape(*hostFile))
	report("sniff the host's network", "socket(AF_PACKET)+bind(host if)", rawSocket(*hostIf))
	report("change the host's hostname", "sethostname", unix.Sethostname([]byte("glassbox-escaped")))
	report("set the clock", "clock_settime", func() error {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_REALTIME, &ts); err != nil {
			return err
		}
		return unix.ClockSettime(unix.CLOCK_REALTIME, &ts)
	}())
	report("set up io_uring (its calls bypass seccomp)", "io_uring_setup", func() error {
		var params [120]byte
		return raw(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])))
	}())
}

func inheritedFDs() string {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return "unknown: " + err.Error()
	}
	names, _ := dir.Readdirnames(-1)
	self := int(dir.Fd())
	dir.Close()
	var fds []int
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd == self {
			continue
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	sort.Ints(fds)
	s := make([]string, len(fds))
	for i, fd := range fds {
		s[i] = strconv.Itoa(fd)
	}
	return strings.Join(s, " ")
}

func openClose(path string, flags ...int) error {
	f := unix.O_RDONLY
	if len(flags) > 0 {
		f = flags[0]
	}
	fd, err := unix.Open(path, f|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// cloneNewNS forks with namespace flags: if the kernel allowed it, the
// child exits at once.
func cloneNewNS() error {
	pid, _, e := unix.RawSyscall6(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_NEWNS|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws unix.WaitStatus
	unix.Wait4(int(pid), &ws, 0, nil)
	return nil
}

func ptraceAttach(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("no pid given")
	}
	err := unix.PtraceAttach(pid)
	if err == nil {
		unix.PtraceDetach(pid)
	}
	return err
}

// shocker asks for the filesystem's inode 2 (the root of an ext4 or xfs
// filesystem) by handle, through a file that lives on the host's
// filesystem (the bind-mounted /etc/hostname): with it, a process outside
// every mount reaches the host's whole tree.
func shocker() error {
	mountFD, err := unix.Open("/etc/hostname", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(mountFD)
	h := unix.NewFileHandle(1, []byte{2, 0, 0, 0, 0, 0, 0, 0}) // FILEID_INO32_GEN: inode 2, generation 0
	fd, err := unix.OpenByHandleAt(mountFD, h, unix.O_RDONLY)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

func blockDevice(dev string) error {
	maj, min, ok := strings.Cut(dev, ":")
	if !ok {
		return fmt.Errorf("no block device given")
	}
	ma, _ := strconv.Atoi(maj)
	mi, _ := strconv.Atoi(min)
	path := "/glassbox-escape-disk"
	if err := unix.Mknod(path, unix.S_IFBLK|0o600, int(unix.Mkdev(uint32(ma), uint32(mi)))); err != nil {
		return err
	}
	defer unix.Unlink(path)
	return openClose(path)
}

// cgroupProcs finds a cgroup.procs the sandbox can see: v2's at the top of
// /sys/fs/cgroup, or the first v1 hierarchy's.
func cgroupProcs(file string) string {
	if _, err := os.Stat("/sys/fs/cgroup/" + file); err == nil {
		return "/sys/fs/cgroup/" + file
	}
	m, _ := filepath.Glob("/sys/fs/cgroup/*/" + file)
	if len(m) > 0 {
		return m[0]
	}
	return "/sys/fs/cgroup/" + file
}

// moveCgroup writes its own pid to the topmost cgroup.procs it can see:
// the sandbox's own cgroup is the root of its cgroup namespace, so there
// is no parent to name; the write itself must fail.
func moveCgroup() error {
	return os.WriteFile(cgroupProcs("cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
}

func releaseAgent() error {
	return openClose(cgroupProcs("release_agent"), unix.O_WRONLY)
}

// chrootEscape: chroot into a subdirectory while keeping the working
// directory outside it, climb with "..", chroot there, and look for a
// host file. pivot_root detached the host's tree, so the climb ends at
// the sandbox's own root.
func chrootEscape(hostFile string) error {
	if hostFile == "" {
		return fmt.Errorf("no host file given")
	}
	os.MkdirAll("/tmp/jail", 0o755)
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Chroot("/tmp/jail"); err != nil {
		return err
	}
	for i := 0; i < 64; i++ {
		unix.Chdir("..")
	}
	if err := unix.Chroot("."); err != nil {
		return err
	}
	return openClose(hostFile)
}

func rawSocket(ifname string) error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return err
	}
	return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: int(ifr.Uint32())})
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
