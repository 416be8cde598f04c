package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"glassbox/cmd/calculator/service"
)

// The live view's calculator client against the real service: what it
// reports is the service's own answer.
func TestCalculatorClient(t *testing.T) {
	srv := service.NewServer(service.Config{Port: 8000, Workers: 2, LogFormat: "json"}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := newCalculatorClient(10 * time.Second)
	for want := 3; want <= 6; want += 3 {
		st, err := c.stressMemory(ts.URL, 3)
		if err != nil || st.HeldMB != want {
			t.Fatalf("stress 3 MiB: %+v, %v; want %d held", st, err, want)
		}
	}
	if st, err := c.release(ts.URL); err != nil || st.HeldMB != 0 {
		t.Errorf("release: %+v, %v", st, err)
	}
	res, err := c.add(ts.URL, 1, 2)
	host, _ := os.Hostname()
	if err != nil || res.Result != 3 || res.ProcessedBy != host {
		t.Errorf("add: %+v, %v", res, err)
	}
	if _, err := c.stressMemory(ts.URL, 0); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a refused request: %v, want the service's 400", err)
	}
}

// A calculator that does not listen yet — its sandbox runs, its service is
// still starting — is waited for: the request reaches it once it binds.
func TestCalculatorClientWaitsForAStartingService(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // refused from now on, until the service binds it again
	srv := service.NewServer(service.Config{Port: 8000, Workers: 2, LogFormat: "json"}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	bound := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		bound <- err
		if err == nil {
			http.Serve(l, srv)
		}
	}()
	res, err := newCalculatorClient(10*time.Second).add("http://"+addr, 1, 2)
	if berr := <-bound; berr != nil {
		t.Skipf("%s was taken meanwhile: %v", addr, berr)
	}
	if err != nil || res.Result != 3 {
		t.Errorf("add against a service that binds 300 ms later: %+v, %v", res, err)
	}
}
