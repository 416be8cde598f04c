// Package rootfs plans a sandbox's root filesystem: one overlayfs mount of
// the image's layers with a writable upper directory, a fresh /proc, a
// minimal /dev, a read-only /sys with the sandbox's cgroups, /tmp, the
// generated /etc files, masked and read-only kernel paths, and the
// pivot_root into it.
//
// The plan is a list of Ops computed by the parent in Go and carried out by
// the sandbox's init inside its new mount namespace (nsinit, before the Go
// runtime starts: see nsinit/init.c). "/" is made private first, so none of
// the mounts propagates to the host, and all of them vanish with the
// namespace when the sandbox's last process exits.
package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Spec says what to build. Paths are host paths, seen before pivot_root.
type Spec struct {
	// Lower are the read-only layer directories, top-most first (overlayfs's
	// lowerdir order); Upper and Work the sandbox's writable layer and
	// overlayfs's work directory; Target the mount point of the merged root.
	Lower  []string
	Upper  string
	Work   string
	Target string
	// EtcFiles maps a path inside the sandbox ("/etc/hostname") to a host
	// file bind-mounted over it.
	EtcFiles map[string]string
	// Cgroups are the hierarchies to mount read-only below /sys/fs/cgroup.
	Cgroups []CgroupMount
	// UserNS: the sandbox runs in a user namespace, where device nodes
	// cannot be created (they are bind-mounted from the host instead) and
	// overlayfs keeps its metadata in user.* xattrs.
	UserNS bool
	// Hostname is set in the sandbox's UTS namespace; NewNet brings lo up
	// in its network namespace.
	Hostname string
	NewNet   bool
	// ReadOnly makes the root read-only, with a writable tmpfs on /run
	// (/tmp always is one).
	ReadOnly bool
	// Volatile mounts the overlay with "volatile" (Linux 5.10): overlayfs
	// then skips syncing the upper directory's filesystem — the whole of
	// it, everyone's dirty pages — when the mount goes away with the
	// sandbox's last process, and turns the workload's fsync/syncfs of
	// its writable layer into no-ops. For a writable layer that no host
	// crash could keep anyway; never for one that becomes an image layer.
	// The kernel refuses a later mount on a work directory a volatile
	// mount used: each start makes it anew (sandbox.makeDirs).
	Volatile bool
}

// Mount flags the sandbox cannot undo (it has no CAP_SYS_ADMIN): nosuid
// and nodev on everything but /dev, noexec where nothing is run from.
const (
	nsd  = unix.MS_NOSUID | unix.MS_NODEV
	nsde = nsd | unix.MS_NOEXEC
)

// Plan returns the steps that build the root and pivot into it. The
// parent's "go" (OpWaitGo) comes after everything but the pivot, so the
// parent's hooks (network attach) run while the init builds.
func Plan(s *Spec) ([]Op, error) {
	ov, err := overlayOptions(s)
	if err != nil {
		return nil, err
	}
	t := s.Target
	ops := []Op{
		// Without this, mounts below would propagate to the host's shared
		// "/" (systemd makes it shared), and leak.
		{Kind: OpMount, Dst: "/", Flags: unix.MS_REC | unix.MS_PRIVATE},
		// nodev: a device node the workload makes (it keeps CAP_MKNOD)
		// opens nothing (see devOps).
		{Kind: OpMount, Src: "overlay", Dst: t, FSType: "overlay", Flags: unix.MS_NODEV, Data: ov},
		{Kind: OpMount, Src: "proc", Dst: join(t, "/proc"), FSType: "proc", Flags: nsde, Mkdir: true},
	}
	ops = append(ops, devOps(t)...)
	// sysfs shows the network devices of the mounting process's network
	// namespace: in the sandbox's own netns only lo (and eth0 once attached).
	ops = append(ops, Op{Kind: OpMount, Src: "sysfs", Dst: join(t, "/sys"), FSType: "sysfs", Flags: nsde | unix.MS_RDONLY, Mkdir: true})
	ops = append(ops, cgroupOps(t, s.Cgroups)...)
	ops = append(ops, Op{Kind: OpMount, Src: "tmpfs", Dst: join(t, "/tmp"), FSType: "tmpfs", Flags: nsd, Data: "mode=1777", Mkdir: true})
	for _, inside := range sortedKeys(s.EtcFiles) {
		dst := join(t, inside)
		ops = append(ops,
			Op{Kind: OpTouch, Dst: dst},
			Op{Kind: OpMount, Src: s.EtcFiles[inside], Dst: dst, Flags: unix.MS_BIND})
	}
	ops = append(ops, maskOps(t)...)
	if s.ReadOnly {
		// /run joins /tmp as a writable tmpfs; then the root mount itself
		// (not its submounts: /tmp, /run, /dev, the /etc files) turns
		// read-only — a remount of its per-mount flags, which the
		// workload, without CAP_SYS_ADMIN, cannot undo.
		ops = append(ops,
			Op{Kind: OpMount, Src: "tmpfs", Dst: join(t, "/run"), FSType: "tmpfs", Flags: nsd, Data: "mode=755", Mkdir: true},
			Op{Kind: OpMount, Src: t, Dst: t, Flags: unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NODEV})
	}
	if s.NewNet {
		ops = append(ops, Op{Kind: OpLoopbackUp})
	}
	ops = append(ops,
		Op{Kind: OpHostname, Data: s.Hostname},
		Op{Kind: OpWaitGo},
		// pivot_root, unlike chroot, leaves nothing of the host's tree (nor
		// the layers' host paths) reachable: the old root is detached.
		Op{Kind: OpPivot, Dst: t})
	return ops, nil
}

func overlayOptions(s *Spec) (string, error) {
	if len(s.Lower) == 0 {
		return "", errors.New("mount overlay: no layers")
	}
	for _, d := range append(append([]string{}, s.Lower...), s.Upper, s.Work) {
		// overlayfs takes ',' and ':' as separators in its options.
		if strings.ContainsAny(d, ",:") {
			return "", fmt.Errorf("mount overlay: directory %q contains ',' or ':'", d)
		}
	}
	opts := "lowerdir=" + strings.Join(s.Lower, ":") + ",upperdir=" + s.Upper + ",workdir=" + s.Work
	if s.UserNS {
		// In a user namespace overlayfs cannot use trusted.* xattrs. It
		// then turns redirect_dir and metacopy off itself, and refuses to
		// be told so.
		opts += ",userxattr"
	} else {
		// The upper directory is read back as a diff (a build's layer,
		// diff, commit), so it must say everything in plain files: no
		// renamed directory recorded as a redirect xattr, no copy-up of
		// metadata only (kernel build options some distributions enable).
		opts += ",redirect_dir=off,metacopy=off"
	}
	if s.Volatile {
		opts += ",volatile"
	}
	if len(opts) > 4000 {
		return "", fmt.Errorf("mount overlay: %d layers make options longer than a page", len(s.Lower))
	}
	return opts, nil
}

// join places an absolute path inside the sandbox below root.
func join(root, inside string) string { return filepath.Join(root, inside) }
