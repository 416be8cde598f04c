package network

import (
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	var err error
	for range 100 {
		var resp *http.Response
		if resp, err = client.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered: %v", url, err)
}

// TestHTTPServeHelper is the server of TestWrkThroughProxy.
func TestHTTPServeHelper(t *testing.T) {
	addr := os.Getenv("GB_HTTP_SERVE")
	if addr == "" {
		t.Skip("runs only as the server of TestWrkThroughProxy")
	}
	// Loopback of the new namespace is down until Attach; wait for eth0.
	var l net.Listener
	var err error
	for range 200 {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
}
