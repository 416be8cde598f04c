package sandbox

import (
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// VolatileOverlay says whether the running kernel mounts overlayfs with
// "volatile" (Linux 5.10 on; an older one refuses the whole mount as an
// unknown option): where it does, a sandbox with a ThrowawayUpper gets it.
func VolatileOverlay() bool { return volatileOverlay() }

// volatileOverlay is VolatileOverlay, asked once per process.
var volatileOverlay = sync.OnceValue(func() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 10)
})

// kernelAtLeast: the release (uname -r: "6.1.0-13-amd64", "5.10.0") is
// major.minor or later; false when it cannot be read.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	minStr := parts[1]
	if i := strings.IndexFunc(minStr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minStr = minStr[:i]
	}
	min, err := strconv.Atoi(minStr)
	if err != nil {
		return false
	}
	return maj > major || maj == major && min >= minor
}
