package inspect

import (
	"fmt"
	"sync"
)

// capNames are the capabilities by bit number, as in linux/capability.h.
var capNames = [...]string{
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

// CapNames decodes a capability mask (CapEff in /proc/PID/status) into
// names, lowest bit first. Bits this table does not know (a newer kernel)
// are named "CAP_<n>".
func CapNames(mask uint64) []string {
	var out []string
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(capNames) {
			out = append(out, capNames[bit])
		} else {
			out = append(out, fmt.Sprintf("CAP_%d", bit))
		}
	}
	return out
}

// capCache shares decoded masks between snapshots: a process's effective
// set rarely changes, and the slices are never modified.
var capCache sync.Map // uint64 -> capInfo

type capInfo struct {
	hex   string
	names []string
}

func decodeCaps(mask uint64) capInfo {
	if v, ok := capCache.Load(mask); ok {
		return v.(capInfo)
	}
	c := capInfo{hex: fmt.Sprintf("%016x", mask), names: CapNames(mask)}
	capCache.Store(mask, c)
	return c
}
