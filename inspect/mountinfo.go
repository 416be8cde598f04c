//go:build linux

package inspect

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// mountinfo is parsed by moby/sys/mountinfo, as the runtime's own readers
// (rootfs, prune) parse it, rather than with procfs.GetProcMounts: procfs
// keeps each field as the kernel escaped it (a space in a path stays
// "\040"), parses super options into a map (losing their order) and splits
// them on commas without regard to overlayfs's own escaping — and overlay
// paths are exactly what inspect must get right. mountinfo leaves the
// options raw, so they are split and unescaped here. It also fails a whole
// file on one odd line: here each line is parsed alone, and a bad one is
// skipped and reported.

// mountLine is one parsed line of /proc/PID/mountinfo (proc(5)).
type mountLine struct {
	Dev          string // the filesystem's device, "major:minor"
	Root         string // the bind-mounted subtree of the filesystem ("/" or e.g. "/null")
	MountPoint   string
	Options      []string // per-mount options: rw, nosuid, …
	FSType       string
	Source       string
	SuperOptions []string // per-superblock options, each octal-unescaped
}

func parseMountinfo(b []byte) (mounts []mountLine, bad []string) {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(line) == 0 {
			continue
		}
		m, err := parseMountLine(string(line))
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		mounts = append(mounts, m)
	}
	return mounts, bad
}

// parseMountLine reads
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Fields are separated by single spaces; spaces, tabs, newlines and
// backslashes inside a field are written as octal escapes (\040 …).
func parseMountLine(line string) (mountLine, error) {
	infos, err := mountinfo.GetMountsFromReader(strings.NewReader(line), nil)
	if err != nil {
		return mountLine{}, fmt.Errorf("mountinfo line %q: %w", line, err)
	}
	if len(infos) != 1 {
		return mountLine{}, fmt.Errorf("mountinfo line %q: not one mount", line)
	}
	in := infos[0]
	m := mountLine{Dev: fmt.Sprintf("%d:%d", in.Major, in.Minor), Root: in.Root, MountPoint: in.Mountpoint, FSType: in.FSType, Source: in.Source}
	for o := range strings.SplitSeq(in.Options, ",") {
		m.Options = append(m.Options, unescapeOctal(o))
	}
	// Super options are split on the raw commas: a comma inside a value is
	// always escaped (\054) by the kernel, so raw commas only separate.
	for o := range strings.SplitSeq(in.VFSOptions, ",") {
		m.SuperOptions = append(m.SuperOptions, unescapeOctal(o))
	}
	return m, nil
}

// unescapeOctal undoes the kernel's mangling of mountinfo fields: a
// backslash followed by three octal digits is that byte.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// overlayOptions are the parts of an overlay mount's super options that
// describe its layers.
type overlayOptions struct {
	Lowers   []string // top-most first, as in lowerdir=
	DataOnly []bool   // parallel to Lowers: a data-only layer (after "::")
	Upper    string
	Work     string
}

// parseOverlay reads lowerdir/upperdir/workdir from octal-unescaped super
// options. overlayfs has an escaping of its own on top of mountinfo's: at
// mount time a ':' or ',' inside a layer path is written "\:" / "\,", and
// (on this kernel, for mount(2)) the option is shown back as it was given,
// so after unescaping "\040"-style octals a backslash still escapes the next
// character. Layers are separated by unescaped ':'; "::" starts the
// data-only lower layers (kernel 6.5+).
func parseOverlay(superOptions []string) overlayOptions {
	var o overlayOptions
	for _, opt := range superOptions {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "lowerdir":
			o.Lowers, o.DataOnly = splitLowerdir(val)
		case "upperdir":
			o.Upper = unescapeOverlay(val)
		case "workdir":
			o.Work = unescapeOverlay(val)
		}
	}
	return o
}

func splitLowerdir(val string) (dirs []string, dataOnly []bool) {
	var cur strings.Builder
	data := false
	flush := func() {
		if cur.Len() == 0 {
			// An empty element is the "::" separator: what follows is
			// data-only.
			data = true
			return
		}
		dirs = append(dirs, cur.String())
		dataOnly = append(dataOnly, data)
		cur.Reset()
	}
	for i := 0; i < len(val); i++ {
		switch c := val[i]; {
		case c == '\\' && i+1 < len(val):
			i++
			cur.WriteByte(val[i])
		case c == ':':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return dirs, dataOnly
}

// unescapeOverlay drops overlayfs's backslash escapes from one path.
func unescapeOverlay(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// maskedPaths are the paths runtimes hide from a container (runc's and
// glassbox's default list): /dev/null bound over files, an empty read-only
// tmpfs over directories.
var maskedPaths = []string{
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
}

// isMasked tells whether a mount hides what is below it: a bind of a
// character device's "/null" (the mount's root is the file /null of a
// devtmpfs or tmpfs), or a read-only tmpfs on a known masked path.
func isMasked(m mountLine) bool {
	if m.Root == "/null" && (m.FSType == "devtmpfs" || m.FSType == "tmpfs") {
		return true
	}
	if m.FSType == "tmpfs" && hasOption(m.Options, "ro") {
		for _, p := range maskedPaths {
			if m.MountPoint == p {
				return true
			}
		}
	}
	return false
}

func hasOption(opts []string, want string) bool {
	for _, o := range opts {
		if o == want {
			return true
		}
	}
	return false
}

// rootMount is the mount on "/" as the process sees it; when several are
// stacked there, the last one listed is on top.
func rootMount(mounts []mountLine) (mountLine, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].MountPoint == "/" {
			return mounts[i], true
		}
	}
	return mountLine{}, false
}

// toMounts turns parsed lines into the Snapshot's form.
func toMounts(lines []mountLine) []Mount {
	out := make([]Mount, 0, len(lines))
	for _, l := range lines {
		out = append(out, Mount{
			MountPoint:   l.MountPoint,
			FSType:       l.FSType,
			Source:       l.Source,
			Options:      l.Options,
			SuperOptions: l.SuperOptions,
			Root:         l.Root,
			Masked:       isMasked(l),
			ReadOnly:     hasOption(l.Options, "ro"),
		})
	}
	return out
}

// hostPath finds where a directory of a filesystem (dev, and root, the path
// inside that filesystem, as a mountinfo root field gives it) is seen in
// another mount table: below a mount of the same filesystem whose root
// contains it. "" when none does.
func hostPath(mounts []mountLine, dev, root string) string {
	best, bestLen := "", -1
	for _, m := range mounts {
		if m.Dev != dev {
			continue
		}
		rel, ok := strings.CutPrefix(root, m.Root)
		if !ok || (rel != "" && !strings.HasPrefix(rel, "/") && m.Root != "/") {
			continue
		}
		if len(m.Root) > bestLen {
			best, bestLen = path.Join(m.MountPoint, rel), len(m.Root)
		}
	}
	return best
}
