package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// MaskedPaths are hidden from the sandbox: they expose the host's kernel
// memory, keys, timers or hardware. A file is covered by /dev/null, a
// directory by an empty read-only tmpfs (what docker and runc do).
var MaskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/proc/interrupts",
	"/sys/firmware", "/sys/devices/virtual/powercap",
}

// ReadOnlyPaths stay visible but cannot be written: the kernel's tunables
// and triggers, which are host-wide.
var ReadOnlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

func maskKernelPaths(root string) error {
	devNull := join(root, "/dev/null")
	for _, p := range MaskedPaths {
		path := join(root, p)
		fi, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // not every kernel has every file
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY|nsde, "size=0")
		} else {
			err = unix.Mount(devNull, path, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	for _, p := range ReadOnlyPaths {
		path := join(root, p)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := readOnlyBind(path); err != nil {
			return err
		}
	}
	return nil
}

// readOnlyBind makes path read-only where it is: a bind mount onto itself,
// then a remount of that bind with MS_RDONLY (a bind ignores MS_RDONLY on
// its first call).
func readOnlyBind(path string) error {
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s read-only: %w", path, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_REC | nsde)
	if err := unix.Mount(path, path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", path, err)
	}
	return nil
}
