//go:build linux

package inspect

import (
	"encoding/binary"
	"errors"
	"slices"

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
			l := int(binary.NativeEndian.Uint32(b[0:]))
			t := binary.NativeEndian.Uint16(b[4:])
			seq := binary.NativeEndian.Uint32(b[8:])
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return errTruncated
			}
			msg := b[unix.SizeofNlMsghdr:l]
			b = b[min(len(b), nlmAlign(l)):]
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

// get sends a request of type typ that is not a dump, and calls each with
// the answer's type and payload: one message, or an error.
func (c *nlConn) get(typ uint16, hdr, attrs []byte, each func(typ uint16, msg []byte)) error {
	return c.ask(typ, unix.NLM_F_REQUEST, hdr, attrs, each)
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
