package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// AppendByte appends one byte (a newline) to the regular file at path
// inside a running sandbox, through the sandbox's own root mount (its
// init's /proc/PID/root), as a process inside writing to it would. When
// only a lower layer has the file, overlayfs first copies all of it into
// the sandbox's writable layer — copy-up, whose cost the layer explorer
// shows. Symlinks resolve inside the sandbox's root, never outside it.
func AppendByte(sb *state.Sandbox, path string) error {
	if sb.Status != state.Running || sb.InitPID <= 0 {
		return fmt.Errorf("%s is %s: only a running sandbox's root can be written", sb.Name, sb.Status)
	}
	if err := ownsInit(sb); err != nil {
		return err
	}
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", sb.InitPID), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s's root: %w", sb.Name, err)
	}
	defer unix.Close(root)
	rel := strings.TrimLeft(path, "/")
	if rel == "" {
		return fmt.Errorf("%s: not a file", path)
	}
	fd, err := unix.Openat2(root, rel, &unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_APPEND | unix.O_CLOEXEC | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case errors.Is(err, unix.ETXTBSY):
		return fmt.Errorf("%s is a program running in %s: the kernel refuses writes to it: %w", path, sb.Name, err)
	case err != nil:
		return fmt.Errorf("open %s in %s: %w", path, sb.Name, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s in %s is not a regular file", path, sb.Name)
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("append to %s in %s: %w", path, sb.Name, err)
	}
	return nil
}

// ownsInit checks that the process the record names is still the
// sandbox's init (a PID can be reused): it must be in the sandbox's cgroup.
func ownsInit(sb *state.Sandbox) error {
	in, err := inCgroup(sb.InitPID, sb.Cgroup.Path)
	if err != nil {
		return fmt.Errorf("%s's init (PID %d) is gone: %w", sb.Name, sb.InitPID, err)
	}
	if sb.Cgroup.Path != "" && !in {
		return fmt.Errorf("PID %d is no longer %s's init", sb.InitPID, sb.Name)
	}
	return nil
}
