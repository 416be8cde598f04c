package network

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// Dir is where the network's state lives below a state root: one lease file
// and one lock file per bridge.
func Dir(roots state.Roots) string { return filepath.Join(roots.Run, "network") }

// fileLock is an exclusive flock(2) on a file. flock belongs to the open
// file description, so it excludes other processes and other opens in this
// one alike, and the kernel drops it when its holder dies: a crashed
// glassbox never leaves the network locked.
type fileLock struct{ f *os.File }

func lockBridge(roots state.Roots, bridge string) (*fileLock, error) {
	dir := Dir(roots)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create network state dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, bridge+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open network lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &fileLock{f: f}, nil
}

// unlock closes the file, which drops the lock.
func (l *fileLock) unlock() { l.f.Close() }
