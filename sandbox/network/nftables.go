package network

import (
	"fmt"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
)

// nftTimeout bounds every nftables request. A kernel without nf_tables,
// or with its module missing, must make glassbox fall back or say why,
// not wait.
const nftTimeout = 5 * time.Second

// nftConn opens nftables with a deadline on each netlink socket it dials.
func nftConn() (*nftables.Conn, error) {
	return nftables.New(nftables.WithSockOptions(func(c *netlink.Conn) error {
		return c.SetDeadline(time.Now().Add(nftTimeout))
	}))
}

var nftProbe struct {
	once sync.Once
	err  error
}

// NftablesError says why nftables does not work on this host, or nil when
// it does: the kernel has no nf_tables (some minimal VMs, containers in
// containers), or this process may not use it. Asked once per process.
// Without it, published ports go through the supervisor's proxy only,
// nothing of glassbox's can be in nftables to remove, and whether the
// host's firewall drops sandbox traffic cannot be measured.
func NftablesError() error {
	nftProbe.once.Do(func() {
		c, err := nftConn()
		if err == nil {
			_, err = c.ListTablesOfFamily(nftables.TableFamilyIPv4)
		}
		if err != nil {
			nftProbe.err = fmt.Errorf("nftables unavailable: %w", err)
		}
	})
	return nftProbe.err
}

func nftablesWorks() bool { return NftablesError() == nil }
