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

	"golang.org/x/sys/unix"
)

// dialTimeout bounds a connection to the sandbox: a sandbox that is gone
// from a live bridge answers no ARP, and the client should not hang on it.
const dialTimeout = 5 * time.Second

// Proxy forwards the published ports of one sandbox: it accepts on each
// HOST_IP:HOST_PORT and copies bytes both ways to the sandbox's address and
// CONTAINER_PORT: one event loop over all its connections (proxyloop.go),
// or a goroutine per direction where epoll cannot be had (proxycopy.go).
type Proxy struct {
	ls     []*net.TCPListener
	ctx    context.Context // cancelled by Close: ends pending dials
	cancel context.CancelFunc
	dialer net.Dialer
	wg     sync.WaitGroup

	useLoop bool
	loop    *loop // started with the first connection; under mu

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
	return forwardVia(ls, ports, target, true)
}

// forwardVia is Forward with the event loop (proxyloop.go) or, without it
// or where it cannot be had, a goroutine per direction (proxycopy.go).
func forwardVia(ls []*net.TCPListener, ports []state.Port, target netip.Addr, useLoop bool) *Proxy {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ls:     ls,
		ctx:    ctx,
		cancel: cancel,
		dialer: net.Dialer{Timeout: dialTimeout},
		conns:  map[*net.TCPConn]struct{}{},

		useLoop: useLoop,
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
	if p.loop != nil {
		p.loop.close()
	}
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
	if l := p.eventLoop(); l != nil {
		a, err := takeFD(client)
		if err != nil {
			return
		}
		b, err := takeFD(upstream)
		if err != nil {
			unix.Close(a)
			return
		}
		l.add(a, b)
		return
	}
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

// eventLoop returns the proxy's event loop, started with the first
// connection (a proxy nobody uses keeps no thread waiting); nil where
// there is none to be had. One loop, not one per CPU: two loops on this
// 2-core host cost 22.5 µs of CPU per request against one's 17.7, and
// carried fewer requests (each wait found fewer sockets ready).
func (p *Proxy) eventLoop() *loop {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.useLoop || p.closed {
		return nil
	}
	if p.loop == nil {
		l, err := newLoop()
		if err != nil {
			p.useLoop = false
			return nil
		}
		p.loop = l
	}
	return p.loop
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
