package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"glassbox/sandbox/state"
)

// dialTimeout bounds a connection to the sandbox: a sandbox that is gone
// from a live bridge answers no ARP, and the client should not hang on it.
const dialTimeout = 5 * time.Second

// Proxy forwards the published ports of one sandbox: it accepts on each
// HOST_IP:HOST_PORT and copies bytes both ways to the sandbox's address and
// CONTAINER_PORT, with two system calls per message (proxycopy.go).
type Proxy struct {
	ls     []*net.TCPListener
	ctx    context.Context // cancelled by Close: ends pending dials
	cancel context.CancelFunc
	dialer net.Dialer
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[*net.TCPConn]struct{}
}

// Publish listens on every port and forwards it to target, the sandbox's
// address. Where the ports were bound before the sandbox started (Listen),
// use Forward.
func Publish(ports []state.Port, target string) (*Proxy, error) {
	ip, err := netip.ParseAddr(target)
	if err != nil {
		return nil, fmt.Errorf("publish ports: target %q is not an IP address", target)
	}
	ls, err := Listen(ports)
	if err != nil {
		return nil, err
	}
	return Forward(ls, ports, ip), nil
}

// Forward serves listeners (from Listen, in the order of ports): each
// connection accepted on ls[i] is forwarded to target:ports[i].ContainerPort.
// The proxy owns the listeners from now on.
func Forward(ls []*net.TCPListener, ports []state.Port, target netip.Addr) *Proxy {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ls:     ls,
		ctx:    ctx,
		cancel: cancel,
		dialer: net.Dialer{Timeout: dialTimeout},
		conns:  map[*net.TCPConn]struct{}{},
	}
	for i, l := range ls {
		to := netip.AddrPortFrom(target, uint16(ports[i].ContainerPort)).String()
		p.wg.Add(1)
		go p.serve(l, to)
	}
	return p
}

// Close stops listening, cuts every forwarded connection and returns once
// every goroutine of the proxy has ended. It may be called more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	p.cancel()
	var errs []error
	for _, l := range p.ls {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", l.Addr(), err))
		}
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return errors.Join(errs...)
}

func (p *Proxy) serve(l *net.TCPListener, to string) {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.isClosed() {
				return
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-p.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go p.forward(c, to)
	}
}

// forward joins client to a new connection to the sandbox.
func (p *Proxy) forward(client *net.TCPConn, to string) {
	defer p.wg.Done()
	defer p.untrack(client)
	c, err := p.dialer.DialContext(p.ctx, "tcp", to)
	if err != nil {
		return // the client sees its connection closed
	}
	upstream := c.(*net.TCPConn)
	if !p.track(upstream) {
		upstream.Close()
		return
	}
	defer p.untrack(upstream)
	done := make(chan struct{})
	go func() {
		pipe(upstream, client)
		close(done)
	}()
	pipe(client, upstream)
	<-done
}

// pipe copies src to dst until src ends. A clean end (FIN) is passed on as
// a half-close, so that a client that shuts down its sending side still
// reads the whole answer; an error (a reset, a Close) tears down both
// connections, which ends the copy in the other direction too.
func pipe(dst, src *net.TCPConn) {
	if err := copyConn(dst, src); err != nil {
		dst.Close()
		src.Close()
		return
	}
	dst.CloseWrite()
}

func (p *Proxy) track(c *net.TCPConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// untrack forgets c and closes it.
func (p *Proxy) untrack(c *net.TCPConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}
