//go:build linux

package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// heldFile is a kernel file kept open across refreshes and re-read with
// pread(2) at offset 0. Opening is most of the cost of reading a cgroup or
// /proc file (path walk, permission checks, a new struct file); seq_file
// and kernfs files regenerate their content on a read at offset 0, so a held
// descriptor gives fresh figures each time for a fraction of the price.
type heldFile struct {
	path string
	fd   int
	// records: the file is a sequence of records (net/dev, mountinfo,
	// cgroup.procs), which seq_file may hand over a page or so at a time
	// however large the buffer; it is read until a read returns nothing.
	// Every other file inspect holds is one record — a single value, or a
	// stat or status file the kernel formats in one go — which one read
	// into a buffer large enough returns whole.
	records bool
	// shortRecords: each record is far shorter than a page (a PID in
	// cgroup.procs, an interface's counters in net/dev), so a read that
	// returns little is the whole file (see read).
	shortRecords bool
	// freshOpen: the file is opened anew for every read (see
	// setFreshOpen); fd is then unused and stays -1 between reads.
	freshOpen bool
	// dir holds the file's directory open (O_PATH) for a fresh open by
	// its name alone, NUL-terminated in name (-1: opened by path).
	dir  int
	name []byte
}

func openHeld(path string) (*heldFile, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &pathError{op: "open", path: path, err: err}
	}
	return &heldFile{path: path, fd: fd, dir: -1}, nil
}

// openRecords opens a file of many records (see heldFile.records).
func openRecords(path string) (*heldFile, error) {
	f, err := openHeld(path)
	if f != nil {
		f.records = true
	}
	return f, err
}

// setShortRecords marks f (which may be nil) as a file of many records,
// each shorter than shortRecordMax.
func (f *heldFile) setShortRecords() {
	if f != nil {
		f.records, f.shortRecords = true, true
	}
}

// setFreshOpen makes f (which may be nil) open its file anew for every
// read. A cgroup v1 cgroup.procs needs it: the kernel builds the PID list
// when a descriptor first reads it and hands the same list to every later
// read at offset 0 until the list is dropped, one second after its last
// reader stopped — so a descriptor re-read more often than once a second
// never sees a process that joined (an exec) or left. cgroup2's
// cgroup.procs walks the cgroup on every read and can be held.
//
// The file's directory is held instead, and the file opened in it by name:
// the walk from / to a cgroup's directory (a tmpfs, then kernfs, checking
// each component) was two fifths of the open. Like the held files, the
// directory stays the cgroup's: a removed cgroup fails to open, even if
// another of the same name replaced it.
func (f *heldFile) setFreshOpen() {
	if f != nil {
		f.freshOpen = true
		unix.Close(f.fd)
		f.fd = -1
		dir, err := unix.Open(filepath.Dir(f.path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			f.dir, f.name = dir, append([]byte(filepath.Base(f.path)), 0)
		}
	}
}

// openFresh opens a freshOpen file for one read.
func (f *heldFile) openFresh() (int, error) {
	if f.dir < 0 {
		return unix.Open(f.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(f.dir), uintptr(unsafe.Pointer(&f.name[0])),
			unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

// shortRecordMax bounds one record of a shortRecords file: a cgroup.procs
// line is at most 8 bytes, a net/dev line under 350.
const shortRecordMax = 512

// seqPage is the size of the buffer seq_file formats records into before it
// copies them out: one page, grown only when a single record does not fit.
var seqPage = os.Getpagesize()

// read fills buf from offset 0 and returns the bytes read. A file larger
// than buf is an error (the buffers are sized for the files inspect reads).
// A one-record file takes one pread: a short read is its end, and the
// second pread that would confirm it is half the cost of a refresh.
func (f *heldFile) read(buf []byte) ([]byte, error) {
	if f.freshOpen {
		fd, err := f.openFresh()
		if err != nil {
			return nil, &pathError{op: "open", path: f.path, err: err}
		}
		f.fd = fd
		defer func() { unix.Close(fd); f.fd = -1 }()
	}
	n := 0
	for {
		m, err := unix.Pread(f.fd, buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &pathError{op: "read", path: f.path, err: err}
		}
		if m == 0 {
			return buf[:n], nil
		}
		n += m
		if n == len(buf) {
			return nil, &pathError{op: "read", path: f.path, err: errTooBig}
		}
		if !f.records {
			return buf[:n], nil
		}
		// seq_file stops filling its page only when the next record does
		// not fit, or when there is none: if a short record would still
		// have fitted, there was none, and the read that would return 0
		// to confirm it can be spared.
		if f.shortRecords && n == m && n+shortRecordMax <= seqPage {
			return buf[:n], nil
		}
	}
}

func (f *heldFile) close() {
	if f == nil {
		return
	}
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
	if f.dir >= 0 {
		unix.Close(f.dir)
		f.dir = -1
	}
}

var errTooBig = errors.New("file larger than the read buffer")

// pathError is what went wrong with which file, worded for Snapshot.Errors.
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.path, e.err) }
func (e *pathError) Unwrap() error { return e.err }

// readWhole reads a file once into buf (open, read, close), for files read
// too rarely to be worth holding.
func readWhole(path string, buf []byte) ([]byte, error) {
	f, err := openHeld(path)
	if err != nil {
		return nil, err
	}
	defer f.close()
	return f.read(buf)
}
