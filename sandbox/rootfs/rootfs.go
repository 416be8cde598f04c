// Package rootfs builds a sandbox's root filesystem from inside its new mount
// namespace: one overlayfs mount of the image's layers with a writable upper
// directory, a fresh /proc, a minimal /dev, a read-only /sys with the
// sandbox's cgroups, /tmp, the generated /etc files, masked and read-only
// kernel paths, and finally pivot_root into it.
//
// Every mount is made in the sandbox's own mount namespace, after "/" has
// been made private, so none of them propagates to the host and all of them
// vanish with the namespace when the sandbox's last process exits.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Spec says what to build. Paths are host paths, seen before pivot_root.
type Spec struct {
	// Lower are the read-only layer directories, top-most first (overlayfs's
	// lowerdir order); Upper and Work the sandbox's writable layer and
	// overlayfs's work directory; Target the mount point of the merged root.
	Lower  []string `json:"lower"`
	Upper  string   `json:"upper"`
	Work   string   `json:"work"`
	Target string   `json:"target"`
	// EtcFiles maps a path inside the sandbox ("/etc/hostname") to a host
	// file bind-mounted over it.
	EtcFiles map[string]string `json:"etc_files,omitempty"`
	// Cgroups are the hierarchies to mount read-only below /sys/fs/cgroup.
	Cgroups []CgroupMount `json:"cgroups,omitempty"`
	// UserNS: the sandbox runs in a user namespace, where device nodes
	// cannot be created (they are bind-mounted from the host instead).
	UserNS bool `json:"userns,omitempty"`
}

// Mount steps the kernel does not let a sandbox undo: nosuid and nodev on
// everything that is not /dev, noexec where nothing is run from.
const (
	nsd  = unix.MS_NOSUID | unix.MS_NODEV
	nsde = nsd | unix.MS_NOEXEC
)

// Prepare makes "/" private and builds the whole root below Target except
// the cgroup mounts, which need the cgroup namespace (MountCgroups).
func Prepare(s *Spec) error {
	// Without this, mounts below would propagate to the host's shared "/"
	// (systemd makes it shared), and leak.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := mountOverlay(s); err != nil {
		return err
	}
	if err := mountProc(s.Target); err != nil {
		return err
	}
	if err := mountDev(s.Target, s.UserNS); err != nil {
		return err
	}
	if err := mountSys(s.Target, hasV1(s.Cgroups)); err != nil {
		return err
	}
	if err := mount("tmpfs", join(s.Target, "/tmp"), "tmpfs", nsd, "mode=1777"); err != nil {
		return err
	}
	for inside, host := range s.EtcFiles {
		if err := bindFile(host, join(s.Target, inside)); err != nil {
			return err
		}
	}
	return maskKernelPaths(s.Target)
}

func mountOverlay(s *Spec) error {
	if len(s.Lower) == 0 {
		return errors.New("mount overlay: no layers")
	}
	for _, d := range append(append([]string{}, s.Lower...), s.Upper, s.Work) {
		// overlayfs takes ',' and ':' as separators in its options.
		if strings.ContainsAny(d, ",:") {
			return fmt.Errorf("mount overlay: directory %q contains ',' or ':'", d)
		}
	}
	opts := "lowerdir=" + strings.Join(s.Lower, ":") + ",upperdir=" + s.Upper + ",workdir=" + s.Work
	if s.UserNS {
		// In a user namespace overlayfs cannot use trusted.* xattrs.
		opts += ",userxattr"
	}
	if err := unix.Mount("overlay", s.Target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on %s (%s): %w", s.Target, opts, err)
	}
	return nil
}

func mountProc(root string) error {
	return mount("proc", join(root, "/proc"), "proc", nsde, "")
}

// mountSys mounts sysfs read-only. sysfs shows the network devices of the
// mounting process's network namespace, so in the sandbox's own netns it
// lists only lo (and eth0 once attached).
func mountSys(root string, v1 bool) error {
	sys := join(root, "/sys")
	if err := mount("sysfs", sys, "sysfs", nsde|unix.MS_RDONLY, ""); err != nil {
		return err
	}
	if v1 {
		// A small tmpfs to hold one mount point per v1 hierarchy; made
		// read-only once those are in (MountCgroups).
		if err := mount("tmpfs", join(root, "/sys/fs/cgroup"), "tmpfs", nsde, "mode=755"); err != nil {
			return err
		}
	}
	return nil
}

// mount creates the mount point (a directory) if the image lacks it and mounts.
func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", target, err)
	}
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, target, err)
	}
	return nil
}

// bindFile bind-mounts a host file over path, creating an empty file there
// first when the image has none.
func bindFile(host, path string) error {
	if err := ensureFile(path); err != nil {
		return err
	}
	if err := unix.Mount(host, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", host, path, err)
	}
	return nil
}

func ensureFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}

// join places an absolute path inside the sandbox below root.
func join(root, inside string) string { return filepath.Join(root, inside) }

// PivotRoot makes root the root of the mount namespace and detaches the old
// root, so that nothing of the host's tree (nor the layers' host paths)
// stays reachable. Unlike chroot, this cannot be escaped with a second
// chroot, and the old mounts are really gone from the namespace.
func PivotRoot(root string) error {
	// pivot_root needs the new root to be a mount point of its own; the
	// overlay is. pivot_root(".", ".") stacks the old root on top of the new
	// one at "/", whence it is unmounted: no temporary directory is needed.
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir %s: %w", root, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	// The old root is private already (Prepare), so its unmount cannot
	// propagate to the host; detach it lazily with everything below it.
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}
