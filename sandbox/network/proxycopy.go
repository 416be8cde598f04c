package network

import (
	"net"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The proxy's copy loop. A published port mostly carries small requests
// and answers (the calculator's are a few hundred bytes), and what costs
// there is the per-message overhead, not the copy. io.Copy between two TCP
// sockets splices through a pipe (two splices a message, each with the
// pipe's page bookkeeping), and each splice is a system call the Go
// runtime must expect to block: it hands the goroutine's P to another
// thread when the call lasts longer than its monitor's tick, and a send on
// a loopback or veth socket does the receiver's network work too, which
// often lasts that long (perf: the runtime's monitor, thread wake-ups and
// context switches were about a third of the supervisor's time).
//
// copyConn reads into a buffer and sends it on, with raw system calls on
// the non-blocking sockets: they never wait (EAGAIN instead), and the wait
// for readiness is the runtime poller's, as for any Go socket (RawConn).

const copyBuf = 32 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, copyBuf); return &b }}

// copyConn copies src to dst until src ends: nil at a clean end (FIN),
// else the error that stopped it (a reset, a Close, a failed send).
func copyConn(dst, src *net.TCPConn) error {
	rc, err := src.SyscallConn()
	if err != nil {
		return err
	}
	wc, err := dst.SyscallConn()
	if err != nil {
		return err
	}
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	buf := *bp
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, rerr = rawRead(fd, buf)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		b := buf[:n]
		var werr error
		err = wc.Write(func(fd uintptr) bool {
			for len(b) > 0 {
				m, err := rawSend(fd, b)
				if err == unix.EAGAIN {
					return false
				}
				if err != nil {
					werr = err
					return true
				}
				b = b[m:]
			}
			return true
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
	}
}

func rawRead(fd uintptr, b []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// rawSend sends without SIGPIPE: a peer that is gone is an EPIPE error.
func rawSend(fd uintptr, b []byte) (int, error) {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_NOSIGNAL, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}
