package rootfs

import "golang.org/x/sys/unix"

// devices are the character devices every sandbox gets in /dev.
var devices = []struct{ name string }{
	{"null"}, {"zero"}, {"full"}, {"random"}, {"urandom"}, {"tty"},
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
//
// The workload keeps CAP_MKNOD (docker's default set), so it can make a
// node for any device, the host's disks included; what stops it opening
// one is nodev on every filesystem it can write to — this tmpfs too. The
// devices it should have are bind mounts of the host's nodes: a bind
// mount is a mount of its own, and the devtmpfs it comes from allows
// devices. (docker stops the open with the devices cgroup instead, which
// cgroup v2 only offers as an eBPF program.)
func devOps(root string) []Op {
	dev := join(root, "/dev")
	ops := []Op{{Kind: OpMount, Src: "tmpfs", Dst: dev, FSType: "tmpfs",
		Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_STRICTATIME, Data: "mode=755,size=65536k", Mkdir: true}}
	for _, d := range devices {
		path := dev + "/" + d.name
		ops = append(ops, Op{Kind: OpTouch, Dst: path},
			Op{Kind: OpMount, Src: "/dev/" + d.name, Dst: path, Flags: unix.MS_BIND})
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
