//go:build linux

package inspect

import (
	"bytes"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// The hostname inside a sandbox lives in its UTS namespace, and no file
// shows it from outside: /proc/sys/kernel/hostname answers for the
// *reader's* UTS namespace, and /proc/PID/root/proc/sys/kernel/hostname
// only works when the sandbox has a proc mounted and the reader's view of
// it is the sandbox's (it is not: the proc mount answers for its reader).
// So the hostname is asked the way the sandbox itself would: uname(2) from
// inside the namespace. A fresh goroutine locks its OS thread, setns(2)s
// that thread into the target UTS namespace, calls uname, and setns's back;
// nothing is written. If the way back fails, the goroutine exits still
// locked, and the Go runtime destroys the thread rather than reuse it.
//
// Both hostnames are asked again only when one may have changed: every
// sethostname(2), and every write to /proc/sys/kernel/hostname, in any
// UTS namespace, signals POLLPRI|POLLERR to each open descriptor of
// /proc/sys/kernel/hostname (the kernel keeps one event count for all
// namespaces). A poll(2) of the held descriptor costs a tenth of the
// setns/uname/setns round; a fixture's regular file never signals, and is
// read again every slowRefresh instead.

type utsReader struct {
	target, self *heldFile // the namespace files, held open for setns
	sameAsHost   bool
	hostname     *heldFile // ProcRoot/sys/kernel/hostname: the reader's (host's) hostname
	release      string
	releasePath  string
	fallback     string // the record's hostname, when the namespace cannot be entered
	hasRecord    bool
	live         bool
	name         string // the hostname inside as last asked
	hostName     string
	// stale: a hostname may have changed since name and hostName were
	// read (the poll signalled, or a read failed): both are asked again.
	stale    bool
	lookedAt time.Time // the last look by time, without a poll
	// targetIno is the namespace target holds, hostIno the host's: the
	// process may move to another (see follow).
	targetIno, hostIno uint64
}

func openUTS(fs FS, pid int, hasRecord bool, recordHostname string, targetIno, hostIno uint64) (*utsReader, []string) {
	r := &utsReader{fallback: recordHostname, hasRecord: hasRecord, live: fs.live, sameAsHost: targetIno != 0 && targetIno == hostIno,
		targetIno: targetIno, hostIno: hostIno}
	var errs []string
	var err error
	r.hostname, err = openHeld(fs.ProcRoot + "/sys/kernel/hostname")
	if err != nil {
		errs = append(errs, err.Error())
	}
	r.releasePath = fs.ProcRoot + "/sys/kernel/osrelease"
	var buf [256]byte
	if b, err := readWhole(r.releasePath, buf[:]); err != nil {
		errs = append(errs, err.Error())
	} else {
		r.release = string(bytes.TrimSpace(b))
	}
	if fs.live && !r.sameAsHost {
		if r.target, err = openHeld(fs.procPath(pid, "ns", "uts")); err != nil {
			errs = append(errs, err.Error())
		} else if r.self, err = openHeld("/proc/thread-self/ns/uts"); err != nil {
			errs = append(errs, err.Error())
		}
		r.targetIno = nsFileInode(r.target, targetIno)
	}
	return r, errs
}

// nsFileInode is the inode of the namespace an open namespace file is
// (its own inode), or def when it cannot be told.
func nsFileInode(f *heldFile, def uint64) uint64 {
	var st unix.Stat_t
	if f == nil || unix.Fstat(f.fd, &st) != nil {
		return def
	}
	return st.Ino
}

// follow keeps the reader on the UTS namespace the process is in now (its
// link as ns last read it): a process that moved to another (setns,
// unshare) has its hostname asked there. The namespace file held is the
// namespace itself, not the process's link, and would not follow it.
func (r *utsReader) follow(ns *nsReader, fs FS, pid int) {
	ino := ns.utsInode()
	if !r.live || ino == 0 || ino == r.targetIno {
		return
	}
	r.sameAsHost = ino == r.hostIno
	r.stale = true
	r.target.close()
	r.target, r.targetIno = nil, ino
	if r.sameAsHost {
		return
	}
	f, err := ns.openUTS(fs.procPath(pid, "ns", "uts"))
	if err != nil {
		return // the fallback says what is known
	}
	r.target, r.targetIno = f, nsFileInode(f, ino)
	if r.self == nil {
		r.self, _ = openHeld("/proc/thread-self/ns/uts")
	}
}

func (r *utsReader) close() {
	r.target.close()
	r.self.close()
	r.hostname.close()
}

func (r *utsReader) read(c *collector, u *UTS, now time.Time) {
	u.KernelRelease = r.release
	u.KernelSource = r.releasePath
	if r.changed(now) {
		r.stale = true
	}
	stale := r.stale
	r.stale = false
	if r.hostName == "" || stale {
		if b := c.read(r.hostname); b != nil {
			r.hostName = string(bytes.TrimSpace(b))
		} else if r.hostname != nil {
			r.stale = true
		}
	}
	if r.hostName != "" {
		u.HostHostname, u.HostSource = r.hostName, r.hostname.path
	}
	switch {
	case r.sameAsHost:
		u.Hostname = u.HostHostname
		u.Source = u.HostSource + " (shares the host's UTS namespace)"
	case r.target != nil && r.self != nil:
		if r.name == "" || stale {
			name, err := unameIn(r.target, r.self)
			if err != nil {
				c.add(err)
				r.stale = true
				u.Hostname, u.Source = r.fallback, "sandbox record"
				return
			}
			r.name = name
		}
		u.Hostname = r.name
		u.Source = "uname(2) in " + r.target.path
	default:
		r.useFallback(u)
	}
}

// changed tells whether a hostname may have changed since the last look:
// the held hostname file's poll on the live host (an error counts as a
// change); without one (a fixture's regular file never signals), once
// slowRefresh has passed.
func (r *utsReader) changed(now time.Time) bool {
	if r.live && r.hostname != nil {
		fds := [1]unix.PollFd{{Fd: int32(r.hostname.fd), Events: unix.POLLPRI}}
		n, err := unix.Poll(fds[:], 0)
		return err != nil || n > 0
	}
	if now.Sub(r.lookedAt) < slowRefresh {
		return false
	}
	r.lookedAt = now
	return true
}

func (r *utsReader) useFallback(u *UTS) {
	if r.hasRecord {
		u.Hostname, u.Source = r.fallback, "sandbox record"
		return
	}
	u.Source = "not read: entering the UTS namespace needs root on the live host"
}

func unameIn(target, self *heldFile) (string, error) {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(target.fd, unix.CLONE_NEWUTS); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("enter UTS namespace %s: %w", target.path, err)}
			return
		}
		var u unix.Utsname
		err := unix.Uname(&u)
		if rerr := unix.Setns(self.fd, unix.CLONE_NEWUTS); rerr != nil {
			// Stay locked: the thread dies with this goroutine.
			ch <- result{err: fmt.Errorf("return from UTS namespace %s: %w", target.path, rerr)}
			return
		}
		runtime.UnlockOSThread()
		if err != nil {
			ch <- result{err: fmt.Errorf("uname in %s: %w", target.path, err)}
			return
		}
		ch <- result{name: unix.ByteSliceToString(u.Nodename[:])}
	}()
	r := <-ch
	return r.name, r.err
}
