package network

import (
	"net"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The proxy's event loop: one goroutine waits on an epoll set of its own
// over every forwarded socket of the proxy and copies what is ready, a
// batch of sockets per wait. The goroutine-per-direction copy
// (proxycopy.go) pays, per message, a read that finds nothing (EAGAIN),
// a park, the runtime poller's wake-up and a trip through the scheduler
// (perf under .ci/bench-proxy: findRunnable and the context switches
// around it were a fifth of the supervisor's time); here a message costs
// one read and one send, and a busy proxy rarely waits in the kernel.
//
// The set is level-triggered: a socket is read once per wait and what is
// left is reported again, so no read is spent on finding the socket
// empty. Each direction copies at most one read at a time: a send that
// takes only part of it keeps the rest (pending) and stops reading the
// source until the destination is writable again, so a slow reader holds
// back its writer as the kernel's buffers would.

// end is one socket of a forwarded pair. Its fields belong to the loop's
// goroutine, except while it is being added (under loop.mu).
type end struct {
	fd      int
	peer    *end
	pending []byte // read from peer, not yet sent to fd
	rdEOF   bool   // fd's peer sent its FIN (read 0), passed on to peer
	events  uint32 // what the epoll set asks of fd (0: not in the set)
}

type loop struct {
	epfd int
	wake int // an eventfd: Close wakes the loop with it

	mu     sync.Mutex
	closed bool
	ends   map[int32]*end
	done   chan struct{}
	buf    []byte
	evs    []unix.EpollEvent
}

const loopBuf = 64 << 10

func newLoop() (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, err
	}
	l := &loop{epfd: epfd, wake: wake, ends: map[int32]*end{}, done: make(chan struct{}),
		buf: make([]byte, loopBuf), evs: make([]unix.EpollEvent, 64)}
	go l.run()
	return l, nil
}

// takeFD moves c's socket out of the Go runtime's hands: a duplicate the
// loop owns, c closed (which takes it out of the runtime's poller). The
// duplicate shares the socket and its non-blocking mode.
func takeFD(c *net.TCPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	c.Close()
	return nfd, nil
}

// add joins two sockets (from takeFD); the loop owns them from now on. It
// reports false, having closed them, once the loop is closed.
func (l *loop) add(a, b int) bool {
	ea, eb := &end{fd: a}, &end{fd: b}
	ea.peer, eb.peer = eb, ea
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		unix.Close(a)
		unix.Close(b)
		return false
	}
	l.ends[int32(a)], l.ends[int32(b)] = ea, eb
	if l.want(ea) != nil || l.want(eb) != nil {
		l.drop(ea)
		return false
	}
	return true
}

// close ends the loop: every socket it holds is closed.
func (l *loop) close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		var one = [8]byte{1}
		unix.Write(l.wake, one[:])
	}
	l.mu.Unlock()
	<-l.done
}

func (l *loop) run() {
	defer close(l.done)
	for {
		n := rawEpollWait(l.epfd, l.evs)
		if n == 0 {
			var err error
			n, err = unix.EpollWait(l.epfd, l.evs, -1)
			if err != nil {
				n = 0 // EINTR: the runtime's preemption signal
			}
		}
		l.mu.Lock()
		if l.closed {
			for _, e := range l.ends {
				unix.Close(e.fd)
			}
			l.ends = nil
			unix.Close(l.epfd)
			unix.Close(l.wake)
			l.mu.Unlock()
			return
		}
		for _, ev := range l.evs[:n] {
			if e := l.ends[ev.Fd]; e != nil {
				l.ready(e, ev.Events)
			}
		}
		l.mu.Unlock()
	}
}

// ready handles what the set reported for e's socket.
func (l *loop) ready(e *end, ev uint32) {
	if e.events&unix.EPOLLOUT != 0 && ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		if !l.flush(e) {
			return
		}
	}
	if e.events&unix.EPOLLIN != 0 && ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		l.copy(e)
		return
	}
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 && e.events == 0 {
		// Nothing asked of it, and it will not stop reporting: a reset
		// while its direction waited for the peer.
		l.drop(e)
	}
}

// copy reads what e's socket holds and sends it to its peer.
func (l *loop) copy(e *end) {
	n, err := rawRead(uintptr(e.fd), l.buf)
	if err == unix.EAGAIN {
		return
	}
	if err != nil {
		l.drop(e)
		return
	}
	p := e.peer
	if n == 0 {
		// A clean end: pass the half-close on (nothing is pending
		// towards the peer, or e would not be read).
		e.rdEOF = true
		if p.rdEOF {
			l.drop(e)
			return
		}
		unix.Shutdown(p.fd, unix.SHUT_WR)
		if l.want(e) != nil {
			l.drop(e)
		}
		return
	}
	b := l.buf[:n]
	for len(b) > 0 {
		m, err := rawSend(uintptr(p.fd), b)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			l.drop(e)
			return
		}
		b = b[m:]
	}
	if len(b) > 0 {
		p.pending = append(p.pending[:0], b...)
		if l.want(e) != nil || l.want(p) != nil {
			l.drop(e)
		}
	}
}

// flush sends what is pending towards e's socket; false if the pair is
// gone.
func (l *loop) flush(e *end) bool {
	for len(e.pending) > 0 {
		m, err := rawSend(uintptr(e.fd), e.pending)
		if err == unix.EAGAIN {
			return true
		}
		if err != nil {
			l.drop(e)
			return false
		}
		e.pending = e.pending[m:]
	}
	e.pending = nil
	if l.want(e) != nil || l.want(e.peer) != nil {
		l.drop(e)
		return false
	}
	return true
}

// want brings the set's interest in e's socket in line with its state:
// readable while its direction has nothing pending and no FIN came,
// writable while something waits to be sent to it.
func (l *loop) want(e *end) error {
	var ev uint32
	if !e.rdEOF && len(e.peer.pending) == 0 {
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if len(e.pending) > 0 {
		ev |= unix.EPOLLOUT
	}
	if ev == e.events {
		return nil
	}
	op := unix.EPOLL_CTL_MOD
	switch {
	case e.events == 0:
		op = unix.EPOLL_CTL_ADD
	case ev == 0:
		op = unix.EPOLL_CTL_DEL
	}
	e.events = ev
	return unix.EpollCtl(l.epfd, op, e.fd, &unix.EpollEvent{Events: ev, Fd: int32(e.fd)})
}

// drop closes both sockets of e's pair: an error, a reset, or both
// directions ended.
func (l *loop) drop(e *end) {
	for _, x := range []*end{e, e.peer} {
		if x.events != 0 {
			unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, x.fd, nil)
		}
		delete(l.ends, int32(x.fd))
		unix.Close(x.fd)
	}
}

// rawEpollWait polls without waiting and without the runtime's system
// call bookkeeping: on a busy proxy the next batch is usually there.
func rawEpollWait(epfd int, evs []unix.EpollEvent) int {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if e != 0 {
		return 0
	}
	return int(n)
}
