package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// execUser is who a process in the sandbox runs as.
type execUser struct {
	UID, GID uint32
	Groups   []uint32 // supplementary, from the sandbox's /etc/group
	Home     string
}

// lookupUser resolves docker's USER[:GROUP] (names or numbers; root when
// empty) against the sandbox's own /etc/passwd and /etc/group, read from
// root — the sandbox's root directory as the host sees it
// (/proc/INIT/root). A name must be found; a number need not be, as in
// docker (its group is then 0 and its home /).
func lookupUser(root, spec string) (*execUser, error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	if name == "" {
		if hasGroup {
			return nil, fmt.Errorf("invalid user %q: give USER or USER:GROUP", spec)
		}
		name = "0"
	}
	uid, numeric := parseID(name)
	gid, gnumeric := parseID(group)
	read := func(file string) ([]byte, error) {
		b, err := readSandboxFile(root, file)
		if errors.Is(err, errNoOpenat2) && numeric && (gnumeric || !hasGroup) {
			return nil, nil // ids need no lookup
		}
		return b, err
	}
	passwd, err := read("/etc/passwd")
	if err != nil {
		return nil, err
	}
	u := &execUser{Home: "/"}
	found := false
	for _, f := range colonLines(passwd, 7) {
		id, ok := parseID(f[2])
		if !ok || !(f[0] == name || numeric && id == uid) {
			continue
		}
		gid, _ := parseID(f[3])
		u.UID, u.GID, u.Home, name, found = id, gid, f[5], f[0], true
		break
	}
	switch {
	case !found && !numeric:
		return nil, fmt.Errorf("unable to find user %s: no matching entries in passwd file", name)
	case !found:
		u.UID = uid
		if u.UID == 0 {
			u.Home = "/root"
		}
	}
	groups, err := read("/etc/group")
	if err != nil {
		return nil, err
	}
	gfound := !hasGroup
	for _, f := range colonLines(groups, 4) {
		id, ok := parseID(f[2])
		if !ok {
			continue
		}
		if hasGroup && (f[0] == group || gnumeric && id == gid) {
			u.GID, gfound = id, true
		}
		if found {
			for _, m := range strings.Split(f[3], ",") {
				if m == name {
					u.Groups = append(u.Groups, id)
				}
			}
		}
	}
	switch {
	case hasGroup && !gfound && !gnumeric:
		return nil, fmt.Errorf("unable to find group %s: no matching entries in group file", group)
	case hasGroup && !gfound:
		u.GID = gid
	}
	return u, nil
}

// parseID reads a uid or gid: a decimal number below 2³¹.
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 31)
	return uint32(n), err == nil
}

// colonLines splits /etc/passwd or /etc/group into its lines' fields
// (n of them; shorter lines and comments are skipped).
func colonLines(data []byte, n int) [][]string {
	var out [][]string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if f := strings.SplitN(line, ":", n); len(f) == n {
			out = append(out, f)
		}
	}
	return out
}

var errNoOpenat2 = errors.New("this kernel has no openat2 (Linux 5.6) to read it safely; give -u as UID[:GID]")

// readSandboxFile reads a small file of the sandbox (at most 1 MiB) with
// every path component resolved inside root: a symlink in the sandbox
// that points to /etc/shadow means the sandbox's, never the host's
// (openat2's RESOLVE_IN_ROOT, Linux 5.6). A missing file reads as empty.
func readSandboxFile(root, inside string) ([]byte, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the sandbox's root: %w", err)
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, inside, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		return nil, fmt.Errorf("read the sandbox's %s: %w", inside, errNoOpenat2)
	}
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the sandbox's %s: %w", inside, err)
	}
	f := os.NewFile(uintptr(fd), inside)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read the sandbox's %s: not a regular file", inside)
	}
	return io.ReadAll(io.LimitReader(f, 1<<20))
}
