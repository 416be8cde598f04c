//go:build linux

package inspect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"unsafe"

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
	c    nlConn
	last []Interface
	// scratch holds one dump's links, parsed as views into buf.
	scratch []rawLink
	// notified: the socket has joined the groups in which the kernel
	// announces every change of a link (RTM_NEWLINK/DELLINK: its name,
	// flags, address) and of an address (RTM_NEWADDR/DELADDR), so an
	// empty receive queue means nothing the dumps show has changed (see
	// changed). False when joining failed: then every check dumps.
	notified bool
}

// rtnlGroups are the multicast groups whose notifications say a dump
// would answer otherwise: links, IPv4 and IPv6 addresses.
var rtnlGroups = [...]int{unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR}

type rawLink struct {
	index int
	up    bool
	name  []byte
	mac   []byte
	addrs []netip.Prefix
}

// newRTNL asks on fd, a NETLINK_ROUTE socket, and joins rtnlGroups on it
// (no privilege needed: rtnetlink lets anyone listen).
func newRTNL(fd int) *rtnl {
	r := &rtnl{c: newNLConn(fd, 32<<10), notified: true}
	for _, g := range rtnlGroups {
		if unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, g) != nil {
			r.notified = false
		}
	}
	return r
}

// changed says whether the links or addresses may have changed since the
// last dump: a notification is waiting (read, without blocking, and
// dropped), one came in the middle of the last dump, the queue overflowed
// (ENOBUFS: notifications were lost), or the socket listens to none. A
// dump's answers and the notifications share the socket: the dump sets
// those aside (nlConn.stray) and the check here reads what came after.
// It costs one receive when nothing changed, where the dumps cost four
// system calls and the kernel formatting every link and address.
func (r *rtnl) changed() bool {
	// The queue is emptied first in every case, so that the dump that
	// follows a change meets only what came after it began.
	any := !r.notified || r.last == nil || r.c.stray
	for r.notified {
		n, err := recvNow(r.c.fd, r.c.buf)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil || n == 0 {
			return true // ENOBUFS: lost notifications; or a closed socket, which the dump reports
		}
		any = true
	}
	return any
}

// interfaces returns the namespace's interfaces, sorted by index, without
// their byte counters.
func (r *rtnl) interfaces() ([]Interface, error) {
	r.c.stray = false
	for i := range r.scratch {
		r.scratch[i].addrs = r.scratch[i].addrs[:0]
	}
	r.scratch = r.scratch[:0]
	var zero [unix.SizeofIfInfomsg]byte // the request's family header: any family, any link
	if err := r.c.dump(unix.RTM_GETLINK, zero[:unix.SizeofIfInfomsg], nil, func(_ uint16, msg []byte) {
		if len(msg) >= unix.SizeofIfInfomsg {
			r.link(msg[:unix.SizeofIfInfomsg], msg[nlmAlign(unix.SizeofIfInfomsg):])
		}
	}); err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	if err := r.c.dump(unix.RTM_GETADDR, zero[:unix.SizeofIfAddrmsg], nil, func(_ uint16, msg []byte) {
		if len(msg) >= unix.SizeofIfAddrmsg {
			r.addr(msg[:unix.SizeofIfAddrmsg], msg[nlmAlign(unix.SizeofIfAddrmsg):])
		}
	}); err != nil {
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

// link takes one RTM_NEWLINK answer: struct ifinfomsg, then attributes.
func (r *rtnl) link(hdr, as []byte) {
	l := rawLink{
		index: int(int32(binary.NativeEndian.Uint32(hdr[4:]))),
		up:    binary.NativeEndian.Uint32(hdr[8:])&unix.IFF_UP != 0,
	}
	// Keep the slices of an earlier refresh.
	if i := len(r.scratch); i < cap(r.scratch) {
		old := r.scratch[:i+1][i]
		l.addrs, l.name, l.mac = old.addrs[:0], old.name[:0], old.mac[:0]
	}
	// The name and the MAC are copied out: the next read of the dump (a
	// dump of many links spans datagrams) and the address dump after it
	// overwrite the buffer they lie in.
	attrs(as, func(typ uint16, v []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			l.name = append(l.name[:0], cString(v)...)
		case unix.IFLA_ADDRESS:
			l.mac = append(l.mac[:0], v...)
		}
	})
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

// recvNow is recv(2) without waiting, and without the sender's address
// (unix.Recvfrom allocates one on every call, a check that found nothing
// included).
func recvNow(fd int, buf []byte) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
