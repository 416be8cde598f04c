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

// parseStatCPU returns utime+stime in clock ticks from /proc/PID/stat.
// The comm field (2nd) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no ')': %w", errSyntax)
	}
	// After ") " come fields 3 (state) onwards; utime is field 14, stime 15.
	rest := b[i+1:]
	field := 2
	var utime, stime uint64
	for f := range bytes.FieldsSeq(rest) {
		field++
		switch field {
		case 14:
			utime, _ = parseUint(f)
		case 15:
			stime, _ = parseUint(f)
			return utime + stime, nil
		}
	}
	return 0, fmt.Errorf("stat: too few fields: %w", errSyntax)
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
