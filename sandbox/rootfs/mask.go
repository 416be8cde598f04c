package rootfs

// MaskedPaths are hidden from the sandbox: they expose the host's kernel
// memory, keys, timers or hardware. A file is covered by /dev/null, a
// directory by an empty read-only tmpfs (what docker and runc do). Paths
// this kernel lacks are skipped.
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

func maskOps(root string) []Op {
	var ops []Op
	for _, p := range MaskedPaths {
		ops = append(ops, Op{Kind: OpMask, Src: join(root, "/dev/null"), Dst: join(root, p)})
	}
	for _, p := range ReadOnlyPaths {
		ops = append(ops, Op{Kind: OpReadOnly, Dst: join(root, p)})
	}
	return ops
}
