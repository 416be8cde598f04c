//go:build linux

package state

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Every sandbox has a lock: an flock(2) on <run>/sandboxes/<id>.lock. The
// rule that makes cleanups safe against starts:
//
//	whoever creates, changes or removes anything of sandbox <id> — its
//	record and state directory, cgroup, writable layer, veth, address
//	lease, nftables table — holds its lock while doing so.
//
// The process that creates a sandbox takes the lock before the record
// exists and hands it to the sandbox's supervisor, which holds it for the
// sandbox's whole life (a foreground `glassbox run` holds it itself). A
// free lock therefore means nobody is at work on <id>: its owner has
// exited, or died — flock belongs to the open file, and the kernel drops it
// when the last descriptor goes, so a crash never leaves a sandbox locked.
// A cleanup (reconcile, rm, prune) takes the lock before it looks at what
// <id> left, and skips a sandbox whose lock another process holds.
//
// The lock file lives from the first resource to the last: the one who
// removes the sandbox unlinks it while still holding it (Lock.Remove). A
// waiter that opened the file before the unlink finds, once it gets the
// lock, that the path no longer names its file, and starts over.

// ErrBusy says another process holds a sandbox's lock: the sandbox is being
// created, runs under its supervisor, or is being removed.
var ErrBusy = errors.New("sandbox is busy")

// Lock is a held sandbox lock.
type Lock struct {
	ID   string
	path string
	f    *os.File
}

// TryLock takes sandbox id's lock if no other process holds it, and fails
// with ErrBusy otherwise.
func (s *Store) TryLock(id string) (*Lock, error) { return s.Lock(id, 0) }

// Lock takes sandbox id's lock, waiting up to wait for another holder to
// let go; ErrBusy when it did not.
func (s *Store) Lock(id string, wait time.Duration) (*Lock, error) {
	if !IsID(id) {
		return nil, fmt.Errorf("lock sandbox: bad id %q", id)
	}
	dir := s.Roots.SandboxesDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock sandbox %s: %w", id, err)
	}
	path := s.LockPath(id)
	deadline := time.Now().Add(wait)
	// A holder usually lets go within a millisecond or two (rm waits for
	// the supervisor's exit, then locks): retry soon at first, then every
	// 5 ms.
	pause := 250 * time.Microsecond
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock sandbox %s: %w", id, err)
		}
		err = flock(f, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			if sameFile(f, path) {
				return &Lock{ID: id, path: path, f: f}, nil
			}
			// Removed (and perhaps created anew) while we waited.
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock sandbox %s: %w", id, err)
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%w: %s", ErrBusy, id)
		}
		time.Sleep(pause)
		pause = min(2*pause, 5*time.Millisecond)
	}
}

// Busy says whether another process holds sandbox id's lock: the sandbox
// has an owner at work.
func (s *Store) Busy(id string) bool {
	// No O_CREAT: a probe must not leave a lock file behind, and nobody
	// can hold a file that does not exist.
	f, err := os.OpenFile(s.LockPath(id), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(flock(f, unix.LOCK_EX|unix.LOCK_NB), unix.EWOULDBLOCK)
}

// AdoptLock takes over the lock of sandbox id that the parent process
// passed down as f (Lock.File): the lock is the open file's, so the child
// holds it from its first instruction, with no moment where it is free.
func (s *Store) AdoptLock(id string, f *os.File) (*Lock, error) {
	path := s.LockPath(id)
	if !sameFile(f, path) {
		f.Close()
		return nil, fmt.Errorf("adopt the lock of sandbox %s: descriptor %d is not %s", id, f.Fd(), path)
	}
	// On a descriptor whose open file holds the lock already, this succeeds
	// at once; on any other it would fail: it proves the lock is ours.
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("adopt the lock of sandbox %s: %w", id, err)
	}
	unix.CloseOnExec(int(f.Fd()))
	return &Lock{ID: id, path: path, f: f}, nil
}

// File is the locked file, for a child process to inherit (exec.Cmd's
// ExtraFiles) and adopt.
func (l *Lock) File() *os.File { return l.f }

// Release lets go of this process's hold. It closes the descriptor and
// never unlocks explicitly: a child that inherited the open file keeps
// the lock until it, too, has closed it.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// Remove deletes the lock file and then releases it: the last act of
// removing a sandbox, once nothing of it is left.
func (l *Lock) Remove() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path)
	l.Release()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the lock of sandbox %s: %w", l.ID, err)
	}
	return nil
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// sameFile: path names the file f has open.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
