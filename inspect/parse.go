package inspect

import (
	"bytes"
	"errors"
	"math"
)

// The parsers below work on the bytes of a kernel file already read (from a
// held file descriptor, see file.go), so that a refresh allocates little.

var errSyntax = errors.New("unexpected format")

// parseUint reads a decimal unsigned number, ignoring surrounding space.
func parseUint(b []byte) (uint64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt reads a decimal signed number.
func parseInt(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, ok := parseUint(b)
	if !ok || n > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func parseHex(b []byte) (uint64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// nextLine splits off the first line of b.
func nextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// keyValue splits a "key value" or "key: value" line (flat-keyed files such
// as memory.stat, cpu.stat, memory.events, /proc/PID/status).
func keyValue(line []byte) (key, val []byte) {
	i := bytes.IndexAny(line, " \t:")
	if i < 0 {
		return line, nil
	}
	key = line[:i]
	val = line[i+1:]
	val = bytes.TrimLeft(val, " \t:")
	return key, val
}

// flatKeyed calls fn for each "key value" line of a flat-keyed file.
func flatKeyed(b []byte, fn func(key, val []byte)) {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(line) == 0 {
			continue
		}
		k, v := keyValue(line)
		fn(k, v)
	}
}

// limitValue parses a limit file: a number, or "max" (v2), or -1 (v1 CFS
// quota); v1 memory limits have no "unlimited" word but a huge number
// (PAGE_COUNTER_MAX pages rounded down to a page: 9223372036854771712 on
// 64-bit), which means the same. ok=false for a malformed file;
// unlimited=true for any way of saying "no limit".
func limitValue(b []byte) (n int64, unlimited, ok bool) {
	b = bytes.TrimSpace(b)
	if string(b) == "max" || string(b) == "-1" {
		return 0, true, true
	}
	u, ok := parseUint(b)
	if !ok {
		return 0, false, false
	}
	if u >= 1<<62 {
		return 0, true, true
	}
	return int64(u), false, true
}
