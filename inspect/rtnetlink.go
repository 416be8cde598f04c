package inspect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"
)

// rtnl asks the kernel for a network namespace's links and addresses
// (RTM_GETLINK and RTM_GETADDR dumps) on a netlink socket made inside it,
// into one buffer kept across refreshes, and parses the answers where they
// lie. When nothing it shows has changed — the common case, every
// slowRefresh — the previous interfaces are returned as they are: a
// refresh then allocates nothing here. (vishvananda/netlink, which builds
// a Link and an Addr with all their attributes per answer, made this the
// costliest part of a refresh.)
type rtnl struct {
	fd   int
	seq  uint32
	buf  []byte
	last []Interface
	// scratch holds one dump's links, parsed as views into buf.
	scratch []rawLink
}

type rawLink struct {
	index int
	up    bool
	name  []byte
	mac   []byte
	addrs []netip.Prefix
}

// newRTNL asks on fd. A dump's datagram is at most the largest buffer a
// reader has offered (and 32 KiB at first): 64 KiB holds any.
func newRTNL(fd int) *rtnl { return &rtnl{fd: fd, buf: make([]byte, 64<<10)} }

// interfaces returns the namespace's interfaces, sorted by index, without
// their byte counters.
func (r *rtnl) interfaces() ([]Interface, error) {
	for i := range r.scratch {
		r.scratch[i].addrs = r.scratch[i].addrs[:0]
	}
	r.scratch = r.scratch[:0]
	if err := r.dump(unix.RTM_GETLINK, unix.SizeofIfInfomsg, r.link); err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	if err := r.dump(unix.RTM_GETADDR, unix.SizeofIfAddrmsg, r.addr); err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	slices.SortFunc(r.scratch, func(a, b rawLink) int { return a.index - b.index })
	if r.same() {
		return r.last, nil
	}
	out := make([]Interface, len(r.scratch))
	for i, l := range r.scratch {
		out[i] = Interface{Name: string(l.name), Index: l.index, Up: l.up}
		if len(l.mac) > 0 {
			out[i].MAC = net.HardwareAddr(l.mac).String()
		}
		for _, a := range l.addrs {
			out[i].Addrs = append(out[i].Addrs, a.String())
		}
	}
	r.last = out
	return out, nil
}

// same says whether the dump shows what the last answer did.
func (r *rtnl) same() bool {
	if r.last == nil || len(r.last) != len(r.scratch) {
		return false
	}
	for i, l := range r.scratch {
		p := r.last[i]
		if p.Index != l.index || p.Up != l.up || p.Name != string(l.name) || len(p.Addrs) != len(l.addrs) {
			return false
		}
		if (len(l.mac) > 0) != (p.MAC != "") || len(l.mac) > 0 && !sameMAC(p.MAC, l.mac) {
			return false
		}
		for j, a := range l.addrs {
			if !samePrefix(p.Addrs[j], a) {
				return false
			}
		}
	}
	return true
}

// sameMAC compares "aa:bb:…" with raw bytes without formatting them.
func sameMAC(s string, b []byte) bool {
	const hex = "0123456789abcdef"
	if len(s) != 3*len(b)-1 {
		return false
	}
	for i, c := range b {
		if s[3*i] != hex[c>>4] || s[3*i+1] != hex[c&0xf] {
			return false
		}
	}
	return true
}

// samePrefix compares a CIDR string with a prefix without formatting it.
func samePrefix(s string, p netip.Prefix) bool {
	q, err := netip.ParsePrefix(s)
	return err == nil && q == p
}

// dump sends a dump request of type typ with a zeroed header of hdrLen
// bytes and hands each answer's header and attributes to each.
func (r *rtnl) dump(typ uint16, hdrLen int, each func(hdr, attrs []byte)) error {
	r.seq++
	var req [unix.SizeofNlMsghdr + unix.SizeofIfInfomsg]byte
	n := unix.SizeofNlMsghdr + hdrLen
	binary.NativeEndian.PutUint32(req[0:], uint32(n))
	binary.NativeEndian.PutUint16(req[4:], typ)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], r.seq)
	// An unconnected netlink socket writes to the kernel.
	if _, err := unix.Write(r.fd, req[:n]); err != nil {
		return err
	}
	for {
		m, err := unix.Read(r.fd, r.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b := r.buf[:m]
		for len(b) >= unix.SizeofNlMsghdr {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			t := binary.NativeEndian.Uint16(b[4:])
			seq := binary.NativeEndian.Uint32(b[8:])
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return fmt.Errorf("netlink: truncated message")
			}
			msg := b[unix.SizeofNlMsghdr:l]
			b = b[nlmAlign(l):]
			if seq != r.seq {
				continue // an answer to an earlier, abandoned request
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
			if len(msg) >= hdrLen {
				each(msg[:hdrLen], msg[nlmAlign(hdrLen):])
			}
		}
	}
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// attrs calls f with each route attribute's type and value.
func attrs(b []byte, f func(typ uint16, v []byte)) {
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		if l < unix.SizeofRtAttr || l > len(b) {
			return
		}
		f(binary.NativeEndian.Uint16(b[2:])&^unix.NLA_F_NESTED, b[unix.SizeofRtAttr:l])
		b = b[min(len(b), nlmAlign(l)):]
	}
}

// link takes one RTM_NEWLINK answer: struct ifinfomsg, then attributes.
func (r *rtnl) link(hdr, as []byte) {
	l := rawLink{
		index: int(int32(binary.NativeEndian.Uint32(hdr[4:]))),
		up:    binary.NativeEndian.Uint32(hdr[8:])&unix.IFF_UP != 0,
	}
	attrs(as, func(typ uint16, v []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			if i := slices.Index(v, 0); i >= 0 {
				v = v[:i]
			}
			l.name = v
		case unix.IFLA_ADDRESS:
			l.mac = v
		}
	})
	// Keep the address slices of an earlier refresh.
	if i := len(r.scratch); i < cap(r.scratch) {
		l.addrs = r.scratch[:i+1][i].addrs[:0]
	}
	r.scratch = append(r.scratch, l)
}

// addr takes one RTM_NEWADDR answer: struct ifaddrmsg, then attributes.
// IPv4 names the interface's own address in IFA_LOCAL (IFA_ADDRESS is the
// peer's on a point-to-point link), IPv6 in IFA_ADDRESS.
func (r *rtnl) addr(hdr, as []byte) {
	bits := int(hdr[1])
	index := int(binary.NativeEndian.Uint32(hdr[4:]))
	var local, address []byte
	attrs(as, func(typ uint16, v []byte) {
		switch typ {
		case unix.IFA_LOCAL:
			local = v
		case unix.IFA_ADDRESS:
			address = v
		}
	})
	// As vishvananda/netlink (and iproute2) read it: a local address
	// that differs from IFA_ADDRESS, the peer's, has no prefix of its own.
	v := address
	if local != nil && (hdr[0] != unix.AF_INET || !bytes.Equal(local, address)) {
		v, bits = local, 8*len(local)
	}
	ip, ok := netip.AddrFromSlice(v)
	if !ok {
		return
	}
	for i := range r.scratch {
		if r.scratch[i].index == index {
			r.scratch[i].addrs = append(r.scratch[i].addrs, netip.PrefixFrom(ip, bits))
		}
	}
}
