package network

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The sandbox half-closes first: its answer and FIN reach the client,
// which can still send, and what it sends after reaches the sandbox.
func TestProxyUpstreamHalfCloses(t *testing.T) { eachMode(t, testProxyUpstreamHalfCloses) }

func testProxyUpstreamHalfCloses(t *testing.T) {
	got := make(chan string, 1)
	_, addr := proxyTo(t, upstream(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "answer")
		c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}).Addr())
	c := dialProxy(t, addr)
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "answer" {
		t.Fatalf("read up to the sandbox's FIN: %q, %v", b, err)
	}
	if _, err := io.WriteString(c, "after"); err != nil {
		t.Fatalf("write after the sandbox's FIN: %v", err)
	}
	c.(*net.TCPConn).CloseWrite()
	select {
	case s := <-got:
		if s != "after" {
			t.Errorf("the sandbox read %q after its half-close, want %q", s, "after")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the client's FIN never reached the sandbox")
	}
}

// Both directions at once, large, with readers that start late: the
// kernel's buffers fill on both sides, so every send of the proxy is cut
// short and both directions wait on their destinations at the same time.
func TestProxyLargeBothWaysSlowReaders(t *testing.T) { eachMode(t, testProxyLargeBothWaysSlowReaders) }

func testProxyLargeBothWaysSlowReaders(t *testing.T) {
	const size = 16 << 20
	up := make([]byte, size)
	down := make([]byte, size)
	rand.Read(up)
	rand.Read(down)
	gotUp := make(chan [32]byte, 1)
	_, addr := proxyTo(t, upstream(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			c.Write(down)
			c.(*net.TCPConn).CloseWrite()
		}()
		time.Sleep(200 * time.Millisecond) // let the client's bytes pile up
		h := sha256.New()
		io.Copy(h, c)
		gotUp <- [32]byte(h.Sum(nil))
		<-sent
	}).Addr())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(up)
		c.(*net.TCPConn).CloseWrite()
		werr <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the sandbox's bytes pile up
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v after %d bytes", err, len(b))
	}
	if !bytes.Equal(b, down) {
		t.Errorf("the client got %d bytes, not the %d the sandbox sent", len(b), size)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	select {
	case h := <-gotUp:
		if h != sha256.Sum256(up) {
			t.Error("the sandbox did not get the bytes the client sent")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sandbox never saw the client's FIN")
	}
}

// openFDs counts the sockets, epoll sets and eventfds this process holds.
func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, de := range des {
		l, _ := os.Readlink("/proc/self/fd/" + de.Name())
		if strings.HasPrefix(l, "socket:") || strings.HasPrefix(l, "anon_inode:") {
			n++
		}
	}
	return n
}

// waitFDs waits for the count of open descriptors to come down to want.
func waitFDs(t *testing.T, want int, when string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	n := openFDs(t)
	for n > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n = openFDs(t)
	}
	if n != want {
		t.Errorf("%s: %d descriptors open, want %d", when, n, want)
	}
}

// Every socket the proxy holds is closed when its connection ends, cleanly
// or by a reset, and the rest (listener, epoll set) when the proxy closes.
func TestProxyLeavesNoDescriptors(t *testing.T) { eachMode(t, testProxyLeavesNoDescriptors) }

func testProxyLeavesNoDescriptors(t *testing.T) {
	// An echo without splice: its pipes, pooled by the runtime, would be
	// counted until a GC.
	target := upstream(t, func(c net.Conn) {
		io.Copy(struct{ io.Writer }{c}, struct{ io.Reader }{c})
		io.WriteString(c, "bye")
	})
	var handlers sync.WaitGroup
	before := openFDs(t)
	p, addr := proxyTo(t, target.Addr())
	listening := openFDs(t)
	run := func(i int) {
		defer handlers.Done()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "x")
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Error(err)
		}
		if i%3 == 0 {
			reset(t, c)
			return
		}
		c.(*net.TCPConn).CloseWrite()
		io.ReadAll(c)
		c.Close()
	}
	// A first connection starts the loop (an epoll set and an eventfd),
	// which stays until Close.
	handlers.Add(1)
	run(1)
	idle := listening
	p.mu.Lock()
	if p.loop != nil {
		idle += 2
	}
	p.mu.Unlock()
	waitFDs(t, idle, "after the first connection ended")
	for i := range 60 {
		handlers.Add(1)
		go run(i)
	}
	handlers.Wait()
	waitFDs(t, idle, "after every connection ended")
	p.Close()
	waitFDs(t, before, "after Close")
}

// The loop's wait is interrupted by signals (the runtime's preemption,
// SIGCHLD in the supervisor); it carries on.
func TestProxySurvivesSignals(t *testing.T) { eachMode(t, testProxySurvivesSignals) }

func testProxySurvivesSignals(t *testing.T) {
	_, addr := proxyTo(t, upstream(t, echo).Addr())
	for range 200 {
		syscall.Kill(os.Getpid(), syscall.SIGURG)
		time.Sleep(time.Millisecond)
	}
	c := dialProxy(t, addr)
	io.WriteString(c, "still there")
	c.(*net.TCPConn).CloseWrite()
	if b, err := io.ReadAll(c); err != nil || string(b) != "still therebye" {
		t.Errorf("after signals: %q, %v", b, err)
	}
}
