package network

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

// proxyTo publishes a free loopback port to target's port and returns the
// address to dial.
func proxyTo(t testing.TB, target net.Addr) (*Proxy, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := target.(*net.TCPAddr)
	ports := []state.Port{{HostIP: "127.0.0.1", HostPort: l.Addr().(*net.TCPAddr).Port, ContainerPort: tp.Port, Proto: "tcp"}}
	p := forwardVia([]*net.TCPListener{l.(*net.TCPListener)}, ports, netip.MustParseAddr(tp.IP.String()), loopMode)
	t.Cleanup(func() { p.Close() })
	return p, l.Addr().String()
}

// loopMode is what proxyTo builds: the event loop or the goroutine copy.
// Tests run under eachMode try both.
var loopMode = true

// eachMode runs fn once with the event loop and once with the goroutine
// copy, the fallback where epoll cannot be had.
func eachMode(t *testing.T, fn func(t *testing.T)) {
	for _, m := range []struct {
		name string
		loop bool
	}{{"loop", true}, {"goroutines", false}} {
		t.Run(m.name, func(t *testing.T) {
			loopMode = m.loop
			defer func() { loopMode = true }()
			fn(t)
		})
	}
}

// upstream is a target server: handle runs for each connection.
func upstream(t testing.TB, handle func(net.Conn)) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); handle(c) }()
		}
	}()
	return l
}

// echo copies what it reads back until EOF, then answers "bye" and closes:
// it only finishes its answer after the client's half-close arrived.
func echo(c net.Conn) {
	io.Copy(c, c)
	io.WriteString(c, "bye")
}

func TestProxyBothWaysAndHalfClose(t *testing.T) { eachMode(t, testProxyBothWaysAndHalfClose) }

func testProxyBothWaysAndHalfClose(t *testing.T) {
	_, addr := proxyTo(t, upstream(t, echo).Addr())
	c := dialProxy(t, addr)
	payload := make([]byte, 4<<20)
	rand.Read(payload)
	var got []byte
	done := make(chan error, 1)
	go func() {
		var err error
		got, err = io.ReadAll(c)
		done <- err
	}()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	// Half-close: the echo sees EOF only if the proxy passes it on, and its
	// "bye" must still come back through the open direction.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, append(payload, "bye"...)) {
		t.Fatalf("got %d bytes back, want the %d sent and bye", len(got), len(payload))
	}
}

func TestProxyManyConnections(t *testing.T) { eachMode(t, testProxyManyConnections) }

func testProxyManyConnections(t *testing.T) {
	_, addr := proxyTo(t, upstream(t, echo).Addr())
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			msg := fmt.Sprintf("connection %d", i)
			io.WriteString(c, msg)
			c.(*net.TCPConn).CloseWrite()
			b, err := io.ReadAll(c)
			if err != nil || string(b) != msg+"bye" {
				errs <- fmt.Errorf("connection %d: %q, %v", i, b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestProxyTargetDown(t *testing.T) { eachMode(t, testProxyTargetDown) }

func testProxyTargetDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := l.Addr()
	l.Close() // nothing listens there now
	_, addr := proxyTo(t, target)
	c := dialProxy(t, addr)
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err == nil || isTimeout(err) {
		t.Errorf("read from a proxy whose target is down: %d, %v; want the connection closed", n, err)
	}
}

// TestProxyUpstreamCloses: the sandbox closing its side ends the client's.
func TestProxyUpstreamCloses(t *testing.T) { eachMode(t, testProxyUpstreamCloses) }

func testProxyUpstreamCloses(t *testing.T) {
	_, addr := proxyTo(t, upstream(t, func(c net.Conn) { io.WriteString(c, "hi") }).Addr())
	c := dialProxy(t, addr)
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hi" {
		t.Errorf("read: %q, %v", b, err)
	}
}

// dialProxy connects to a proxy's listener at addr, with a deadline that
// ends a test the proxy hangs; the connection closes at the test's end.
func dialProxy(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestProxyCloseLeavesNothing(t *testing.T) { eachMode(t, testProxyCloseLeavesNothing) }

func testProxyCloseLeavesNothing(t *testing.T) {
	target := upstream(t, echo) // its goroutines end with the test, after the check
	before := runtime.NumGoroutine()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := target.Addr().(*net.TCPAddr)
	p := forwardVia([]*net.TCPListener{l.(*net.TCPListener)},
		[]state.Port{{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: tp.Port, Proto: "tcp"}},
		netip.MustParseAddr("127.0.0.1"), loopMode)
	addr := l.Addr().String()

	// Open connections, idle in the middle of a session.
	var conns []net.Conn
	for range 10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "x")
		b := make([]byte, 1)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	for i, c := range conns {
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("connection %d still open after Close: %v", i, err)
		}
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("still listening on %s after Close", addr)
	}
	// The proxy's goroutines are gone; the target's for the cut
	// connections end as they see EOF. Wait for the count to settle
	// rather than for a fixed time.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
