package network

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The matches below are what nft(8) compiles its words into: a value is
// loaded into register 1 (a field of the packet, or of its metadata) and
// compared. Offsets are those of the IPv4 and TCP headers.

const (
	ipv4SaddrOffset = 12
	ipv4DaddrOffset = 16
	tcpDportOffset  = 2
)

// matchIPv4 is "ip saddr|daddr PREFIX" (a single address is a /32).
func matchIPv4(offset uint32, p netip.Prefix) []expr.Any {
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4}
	addr := p.Masked().Addr().As4()
	if p.Bits() == 32 {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr[:]}}
	}
	m := prefixMask(p.Bits())
	return []expr.Any{
		load,
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: m[:], Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr[:]},
	}
}

func prefixMask(bits int) [4]byte {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	var m [4]byte
	binary.BigEndian.PutUint32(m[:], v)
	return m
}

// matchTCPDport is "tcp dport PORT".
func matchTCPDport(port int) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: tcpDportOffset, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(port)},
	}
}

// matchLocalDaddr is "fib daddr type local": the destination is one of
// this host's addresses, whichever interface carries it.
func matchLocalDaddr() []expr.Any {
	rtnLocal := make([]byte, 4)
	binary.NativeEndian.PutUint32(rtnLocal, unix.RTN_LOCAL)
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: rtnLocal},
	}
}

// matchLocalSaddr is "fib saddr type [!=] local": whether the source is
// one of this host's addresses.
func matchLocalSaddr(equal bool) []expr.Any {
	rtnLocal := make([]byte, 4)
	binary.NativeEndian.PutUint32(rtnLocal, unix.RTN_LOCAL)
	op := expr.CmpOpEq
	if !equal {
		op = expr.CmpOpNeq
	}
	return []expr.Any{
		&expr.Fib{Register: 1, FlagSADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: op, Register: 1, Data: rtnLocal},
	}
}

// matchDNATed is "ct status dnat": the connection's destination was
// rewritten (by a DNAT rule of any table).
func matchDNATed() []expr.Any {
	mask := make([]byte, 4)
	binary.NativeEndian.PutUint32(mask, ipsDstNAT)
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

// ipsDstNAT is IPS_DST_NAT of the kernel's enum ip_conntrack_status.
const ipsDstNAT = 1 << 5

// matchIfname is "iifname|oifname [!=] NAME".
func matchIfname(key expr.MetaKey, name string, equal bool) []expr.Any {
	op := expr.CmpOpEq
	if !equal {
		op = expr.CmpOpNeq
	}
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifname(name)},
	}
}

// ifname pads an interface name the way the kernel stores it: IFNAMSIZ
// bytes, NUL-filled.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// dnatTo is "dnat to ADDR:PORT".
func dnatTo(to netip.AddrPort) []expr.Any {
	a := to.Addr().As4()
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: a[:]},
		&expr.Immediate{Register: 2, Data: be16(int(to.Port()))},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

func be16(v int) []byte {
	b := make([]byte, 2)
	binary.BigEndian.PutUint16(b, uint16(v))
	return b
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
