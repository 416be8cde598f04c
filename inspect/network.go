//go:build linux

package inspect

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// The network view has two sources:
//
//   - /proc/PID/net/dev: every interface of the process's network namespace
//     with its byte counters. /proc/PID/net/* shows the netns of PID, not of
//     the reader, so no namespace has to be entered; the file is held open.
//   - netlink (RTM_GETLINK, RTM_GETADDR) on a socket created inside that
//     netns, for what /proc does not show: flags (up), MAC and addresses.
//     Creating the socket enters the netns on one locked thread for the
//     duration of socket(2) (vishvananda/netlink's NewHandleAt) and changes
//     nothing in it; the socket is kept, so later refreshes only ask.
//     It needs CAP_SYS_ADMIN over the netns; without it, the interfaces
//     come from net/dev alone and Errors says why addresses are missing.

type devCounters struct {
	Name    string
	RxBytes int64
	TxBytes int64
}

// parseNetDev reads /proc/net/dev: two header lines, then
// "  eth0: rxbytes rxpackets … (8 receive fields) txbytes …".
func parseNetDev(b []byte, prev []devCounters) ([]devCounters, error) {
	out := make([]devCounters, 0, len(prev))
	_, b = nextLine(b)
	_, b = nextLine(b)
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		name := bytes.TrimSpace(line[:i])
		var d devCounters
		for _, p := range prev {
			if p.Name == string(name) {
				d.Name = p.Name
			}
		}
		if d.Name == "" {
			d.Name = string(name)
		}
		n := 0
		for f := range bytes.FieldsSeq(line[i+1:]) {
			switch n {
			case 0:
				d.RxBytes, _ = parseInt(f)
			case 8:
				d.TxBytes, _ = parseInt(f)
			}
			n++
		}
		if n < 16 {
			return nil, fmt.Errorf("net/dev line %q: %w", line, errSyntax)
		}
		out = append(out, d)
	}
	return out, nil
}

// netReader holds what the network view keeps open for one process.
type netReader struct {
	dev     *heldFile
	nsPath  string
	handle  *netlink.Handle
	devPrev []devCounters

	// links is the last netlink answer (counters not filled), re-asked
	// when the interface names in net/dev change or every slowRefresh.
	links   []Interface
	linksAt time.Time
	linkSig string
}

func openNet(fs FS, pid int) (*netReader, []string) {
	r := &netReader{nsPath: fs.procPath(pid, "ns", "net")}
	var errs []string
	f, err := openHeld(fs.procPath(pid, "net", "dev"))
	if err != nil {
		errs = append(errs, err.Error())
	}
	r.dev = f
	if fs.live {
		ns, err := netns.GetFromPath(r.nsPath)
		if err != nil {
			errs = append(errs, fmt.Sprintf("open netns %s: %v (addresses not shown)", r.nsPath, err))
			return r, errs
		}
		h, err := netlink.NewHandleAt(ns)
		ns.Close()
		if err != nil {
			errs = append(errs, fmt.Sprintf("netlink in netns %s: %v (addresses not shown)", r.nsPath, err))
			return r, errs
		}
		r.handle = h
	}
	return r, errs
}

func (r *netReader) close() {
	r.dev.close()
	if r.handle != nil {
		r.handle.Close()
	}
}

func (r *netReader) read(c *collector, n *Network, now time.Time) {
	if r.dev != nil {
		n.Source = r.dev.path
		if b := c.read(r.dev); b != nil {
			devs, err := parseNetDev(b, r.devPrev)
			if err != nil {
				c.add(&pathError{op: "parse", path: r.dev.path, err: err})
			} else {
				r.devPrev = devs
			}
		}
	}
	if r.handle == nil {
		n.Interfaces = make([]Interface, 0, len(r.devPrev))
		for _, d := range r.devPrev {
			n.Interfaces = append(n.Interfaces, Interface{Name: d.Name, RxBytes: d.RxBytes, TxBytes: d.TxBytes})
		}
		return
	}
	n.AddrSource = "netlink RTM_GETLINK/RTM_GETADDR in " + r.nsPath
	if sig := r.signature(); r.links == nil || sig != r.linkSig || now.Sub(r.linksAt) >= slowRefresh {
		links, err := r.ask()
		if err != nil {
			c.add(err)
			return
		}
		r.links, r.linkSig, r.linksAt = links, sig, now
	}
	n.Interfaces = make([]Interface, len(r.links))
	copy(n.Interfaces, r.links)
	for i := range n.Interfaces {
		for _, d := range r.devPrev {
			if d.Name == n.Interfaces[i].Name {
				n.Interfaces[i].RxBytes, n.Interfaces[i].TxBytes = d.RxBytes, d.TxBytes
			}
		}
	}
}

// signature is the interface names net/dev lists, to notice a link added,
// removed or renamed without asking netlink.
func (r *netReader) signature() string {
	n := 0
	for _, d := range r.devPrev {
		n += len(d.Name) + 1
	}
	b := make([]byte, 0, n)
	for _, d := range r.devPrev {
		b = append(b, d.Name...)
		b = append(b, 0)
	}
	return string(b)
}

func (r *netReader) ask() ([]Interface, error) {
	links, err := r.handle.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", r.nsPath, err)
	}
	addrs, err := r.handle.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses in %s: %w", r.nsPath, err)
	}
	out := make([]Interface, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		it := Interface{Name: a.Name, Index: a.Index, Up: a.Flags&net.FlagUp != 0}
		if len(a.HardwareAddr) > 0 {
			it.MAC = a.HardwareAddr.String()
		}
		for _, ad := range addrs {
			if ad.LinkIndex == a.Index && ad.IPNet != nil {
				it.Addrs = append(it.Addrs, ad.IPNet.String())
			}
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}
