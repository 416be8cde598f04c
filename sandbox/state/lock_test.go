package state

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestLockExcludesAndLetsGo(t *testing.T) {
	s := NewStore(RootsAt(t.TempDir()))
	const id = "0123456789ab"
	if s.Busy(id) {
		t.Fatal("busy before anyone locked it")
	}
	if _, err := os.Stat(s.LockPath(id)); !os.IsNotExist(err) {
		t.Fatalf("Busy created the lock file: %v", err)
	}
	a, err := s.TryLock(id)
	if err != nil {
		t.Fatal(err)
	}
	// Another open file of the same process is excluded too.
	if _, err := s.TryLock(id); !errors.Is(err, ErrBusy) {
		t.Fatalf("second TryLock: %v, want ErrBusy", err)
	}
	if !s.Busy(id) {
		t.Error("not busy while held")
	}
	// A child's inherited descriptor keeps the lock after the parent's goes.
	fd, err := unix.Dup(int(a.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	child, err := s.AdoptLock(id, os.NewFile(uintptr(fd), "lock"))
	if err != nil {
		t.Fatal(err)
	}
	a.Release()
	if !s.Busy(id) {
		t.Error("the lock went with the parent's descriptor, though the child holds it")
	}
	// A waiter that opened the file before it was removed starts over on
	// a new file, and gets it.
	got := make(chan error, 1)
	go func() {
		l, err := s.Lock(id, 5*time.Second)
		if err == nil {
			defer l.Release()
			if _, serr := os.Stat(s.LockPath(id)); serr != nil {
				err = serr
			}
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := child.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("the waiter: %v", err)
	}
}

func TestAdoptLockRefusesAnUnlockedFile(t *testing.T) {
	s := NewStore(RootsAt(t.TempDir()))
	const id = "0123456789ab"
	l, err := s.TryLock(id)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	other, err := os.Open(s.LockPath(id)) // the file, but not the locked open file
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdoptLock(id, other); err == nil {
		t.Error("adopted a descriptor that does not hold the lock")
	}
}
