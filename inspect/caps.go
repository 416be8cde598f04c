package inspect

import (
	"fmt"
	"sync"

	"glassbox/sandbox/state"
)

// capNames are the capabilities by bit number, as in linux/capability.h.
var capNames = state.CapNames

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
