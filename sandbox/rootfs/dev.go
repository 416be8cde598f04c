package rootfs

import "golang.org/x/sys/unix"

// device is a character device every sandbox gets in /dev.
type device struct {
	name         string
	major, minor uint32
}

var devices = []device{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

var devLinks = [][2]string{
	{"pts/ptmx", "ptmx"},
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
}

// devOps give the sandbox a /dev of its own: a tmpfs with the usual
// character devices, a private devpts instance (its own pty numbers), a
// tmpfs for POSIX shared memory, and the conventional symlinks. The host's
// /dev (disks, …) is not visible.
func devOps(root string, userns bool) []Op {
	dev := join(root, "/dev")
	ops := []Op{{Kind: OpMount, Src: "tmpfs", Dst: dev, FSType: "tmpfs",
		Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k", Mkdir: true}}
	for _, d := range devices {
		path := dev + "/" + d.name
		if userns {
			// A user namespace may not mknod; bind the host's node instead.
			ops = append(ops, Op{Kind: OpTouch, Dst: path},
				Op{Kind: OpMount, Src: "/dev/" + d.name, Dst: path, Flags: unix.MS_BIND})
			continue
		}
		// OpMknod sets the mode exactly (mknod's is filtered by the umask).
		ops = append(ops, Op{Kind: OpMknod, Dst: path, Mode: unix.S_IFCHR | 0o666, Dev: unix.Mkdev(d.major, d.minor)})
	}
	// newinstance: the sandbox's ptys are numbered from 0 and invisible to
	// the host's devpts; ptmxmode=0666 lets an unprivileged user open ptmx.
	ops = append(ops,
		Op{Kind: OpMount, Src: "devpts", Dst: dev + "/pts", FSType: "devpts",
			Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620", Mkdir: true},
		Op{Kind: OpMount, Src: "shm", Dst: dev + "/shm", FSType: "tmpfs", Flags: nsde, Data: "mode=1777,size=65536k", Mkdir: true},
		Op{Kind: OpMkdir, Dst: dev + "/mqueue", Mode: 0o755})
	for _, l := range devLinks {
		ops = append(ops, Op{Kind: OpSymlink, Src: l[0], Dst: dev + "/" + l[1]})
	}
	return ops
}
