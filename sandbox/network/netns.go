package network

import (
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
)

// DialInNetns connects over TCP to addr (host:port, an IP, no name lookup) from
// inside the network namespace of process pid, and returns the connection
// to use from anywhere: a socket belongs to the namespace it was created
// in, whichever thread uses it later. It reaches a sandbox whose network
// is "none", or its loopback.
func DialInNetns(pid int, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(pid, func() (err error) {
		c, err = net.Dial("tcp", addr)
		return err
	})
	if err != nil {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("dial %s in the network namespace of pid %d: %w", addr, pid, err)
	}
	return c, nil
}

// ListenInNetns listens for TCP on addr inside the network namespace of process pid.
func ListenInNetns(pid int, addr string) (net.Listener, error) {
	var l net.Listener
	err := inNetns(pid, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		if l != nil {
			l.Close()
		}
		return nil, fmt.Errorf("listen on %s in the network namespace of pid %d: %w", addr, pid, err)
	}
	return l, nil
}

// inNetns runs f on a thread switched into pid's network namespace.
// setns(2) changes only the calling thread, so the goroutine is locked to
// its thread for the duration; if the switch back fails, the thread stays
// locked and Go ends it with the goroutine instead of reusing a thread in
// the wrong namespace.
func inNetns(pid int, f func() error) error {
	target, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("open network namespace: %w", err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- fmt.Errorf("open this thread's network namespace: %w", err)
			return // the thread dies locked
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("leave network namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
