package inspect

import (
	"bytes"
	"fmt"
)

// procStatus is what inspect takes from /proc/PID/status.
//
// procfs's Proc.NewStatus parses the same file, but it opens, reads and
// closes it on each call and allocates a map of every field; a refresh here
// re-reads a held descriptor (see heldFile) and needs eight fields, so this
// parser works on the bytes. TestStatusAgreesWithProcfs checks that both
// read the fixture alike.
type procStatus struct {
	Name    string
	State   string // "S (sleeping)"
	PPID    int
	Threads int
	RSSKiB  int64
	NSpid   []int // host first, innermost last
	// UID and GID are the effective ids (the second of Uid: and Gid:),
	// the ones the kernel checks permissions against.
	UID, GID int
	CapEff   uint64
	hasCaps  bool
	// capPrm is the permitted set (hasPrm: the line was there).
	capPrm uint64
	hasPrm bool
	// Seccomp is the seccomp mode (0 none, 1 strict, 2 filter) and
	// SeccompFilters the number of filters stacked (Linux 5.9+).
	Seccomp        int
	SeccompFilters int
	NoNewPrivs     bool
}

func parseStatus(b []byte, prevName string, prevNSpid []int) (procStatus, error) {
	var s procStatus
	var seen int
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		key, val := line[:i], bytes.TrimSpace(line[i+1:])
		switch string(key) {
		case "Name":
			// The comm rarely changes: keep the previous string when it
			// did not, rather than allocate a new one each refresh.
			if string(val) == prevName {
				s.Name = prevName
			} else {
				s.Name = string(val)
			}
			seen++
		case "State":
			s.State = stateName(val)
		case "PPid":
			n, ok := parseUint(val)
			if !ok {
				return s, fmt.Errorf("PPid %q: %w", val, errSyntax)
			}
			s.PPID = int(n)
		case "Threads":
			n, _ := parseUint(val)
			s.Threads = int(n)
		case "VmRSS":
			n, _ := parseUint(bytes.TrimSuffix(val, []byte(" kB")))
			s.RSSKiB = int64(n)
		case "NSpid":
			s.NSpid = parseNSpid(val, prevNSpid)
			seen++
		case "Uid", "Gid":
			f := bytes.Fields(val)
			if len(f) < 2 {
				return s, fmt.Errorf("%s %q: %w", key, val, errSyntax)
			}
			n, ok := parseUint(f[1])
			if !ok {
				return s, fmt.Errorf("%s %q: %w", key, val, errSyntax)
			}
			if key[0] == 'U' {
				s.UID = int(n)
			} else {
				s.GID = int(n)
			}
		case "CapEff":
			n, ok := parseHex(val)
			if !ok {
				return s, fmt.Errorf("CapEff %q: %w", val, errSyntax)
			}
			s.CapEff, s.hasCaps = n, true
		case "CapPrm":
			n, ok := parseHex(val)
			if !ok {
				return s, fmt.Errorf("CapPrm %q: %w", val, errSyntax)
			}
			s.capPrm, s.hasPrm = n, true
		case "Seccomp":
			n, _ := parseUint(val)
			s.Seccomp = int(n)
		case "Seccomp_filters":
			n, _ := parseUint(val)
			s.SeccompFilters = int(n)
		case "NoNewPrivs":
			s.NoNewPrivs = string(val) == "1"
		}
	}
	if seen < 2 {
		return s, fmt.Errorf("no Name or NSpid line: %w", errSyntax)
	}
	return s, nil
}

// parseNSpid reads "4251\t2" (host PID first, then the PID in each nested
// pid namespace). prev is reused when nothing changed (always, for a live
// process: its PIDs are fixed at fork).
func parseNSpid(val []byte, prev []int) []int {
	n := 0
	same := true
	for f := range bytes.FieldsSeq(val) {
		v, ok := parseUint(f)
		if !ok {
			return nil
		}
		if n >= len(prev) || prev[n] != int(v) {
			same = false
		}
		n++
	}
	if same && n == len(prev) {
		return prev
	}
	out := make([]int, 0, n)
	for f := range bytes.FieldsSeq(val) {
		v, _ := parseUint(f)
		out = append(out, int(v))
	}
	return out
}

// stateName turns "S (sleeping)" into "sleeping" without allocating.
func stateName(val []byte) string {
	if len(val) == 0 {
		return ""
	}
	switch val[0] {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "disk sleep"
	case 'T':
		return "stopped"
	case 't':
		return "tracing stop"
	case 'Z':
		return "zombie"
	case 'X':
		return "dead"
	case 'I':
		return "idle"
	case 'P':
		return "parked"
	}
	return string(val)
}

// procStat is what inspect takes from /proc/PID/stat on every refresh: the
// figures that move. The kernel formats stat from a handful of counters;
// status, which has the same state, PPID, thread count and resident pages
// among its fifty lines (Uid, CapEff, Seccomp, the memory breakdown…), costs
// twice as much to produce, so it is read only for what stat lacks (see
// procHandle.read).
type procStat struct {
	comm    []byte // in buf: valid until buf is read into again
	State   string
	PPID    int
	Threads int
	RSS     int64  // pages
	CPU     uint64 // utime+stime, clock ticks
}

// parseStat reads /proc/PID/stat. The comm field (2nd) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	var s procStat
	open, i := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || i < open {
		return s, fmt.Errorf("stat: no (comm): %w", errSyntax)
	}
	s.comm = b[open+1 : i]
	field := 2
	var utime uint64
	for f := range bytes.FieldsSeq(b[i+1:]) {
		field++
		switch field {
		case 3:
			s.State = stateName(f)
		case 4:
			n, ok := parseUint(f)
			if !ok {
				return s, fmt.Errorf("stat: ppid %q: %w", f, errSyntax)
			}
			s.PPID = int(n)
		case 14:
			utime, _ = parseUint(f)
		case 15:
			stime, _ := parseUint(f)
			s.CPU = utime + stime
		case 20:
			n, _ := parseUint(f)
			s.Threads = int(n)
		case 24:
			n, _ := parseUint(f)
			s.RSS = int64(n)
			return s, nil
		}
	}
	return s, fmt.Errorf("stat: too few fields: %w", errSyntax)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times. The kernel
// fixes it at 100 for userspace on every architecture Linux supports
// (sysconf(_SC_CLK_TCK) returns the same constant).
const clockTicks = 100

// parsePids reads cgroup.procs: one PID per line.
func parsePids(b []byte, out []int) []int {
	out = out[:0]
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if n, ok := parseUint(line); ok {
			out = append(out, int(n))
		}
	}
	return out
}

// capSysAdmin is CAP_SYS_ADMIN's bit in a capability set.
const capSysAdmin = 1 << 21

// settled: the process can no longer move itself into other namespaces
// without leaving its user namespace (see nsProc): no_new_privs is set,
// and CAP_SYS_ADMIN is not in its permitted set.
func (s procStatus) settled() bool {
	return s.NoNewPrivs && s.hasPrm && s.capPrm&capSysAdmin == 0
}
