package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"glassbox/cmd/calculator/service"
	"glassbox/sandbox/state"
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

// The calculator is reached on the published port of the image's exposed
// port, whatever its number.
func TestCalculatorURL(t *testing.T) {
	for _, c := range []struct {
		sb   state.Sandbox
		want string
	}{
		{state.Sandbox{Expose: []int{9000}, Network: state.Network{IP: "10.123.0.5", Ports: []state.Port{
			{HostIP: "127.0.0.1", HostPort: 18001, ContainerPort: 22},
			{HostIP: "0.0.0.0", HostPort: 18002, ContainerPort: 9000}}}}, "http://127.0.0.1:18002"},
		{state.Sandbox{Expose: []int{9000}, Network: state.Network{IP: "10.123.0.5"}}, "http://10.123.0.5:9000"},
		{state.Sandbox{Network: state.Network{Ports: []state.Port{{HostIP: "127.0.0.2", HostPort: 8080, ContainerPort: 80}}}}, "http://127.0.0.2:8080"},
	} {
		got, err := calculatorURL(&c.sb)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.sb.Network, got, err, c.want)
		}
	}
	if _, err := calculatorURL(&state.Sandbox{Name: "x", Network: state.Network{IP: "10.123.0.5"}}); err == nil {
		t.Error("no exposed port and no published one: no error")
	}
}
