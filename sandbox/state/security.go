package state

import "strings"

// Security records how far a sandbox's workload can reach into the kernel,
// as it was started: its capabilities, its seccomp filter and whether its
// root is read-only. The live view (/proc/PID/status) is inspect's.
type Security struct {
	// Caps are the capabilities the workload keeps, e.g. CAP_CHOWN.
	Caps []string `json:"caps"`
	// Seccomp is "default" (docker's profile), "unconfined", or the file a
	// custom profile came from.
	Seccomp string `json:"seccomp"`
	// SeccompSummary counts what the filter allows and denies.
	SeccompSummary string `json:"seccomp_summary,omitempty"`
	// SeccompBlocks are the notable system calls the filter refuses (the
	// known ways out of a container), for people.
	SeccompBlocks []string `json:"seccomp_blocks,omitempty"`
	ReadOnly      bool     `json:"read_only,omitempty"`
}

// CapNames are the capabilities by bit number, as in linux/capability.h.
var CapNames = [...]string{
	0:  "CAP_CHOWN",
	1:  "CAP_DAC_OVERRIDE",
	2:  "CAP_DAC_READ_SEARCH",
	3:  "CAP_FOWNER",
	4:  "CAP_FSETID",
	5:  "CAP_KILL",
	6:  "CAP_SETGID",
	7:  "CAP_SETUID",
	8:  "CAP_SETPCAP",
	9:  "CAP_LINUX_IMMUTABLE",
	10: "CAP_NET_BIND_SERVICE",
	11: "CAP_NET_BROADCAST",
	12: "CAP_NET_ADMIN",
	13: "CAP_NET_RAW",
	14: "CAP_IPC_LOCK",
	15: "CAP_IPC_OWNER",
	16: "CAP_SYS_MODULE",
	17: "CAP_SYS_RAWIO",
	18: "CAP_SYS_CHROOT",
	19: "CAP_SYS_PTRACE",
	20: "CAP_SYS_PACCT",
	21: "CAP_SYS_ADMIN",
	22: "CAP_SYS_BOOT",
	23: "CAP_SYS_NICE",
	24: "CAP_SYS_RESOURCE",
	25: "CAP_SYS_TIME",
	26: "CAP_SYS_TTY_CONFIG",
	27: "CAP_MKNOD",
	28: "CAP_LEASE",
	29: "CAP_AUDIT_WRITE",
	30: "CAP_AUDIT_CONTROL",
	31: "CAP_SETFCAP",
	32: "CAP_MAC_OVERRIDE",
	33: "CAP_MAC_ADMIN",
	34: "CAP_SYSLOG",
	35: "CAP_WAKE_ALARM",
	36: "CAP_BLOCK_SUSPEND",
	37: "CAP_AUDIT_READ",
	38: "CAP_PERFMON",
	39: "CAP_BPF",
	40: "CAP_CHECKPOINT_RESTORE",
}

// CapBit is the bit number of a capability named as docker spells it:
// with or without CAP_, in any case ("net_admin", "CAP_NET_ADMIN").
func CapBit(name string) (int, bool) {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for bit, c := range CapNames {
		if c == n {
			return bit, true
		}
	}
	return 0, false
}
