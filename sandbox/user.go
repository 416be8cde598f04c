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

	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// execUser is who a process in the sandbox runs as.
type execUser struct {
	UID, GID uint32
	Groups   []uint32 // supplementary, from the sandbox's /etc/group
	Home     string
}

// fileReader reads one of the sandbox's small files (/etc/passwd,
// /etc/group) as the sandbox sees it; a missing file reads as empty.
type fileReader func(inside string) ([]byte, error)

// lookupUser resolves docker's USER[:GROUP] (names or numbers; root when
// empty) against the sandbox's own /etc/passwd and /etc/group, as read
// reads them: from the running sandbox's root (rootReader) for an exec,
// from the image's layers (layerReader) before a start. It is the one
// resolver of users, with docker's (runc's) rules: a name must be found;
// a number need not be (its group is then 0 and its home /); without an
// explicit group, the primary group is the passwd entry's and the
// supplementary groups are those of /etc/group that list the user by
// name; with one, that group alone.
func lookupUser(read fileReader, spec string) (*execUser, error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	if name == "" {
		if hasGroup {
			return nil, fmt.Errorf("invalid user %q: give USER or USER:GROUP", spec)
		}
		name = "0"
	}
	if hasGroup && group == "" {
		return nil, fmt.Errorf("invalid user %q: give USER or USER:GROUP", spec)
	}
	uid, numeric := parseID(name)
	gid, gnumeric := parseID(group)
	readIDs := func(file string) ([]byte, error) {
		b, err := read(file)
		if errors.Is(err, errNoOpenat2) && numeric && (gnumeric || !hasGroup) {
			return nil, nil // ids need no lookup
		}
		return b, err
	}
	passwd, err := readIDs("/etc/passwd")
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
	if !found && !hasGroup {
		return u, nil
	}
	groups, err := readIDs("/etc/group")
	if err != nil {
		return nil, err
	}
	gfound := false
	for _, f := range colonLines(groups, 4) {
		id, ok := parseID(f[2])
		if !ok {
			continue
		}
		if hasGroup {
			if !gfound && (f[0] == group || gnumeric && id == gid) {
				u.GID, gfound = id, true
			}
			continue
		}
		for _, m := range strings.Split(f[3], ",") {
			if m == name {
				u.Groups = append(u.Groups, id)
				break
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

// checkUserNS refuses ids a user namespace cannot map.
func (u *execUser) checkUserNS(spec string) error {
	if u.UID >= UIDMapSize || u.GID >= UIDMapSize {
		return fmt.Errorf("user %q (uid %d, gid %d) is outside the sandbox's user namespace, which maps 0-%d", spec, u.UID, u.GID, UIDMapSize-1)
	}
	for _, g := range u.Groups {
		if g >= UIDMapSize {
			return fmt.Errorf("user %q is in group %d, outside the sandbox's user namespace, which maps 0-%d", spec, g, UIDMapSize-1)
		}
	}
	return nil
}

// rootReader reads the files of a running sandbox from its root directory
// as the host sees it (/proc/INIT/root), every path resolved inside it.
func rootReader(root string) fileReader {
	return func(inside string) ([]byte, error) { return readSandboxFile(root, inside) }
}

// layerReader reads the files of a sandbox-to-be from its layers (top-most
// first, the writable layer too when it has one), merged as overlayfs will
// merge them, symlinks resolved inside the root (image.Resolve).
func layerReader(layers []state.Layer) fileReader {
	return func(inside string) ([]byte, error) {
		host, fi, ok := image.Resolve(layers, inside)
		if !ok {
			return nil, nil
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("read the image's %s: not a regular file", inside)
		}
		f, err := os.OpenFile(host, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
		if err != nil {
			return nil, fmt.Errorf("read the image's %s: %w", inside, err)
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, 1<<20))
	}
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
