package compare

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// hostFacts are the host kernel's own answers to what /info asks inside.
func hostFacts() (info, error) {
	var in info
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return in, fmt.Errorf("uname: %w", err)
	}
	in.KernelRelease = unix.ByteSliceToString(u.Release[:])
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return in, err
	}
	in.BootID = strings.TrimSpace(string(b))
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return in, err
	}
	in.KernelUptime, err = strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	return in, err
}

// memAvailable is MemAvailable of /proc/meminfo in bytes: what the kernel
// estimates could be given to new work without swapping.
func memAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/meminfo: no MemAvailable")
}

// cgroupMemory reads a sandbox's memory usage as the OOM killer counts it
// (v2 memory.current, v1 memory.usage_in_bytes), with its anonymous and
// page-cache shares from memory.stat, and the file read.
func cgroupMemory(sb *state.Sandbox) (usage int64, parts []state.FigurePart, source string, err error) {
	if dir := sb.Cgroup.Dirs["unified"]; dir != "" && sb.Cgroup.Mode == "v2" {
		return readMemory(dir, "memory.current", "anon", "file")
	}
	if dir := sb.Cgroup.Dirs["memory"]; dir != "" {
		return readMemory(dir, "memory.usage_in_bytes", "total_rss", "total_cache")
	}
	if dir := sb.Cgroup.Dirs["unified"]; dir != "" {
		return readMemory(dir, "memory.current", "anon", "file")
	}
	return 0, nil, "", fmt.Errorf("sandbox %s has no memory cgroup", sb.Name)
}

func readMemory(dir, file, anonKey, fileKey string) (int64, []state.FigurePart, string, error) {
	src := filepath.Join(dir, file)
	b, err := os.ReadFile(src)
	if err != nil {
		return 0, nil, src, err
	}
	usage, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, nil, src, fmt.Errorf("%s: %w", src, err)
	}
	stat, err := os.ReadFile(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return usage, nil, src, nil
	}
	var parts []state.FigurePart
	for _, l := range strings.Split(string(stat), "\n") {
		k, v, _ := strings.Cut(l, " ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case anonKey:
			parts = append(parts, state.FigurePart{Name: "anonymous", Value: float64(n)})
		case fileKey:
			parts = append(parts, state.FigurePart{Name: "page cache", Value: float64(n)})
		}
	}
	return usage, parts, src + " (+ memory.stat " + anonKey + ", " + fileKey + ")", nil
}

// dirBytes is the size of the file content below dir (what du counts
// for a layer, without directory blocks).
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// pidAlive says whether a process id names a live process.
func pidAlive(pid int) bool {
	return pid > 0 && unix.Kill(pid, 0) == nil
}
