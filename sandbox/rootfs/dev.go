package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

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
	{"/proc/kcore", "core"},
}

// mountDev gives the sandbox a /dev of its own: a tmpfs with the usual
// character devices, a private devpts instance (its own pty numbers), a
// tmpfs for POSIX shared memory, and the conventional symlinks. The host's
// /dev (disks, …) is not visible.
func mountDev(root string, userns bool) error {
	dev := join(root, "/dev")
	if err := mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	for _, d := range devices {
		path := dev + "/" + d.name
		if userns {
			// A user namespace may not mknod; bind the host's node instead.
			if err := bindFile("/dev/"+d.name, path); err != nil {
				return err
			}
			continue
		}
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("mknod %s: %w", path, err)
		}
		// mknod's mode is filtered by the umask.
		if err := unix.Chmod(path, 0o666); err != nil {
			return fmt.Errorf("chmod %s: %w", path, err)
		}
	}
	// newinstance: the sandbox's ptys are numbered from 0 and invisible to
	// the host's devpts; ptmxmode=0666 lets an unprivileged user open ptmx.
	if err := mount("devpts", dev+"/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
		"newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	if err := mount("shm", dev+"/shm", "tmpfs", nsde, "mode=1777,size=65536k"); err != nil {
		return err
	}
	if err := os.Mkdir(dev+"/mqueue", 0o755); err != nil {
		return fmt.Errorf("create %s/mqueue: %w", dev, err)
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[0], dev+"/"+l[1]); err != nil {
			return fmt.Errorf("symlink %s/%s: %w", dev, l[1], err)
		}
	}
	return nil
}
