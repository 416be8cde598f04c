package network

import (
	"io"
	"net"
	"testing"
	"time"
)

// reset closes c with a reset (RST) instead of a FIN.
func reset(t *testing.T, c net.Conn) {
	t.Helper()
	if err := c.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// A client that resets in the middle of a session: the proxy cuts its
// connection to the sandbox too, which sees it end (no half-open leftover).
func TestProxyClientResets(t *testing.T) { eachMode(t, testProxyClientResets) }

func testProxyClientResets(t *testing.T) {
	ended := make(chan error, 1)
	_, addr := proxyTo(t, upstream(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "ready")
		_, err := io.Copy(io.Discard, c) // a silent sandbox: it only reads
		ended <- err
	}).Addr())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "some data, then a reset")
	reset(t, c)
	select {
	case err := <-ended:
		if isTimeout(err) {
			t.Fatalf("the sandbox's connection stayed open after the client's reset: %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("the sandbox's connection stayed open after the client's reset")
	}
}

// A sandbox that resets: the client's connection ends with an error or
// EOF, promptly, after what was sent before the reset.
func TestProxyUpstreamResets(t *testing.T) { eachMode(t, testProxyUpstreamResets) }

func testProxyUpstreamResets(t *testing.T) {
	_, addr := proxyTo(t, upstream(t, func(c net.Conn) {
		io.WriteString(c, "partial")
		time.Sleep(50 * time.Millisecond)
		reset(t, c)
	}).Addr())
	c := dialProxy(t, addr)
	b, err := io.ReadAll(c)
	if isTimeout(err) {
		t.Fatalf("the client's connection stayed open after the sandbox's reset: %q, %v", b, err)
	}
	if string(b) != "partial" {
		t.Errorf("got %q before the end, want %q", b, "partial")
	}
}
