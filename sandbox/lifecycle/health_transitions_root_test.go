package lifecycle

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/state"
)

// The health check goes starting → healthy → unhealthy (after Retries
// failures) → healthy. The fake sandbox's init is this process, so the
// check enters this process's own network namespace (setns needs root).
func TestHealthTransitions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the health check enters the sandbox's network namespace (setns)")
	}
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() || r.URL.Path != "/health" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	rt := &fakeRuntime{}
	old := startSandbox
	startSandbox = rt.start
	defer func() { startSandbox = old }()
	e := New(state.RootsAt(t.TempDir()))
	sb, l, err := e.create(&Spec{Name: "calc", Config: &sandbox.Config{}, Health: &Healthcheck{Path: "/health", Port: port, Interval: 20 * time.Millisecond, Timeout: time.Second, Retries: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	r, w, _ := os.Pipe()
	done := make(chan error, 1)
	lock := inherit(t, l)
	go func() { done <- Supervise(e.Roots, sb.ID, w, lock) }()
	r.Read(make([]byte, 512))
	r.Close()

	wait := func(want state.Health) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			sb, err := e.Get("calc")
			if err == nil && sb.Health == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("health never became %q (last %q, %v)", want, sb.Health, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait(state.HealthHealthy)
	failing.Store(true)
	wait(state.HealthUnhealthy)
	failing.Store(false)
	wait(state.HealthHealthy)
	if _, err := e.Stop("calc", time.Second); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	if sb, _ := e.Get("calc"); sb.Health != state.HealthNone {
		t.Errorf("an exited sandbox keeps health %q", sb.Health)
	}
}
