package inspect

import (
	"net"
	"os"
	"testing"
)

// The process that holds a port is found through /proc: here, the test's
// own listener.
func TestListenerOn(t *testing.T) {
	fs, err := Host()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	got, ok := ListenerOn(fs, port)
	if !ok || got.PID != os.Getpid() || got.Command == "" || got.Source != "/proc/net/tcp" {
		t.Errorf("ListenerOn(%d) = %+v, %v; want this process (%d) from /proc/net/tcp", port, got, ok, os.Getpid())
	}
	l.Close()
	if got, ok := ListenerOn(fs, port); ok {
		t.Errorf("ListenerOn(%d) after close = %+v, want none", port, got)
	}
}
