//go:build linux

package inspect

import (
	"encoding/binary"
	"errors"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nlConn asks the kernel for dumps on a netlink socket (rtnetlink for the
// links and addresses, nfnetlink for the firewall's rules) and hands each
// answer to the caller where it lies in one buffer, kept across requests.
type nlConn struct {
	fd  int
	seq uint32
	buf []byte
	req []byte
	// msgs and iovs receive a batch's answers (askAll).
	msgs []mmsghdr
	iovs []unix.Iovec
	// stray is set when a dump met a message that answers no request of
	// its own: a notification of a multicast group the socket joined (see
	// rtnl.changed), read and set aside while the dump was waited for.
	stray bool
}

// newNLConn asks on fd with a buffer of size bytes. The kernel fills a
// dump's datagrams up to the largest buffer the socket's reader has
// offered so far (at most 32 KiB), and up to a page (at most 8 KiB) before
// the first read: a buffer of 8 KiB or more holds every datagram.
func newNLConn(fd, size int) nlConn { return nlConn{fd: fd, buf: make([]byte, size)} }

var errTruncated = errors.New("netlink: truncated message")

// dump sends a dump request of type typ — the family header hdr, then the
// attributes attrs (already encoded) — and calls each with every answer's
// type and payload until the kernel says it is done.
func (c *nlConn) dump(typ uint16, hdr, attrs []byte, each func(typ uint16, msg []byte)) error {
	return c.ask(typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, hdr, attrs, each)
}

// ask sends a request with flags and reads its answers: until the kernel
// says it is done (a dump), or the one answer to a request that is not.
func (c *nlConn) ask(typ, flags uint16, hdr, attrs []byte, each func(typ uint16, msg []byte)) error {
	c.seq++
	n := unix.SizeofNlMsghdr + nlmAlign(len(hdr)) + len(attrs)
	req := slices.Grow(c.req[:0], n)[:n]
	clear(req)
	binary.NativeEndian.PutUint32(req[0:], uint32(n))
	binary.NativeEndian.PutUint16(req[4:], typ)
	binary.NativeEndian.PutUint16(req[6:], flags)
	binary.NativeEndian.PutUint32(req[8:], c.seq)
	copy(req[unix.SizeofNlMsghdr:], hdr)
	copy(req[unix.SizeofNlMsghdr+nlmAlign(len(hdr)):], attrs)
	c.req = req
	// An unconnected netlink socket writes to the kernel.
	if _, err := unix.Write(c.fd, req); err != nil {
		return err
	}
	for {
		m, err := unix.Read(c.fd, c.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b := c.buf[:m]
		for len(b) >= unix.SizeofNlMsghdr {
			t, seq, msg, rest, err := nextMsg(b)
			if err != nil {
				return err
			}
			b = rest
			if seq != c.seq {
				// An answer to an earlier, abandoned request, or a
				// notification (sequence number 0).
				c.stray = c.stray || seq == 0
				continue
			}
			switch t {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(msg) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(msg)); e != 0 {
						return unix.Errno(-e)
					}
				}
				return nil
			}
			each(t, msg)
			if flags&unix.NLM_F_DUMP == 0 {
				return nil
			}
		}
	}
}

// nlReq is one request of a batch (askAll): its type, family header and
// encoded attributes.
type nlReq struct {
	typ        uint16
	hdr, attrs []byte
}

// askAll sends requests that are not dumps in one write, and reads their
// answers, one message each (an answer or an error), calling each with the
// request's index; an error of the kernel's is passed as err, not
// returned. The kernel handles the requests of one write in order, each to
// its end, before the write returns.
func (c *nlConn) askAll(reqs []nlReq, each func(i int, err error, typ uint16, msg []byte)) error {
	first := c.seq + 1
	req := c.req[:0]
	for _, r := range reqs {
		c.seq++
		n := unix.SizeofNlMsghdr + nlmAlign(len(r.hdr)) + len(r.attrs)
		at := len(req)
		req = slices.Grow(req, nlmAlign(n))[:at+nlmAlign(n)]
		m := req[at:]
		clear(m)
		binary.NativeEndian.PutUint32(m[0:], uint32(n))
		binary.NativeEndian.PutUint16(m[4:], r.typ)
		binary.NativeEndian.PutUint16(m[6:], unix.NLM_F_REQUEST)
		binary.NativeEndian.PutUint32(m[8:], c.seq)
		copy(m[unix.SizeofNlMsghdr:], r.hdr)
		copy(m[unix.SizeofNlMsghdr+nlmAlign(len(r.hdr)):], r.attrs)
	}
	c.req = req
	if _, err := unix.Write(c.fd, req); err != nil {
		return err
	}
	for left := len(reqs); left > 0; {
		// The answers are queued by the time the write returns, each in a
		// datagram of its own: one recvmmsg(2) takes them all.
		got, err := c.recvAll(left)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for k := range got {
			if err := c.answers(c.slot(k)[:c.msgs[k].n], first, len(reqs), &left, each); err != nil {
				return err
			}
		}
	}
	return nil
}

// mmsghdr is struct mmsghdr: a message header and the length received.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// batchSlot is the room each answer of a batch has in buf: a page, as
// the kernel allots an answer that is not a dump.
const batchSlot = 8 << 10

func (c *nlConn) slot(k int) []byte { return c.buf[k*batchSlot : (k+1)*batchSlot] }

// recvAll receives up to n datagrams, waiting for the first only.
func (c *nlConn) recvAll(n int) (int, error) {
	if len(c.buf) < n*batchSlot {
		c.buf = make([]byte, n*batchSlot)
	}
	if len(c.msgs) < n {
		c.msgs = make([]mmsghdr, n)
		c.iovs = make([]unix.Iovec, n)
	}
	for k := range n {
		c.iovs[k] = unix.Iovec{Base: &c.slot(k)[0]}
		c.iovs[k].SetLen(batchSlot)
		c.msgs[k] = mmsghdr{}
		c.msgs[k].hdr.Iov = &c.iovs[k]
		c.msgs[k].hdr.SetIovlen(1)
	}
	got, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&c.msgs[0])), uintptr(n), unix.MSG_WAITFORONE, 0, 0)
	if e != 0 {
		return 0, e
	}
	for k := range int(got) {
		if c.msgs[k].hdr.Flags&unix.MSG_TRUNC != 0 {
			return 0, errTruncated
		}
	}
	return int(got), nil
}

// answers hands the answers in one datagram b to askAll's each, counting
// them off left.
func (c *nlConn) answers(b []byte, first uint32, n int, left *int, each func(i int, err error, typ uint16, msg []byte)) error {
	for len(b) >= unix.SizeofNlMsghdr {
		t, seq, msg, rest, err := nextMsg(b)
		if err != nil {
			return err
		}
		b = rest
		i := seq - first // wraps with the sequence numbers
		if i >= uint32(n) {
			c.stray = c.stray || seq == 0
			continue
		}
		*left--
		if t == unix.NLMSG_ERROR {
			var err error
			if len(msg) < 4 {
				err = errTruncated
			} else if e := int32(binary.NativeEndian.Uint32(msg)); e != 0 {
				err = unix.Errno(-e)
			}
			each(int(i), err, t, nil)
			continue
		}
		each(int(i), nil, t, msg)
	}
	return nil
}

// get sends a request of type typ that is not a dump, and calls each with
// the answer's type and payload: one message, or an error.
func (c *nlConn) get(typ uint16, hdr, attrs []byte, each func(typ uint16, msg []byte)) error {
	return c.ask(typ, unix.NLM_F_REQUEST, hdr, attrs, each)
}

// nextMsg splits the first netlink message off b (at least a header
// long): its type, sequence number and payload, and what follows it.
func nextMsg(b []byte) (typ uint16, seq uint32, msg, rest []byte, err error) {
	l := int(binary.NativeEndian.Uint32(b[0:]))
	if l < unix.SizeofNlMsghdr || l > len(b) {
		return 0, 0, nil, nil, errTruncated
	}
	typ = binary.NativeEndian.Uint16(b[4:])
	seq = binary.NativeEndian.Uint32(b[8:])
	return typ, seq, b[unix.SizeofNlMsghdr:l], b[min(len(b), nlmAlign(l)):], nil
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// attrs calls f with each attribute's type (without the nested and
// byte-order flags) and value.
func attrs(b []byte, f func(typ uint16, v []byte)) {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		if l < unix.SizeofRtAttr || l > len(b) {
			return
		}
		f(binary.NativeEndian.Uint16(b[2:])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER), b[unix.SizeofRtAttr:l])
		b = b[min(len(b), nlmAlign(l)):]
	}
}

// appendAttr appends one attribute, a NUL-terminated string.
func appendStringAttr(b []byte, typ uint16, s string) []byte {
	l := unix.SizeofRtAttr + len(s) + 1
	b = binary.NativeEndian.AppendUint16(b, uint16(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, s...)
	b = append(b, 0)
	for len(b)%unix.NLMSG_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// cString is v without its terminating NUL.
func cString(v []byte) []byte {
	if i := slices.Index(v, 0); i >= 0 {
		return v[:i]
	}
	return v
}
