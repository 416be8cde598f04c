//go:build linux

package inspect

import (
	"cmp"
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// nft reads nftables' rules and chains (family ip) over nfnetlink, for
// the firewall view. It asks the kernel for one chain's rules at a time
// and keeps, of each rule, the little readFirewall looks at.
type nft struct {
	c     nlConn
	attrs []byte
	cmps  [][]byte
	// reqs and batch are the requests and their attributes of the last
	// askAll (rulesByHandle).
	reqs  []nlReq
	batch []byte
}

// nftRule is what readFirewall reads of a rule: its comment (nft's
// userdata), the packets its counter counted, the chain it jumps to, and
// the values it compares with. The slices point into the answer's buffer.
type nftRule struct {
	comment []byte
	packets uint64
	jump    []byte
	cmps    [][]byte
	// handle is the rule's number in its table: given once, never reused
	// while the table lives.
	handle uint64
}

func openNFT() (*nft, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, err
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &nft{c: newNLConn(fd, 8<<10), attrs: make([]byte, 0, 64), cmps: make([][]byte, 0, 8)}, nil
}

func (n *nft) close() { unix.Close(n.c.fd) }

// nfgen is struct nfgenmsg for family ip, nfnetlink version 0.
var nfgen = [4]byte{unix.NFPROTO_IPV4, unix.NFNETLINK_V0}

// rules calls each with every rule of table's chain.
func (n *nft) rules(table, chain string, each func(nftRule)) error {
	n.attrs = appendStringAttr(n.attrs[:0], unix.NFTA_RULE_TABLE, table)
	n.attrs = appendStringAttr(n.attrs, unix.NFTA_RULE_CHAIN, chain)
	r := nftRule{cmps: n.cmps}
	return n.c.dump(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_GETRULE, nfgen[:], n.attrs, func(_ uint16, msg []byte) {
		// A kernel that ignores the dump's filter answers with every rule.
		if r.parse(msg, table, chain) {
			each(r)
		}
	})
}

// parse reads a rule message into r; false when it is not one of table's
// chain.
func (r *nftRule) parse(msg []byte, table, chain string) bool {
	if len(msg) < len(nfgen) {
		return false
	}
	*r = nftRule{cmps: r.cmps[:0]}
	var tbl, ch []byte
	attrs(msg[len(nfgen):], func(typ uint16, v []byte) {
		switch typ {
		case unix.NFTA_RULE_TABLE:
			tbl = cString(v)
		case unix.NFTA_RULE_CHAIN:
			ch = cString(v)
		case unix.NFTA_RULE_HANDLE:
			if len(v) == 8 {
				r.handle = binary.BigEndian.Uint64(v)
			}
		case unix.NFTA_RULE_USERDATA:
			r.comment = udataComment(v)
		case unix.NFTA_RULE_EXPRESSIONS:
			attrs(v, func(typ uint16, elem []byte) {
				if typ == unix.NFTA_LIST_ELEM {
					r.expr(elem)
				}
			})
		}
	})
	return string(tbl) == table && string(ch) == chain
}

// ruleRef names one rule: its chain and handle.
type ruleRef struct {
	chain  string
	handle uint64
}

// rulesByHandle asks for the rules refs name (all of table) and then for
// the ruleset's generation, in one write; each gets every rule found, with
// its index in refs. gen is the generation after the rules were read. A
// rule that is gone is an error (ENOENT).
func (n *nft) rulesByHandle(table string, refs []ruleRef, each func(i int, r nftRule)) (gen uint32, err error) {
	// Every request's attributes go into one buffer first (it may move as
	// it grows), then each request points at its part.
	n.batch = n.batch[:0]
	for _, ref := range refs {
		n.batch = appendStringAttr(n.batch, unix.NFTA_RULE_TABLE, table)
		n.batch = appendStringAttr(n.batch, unix.NFTA_RULE_CHAIN, ref.chain)
		n.batch = appendUint64Attr(n.batch, unix.NFTA_RULE_HANDLE, ref.handle)
	}
	n.reqs = n.reqs[:0]
	off := 0
	for _, ref := range refs {
		l := attrSize(table) + attrSize(ref.chain) + unix.SizeofRtAttr + 8
		n.reqs = append(n.reqs, nlReq{typ: unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE, hdr: nfgen[:], attrs: n.batch[off : off+l : off+l]})
		off += l
	}
	n.reqs = append(n.reqs, nlReq{typ: unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN, hdr: genHdr[:]})
	r := nftRule{cmps: n.cmps}
	genFound := false
	var answerErr error
	err = n.c.askAll(n.reqs, func(i int, e error, _ uint16, msg []byte) {
		switch {
		case e != nil:
			answerErr = cmp.Or(answerErr, e)
		case i == len(refs):
			gen, genFound = parseGen(msg)
		case r.parse(msg, table, refs[i].chain) && r.handle == refs[i].handle:
			each(i, r)
		default:
			answerErr = cmp.Or(answerErr, errors.New("nftables: an answer for another rule"))
		}
	})
	err = cmp.Or(err, answerErr)
	if err == nil && !genFound {
		err = errors.New("nftables: no generation in the answer")
	}
	return gen, err
}

// attrSize is the size appendStringAttr gives s.
func attrSize(s string) int { return nlmAlign(unix.SizeofRtAttr + len(s) + 1) }

// appendUint64Attr appends one attribute, a big-endian 64-bit number.
func appendUint64Attr(b []byte, typ uint16, v uint64) []byte {
	b = binary.NativeEndian.AppendUint16(b, unix.SizeofRtAttr+8)
	b = binary.NativeEndian.AppendUint16(b, typ)
	return binary.BigEndian.AppendUint64(b, v)
}

// expr reads one expression: a counter, a verdict, or a comparison.
func (r *nftRule) expr(b []byte) {
	var name, data []byte
	attrs(b, func(typ uint16, v []byte) {
		switch typ {
		case unix.NFTA_EXPR_NAME:
			name = cString(v)
		case unix.NFTA_EXPR_DATA:
			data = v
		}
	})
	switch string(name) {
	case "counter":
		attrs(data, func(typ uint16, v []byte) {
			if typ == unix.NFTA_COUNTER_PACKETS && len(v) == 8 {
				r.packets += binary.BigEndian.Uint64(v)
			}
		})
	case "immediate":
		attrs(data, func(typ uint16, v []byte) {
			if typ != unix.NFTA_IMMEDIATE_DATA {
				return
			}
			attrs(v, func(typ uint16, v []byte) {
				if typ != unix.NFTA_DATA_VERDICT {
					return
				}
				var code int32
				var chain []byte
				attrs(v, func(typ uint16, v []byte) {
					switch {
					case typ == unix.NFTA_VERDICT_CODE && len(v) == 4:
						code = int32(binary.BigEndian.Uint32(v))
					case typ == unix.NFTA_VERDICT_CHAIN:
						chain = cString(v)
					}
				})
				if code == unix.NFT_JUMP {
					r.jump = chain
				}
			})
		})
	case "cmp":
		attrs(data, func(typ uint16, v []byte) {
			if typ != unix.NFTA_CMP_DATA {
				return
			}
			attrs(v, func(typ uint16, v []byte) {
				if typ == unix.NFTA_DATA_VALUE {
					r.cmps = append(r.cmps, v)
				}
			})
		})
	}
}

// udataComment is the comment in a rule's userdata: libnftnl's TLVs of a
// type byte and a length byte, the comment's type 0, NUL-terminated.
func udataComment(b []byte) []byte {
	for len(b) >= 2 {
		t, l := b[0], int(b[1])
		if 2+l > len(b) {
			return nil
		}
		if t == 0 {
			return cString(b[2 : 2+l])
		}
		b = b[2+l:]
	}
	return nil
}

// chains calls each with the name and policy of every chain of table (a
// base chain has a policy; hasPolicy is false for the others).
func (n *nft) chains(table string, each func(name []byte, policy int32, hasPolicy bool)) error {
	n.attrs = appendStringAttr(n.attrs[:0], unix.NFTA_CHAIN_TABLE, table)
	return n.c.dump(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_GETCHAIN, nfgen[:], n.attrs, func(_ uint16, msg []byte) {
		if len(msg) < len(nfgen) {
			return
		}
		var name, tbl []byte
		var policy int32
		has := false
		attrs(msg[len(nfgen):], func(typ uint16, v []byte) {
			switch {
			case typ == unix.NFTA_CHAIN_TABLE:
				tbl = cString(v)
			case typ == unix.NFTA_CHAIN_NAME:
				name = cString(v)
			case typ == unix.NFTA_CHAIN_POLICY && len(v) == 4:
				policy, has = int32(binary.BigEndian.Uint32(v)), true
			}
		})
		// A kernel that ignores the table filter lists every table's chains.
		if string(tbl) == table {
			each(name, policy, has)
		}
	})
}

// generation is the ruleset's generation: nftables counts every commit of
// a change to any table, iptables-nft's included, so while it stays the
// same every chain and rule does (their counters aside).
func (n *nft) generation() (uint32, error) {
	var gen uint32
	found := false
	err := n.c.get(unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_GETGEN, genHdr[:], nil, func(_ uint16, msg []byte) {
		gen, found = parseGen(msg)
	})
	if err == nil && !found {
		err = errors.New("nftables: no generation in the answer")
	}
	return gen, err
}

// genHdr is the nfgenmsg of a generation request (any family).
var genHdr = [4]byte{unix.AF_UNSPEC, unix.NFNETLINK_V0}

// parseGen reads the generation from a NEWGEN message.
func parseGen(msg []byte) (gen uint32, found bool) {
	if len(msg) < len(nfgen) {
		return 0, false
	}
	attrs(msg[len(nfgen):], func(typ uint16, v []byte) {
		if typ == unix.NFTA_GEN_ID && len(v) == 4 {
			gen, found = binary.BigEndian.Uint32(v), true
		}
	})
	return gen, found
}

// nfDrop is the kernel's NF_DROP verdict, a base chain's drop policy.
const nfDrop = 0
