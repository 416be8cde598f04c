//go:build linux

package inspect

import (
	"bytes"
	"fmt"
	"time"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The network view has two sources:
//
//   - /proc/PID/net/dev: every interface of the process's network namespace
//     with its byte counters. /proc/PID/net/* shows the netns of PID, not of
//     the reader, so no namespace has to be entered; the file is held open.
//   - netlink (RTM_GETLINK, RTM_GETADDR) on a socket created inside that
//     netns, for what /proc does not show: flags (up), MAC and addresses.
//     Creating the socket enters the netns on one locked thread for the
//     duration of socket(2) (vishvananda/netlink's GetNetlinkSocketAt) and
//     changes nothing in it; the socket is kept, so later refreshes only
//     ask (rtnetlink.go). It needs CAP_SYS_ADMIN over the netns; without
//     it, the interfaces come from net/dev alone and Errors says why
//     addresses are missing.

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
	sock    *nl.NetlinkSocket
	rt      *rtnl
	devPrev []devCounters

	// links is the last netlink answer (counters not filled), asked again
	// when the kernel has announced a change of a link or an address
	// (rtnl.changed), or the interface names in net/dev changed
	// (linkNames are those it was asked for). Without the announcements
	// (joining their groups failed) it is asked every slowRefresh.
	links     []Interface
	linksAt   time.Time
	linkNames []string
}

func openNet(fs FS, pid int) (*netReader, []string) {
	r := &netReader{nsPath: fs.procPath(pid, "ns", "net")}
	var errs []string
	f, err := openHeld(fs.procPath(pid, "net", "dev"))
	if err != nil {
		errs = append(errs, err.Error())
	}
	f.setShortRecords()
	r.dev = f
	if fs.live {
		ns, err := netns.GetFromPath(r.nsPath)
		if err != nil {
			errs = append(errs, fmt.Sprintf("open netns %s: %v (addresses not shown)", r.nsPath, err))
			return r, errs
		}
		sock, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
		ns.Close()
		if err == nil {
			// Blocking reads, bounded: the kernel answers a dump at once.
			err = unix.SetNonblock(sock.GetFd(), false)
			if err == nil {
				err = unix.SetsockoptTimeval(sock.GetFd(), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1})
			}
			if err != nil {
				sock.Close()
			}
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("netlink in netns %s: %v (addresses not shown)", r.nsPath, err))
			return r, errs
		}
		r.sock, r.rt = sock, newRTNL(sock.GetFd())
	}
	return r, errs
}

func (r *netReader) close() {
	r.dev.close()
	if r.sock != nil {
		r.sock.Close()
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
	if r.rt == nil {
		n.Interfaces = make([]Interface, 0, len(r.devPrev))
		for _, d := range r.devPrev {
			n.Interfaces = append(n.Interfaces, Interface{Name: d.Name, RxBytes: d.RxBytes, TxBytes: d.TxBytes})
		}
		return
	}
	n.AddrSource = "netlink RTM_GETLINK/RTM_GETADDR in " + r.nsPath
	if r.links == nil || r.namesChanged() || r.stale(now) {
		links, err := r.rt.interfaces()
		if err != nil {
			c.add(fmt.Errorf("netlink in %s: %w", r.nsPath, err))
			return
		}
		r.links, r.linksAt = links, now
		r.linkNames = r.linkNames[:0]
		for _, d := range r.devPrev {
			r.linkNames = append(r.linkNames, d.Name)
		}
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

// stale says whether the links must be asked again: the kernel has
// announced a change, or (without announcements) slowRefresh has passed.
func (r *netReader) stale(now time.Time) bool {
	if r.rt.notified {
		return r.rt.changed()
	}
	return now.Sub(r.linksAt) >= slowRefresh
}

// namesChanged says whether net/dev lists other interfaces than when
// netlink was last asked: a link added, removed or renamed.
func (r *netReader) namesChanged() bool {
	if len(r.devPrev) != len(r.linkNames) {
		return true
	}
	for i, d := range r.devPrev {
		if d.Name != r.linkNames[i] {
			return true
		}
	}
	return false
}
