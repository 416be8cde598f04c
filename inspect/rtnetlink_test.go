//go:build linux

package inspect

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// A link's name and MAC outlive the buffer they were read from: the dump's
// next datagram, or the address dump after it, overwrites that buffer (a
// loopback named "\x00\x00" was seen on a 6.1 kernel). A refresh that sees
// the same links again reuses their storage: it allocates nothing.
func TestLinkOutlivesItsBuffer(t *testing.T) {
	hdr := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(hdr[4:], 1)
	binary.NativeEndian.PutUint32(hdr[8:], unix.IFF_UP)
	mac := []byte{0x02, 0x67, 0x62, 0x7b, 0, 2}
	linkAttrs := func() []byte {
		as := appendStringAttr(nil, unix.IFLA_IFNAME, "lo")
		as = binary.NativeEndian.AppendUint16(as, uint16(unix.SizeofRtAttr+len(mac)))
		as = binary.NativeEndian.AppendUint16(as, unix.IFLA_ADDRESS)
		as = append(as, mac...)
		return append(as, 0, 0)
	}
	r := &rtnl{}
	as := linkAttrs()
	r.link(hdr, as)
	clear(as)
	if l := r.scratch[0]; string(l.name) != "lo" || string(l.mac) != string(mac) || l.index != 1 || !l.up {
		t.Fatalf("after the buffer was reused: name %q mac %x index %d up %v", l.name, l.mac, l.index, l.up)
	}
	as = linkAttrs()
	allocs := testing.AllocsPerRun(10, func() {
		r.scratch = r.scratch[:0]
		r.link(hdr, as)
	})
	if allocs != 0 || string(r.scratch[0].name) != "lo" {
		t.Errorf("a refresh of the same link: %v allocations, name %q", allocs, r.scratch[0].name)
	}
}
