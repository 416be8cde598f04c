package service

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log destination the test can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

const slowBody = `{"operation":"multiply","a":6,"b":7}`

// startSlowRequest opens a connection and sends a /calculate request whose
// body stops half-way: the request is in flight until finish is called.
func startSlowRequest(t *testing.T, addr string) (conn net.Conn, finish func() *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	half := len(slowBody) / 2
	fmt.Fprintf(conn, "POST /calculate HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(slowBody), slowBody[:half])
	return conn, func() *http.Response {
		t.Helper()
		if _, err := io.WriteString(conn, slowBody[half:]); err != nil {
			t.Fatalf("finish the in-flight request: %v", err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("read the in-flight request's response: %v", err)
		}
		return resp
	}
}

// waitRefused dials addr until the connection is refused: the listener is
// closed. It fails the test if that does not happen within a generous bound.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		// A connection that reached the backlog just before the listener
		// closed is reset; try again until the port refuses outright.
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dial after shutdown began: %v, want connection refused", err)
		}
		if c != nil {
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("still accepting new connections after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// handlerEntries tells the test when a request has entered its handler:
// from then on it is in flight, and Shutdown must wait for it.
func handlerEntries(t *testing.T) <-chan struct{} {
	ch := make(chan struct{}, 16)
	handlerHook = func(*http.Request) { ch <- struct{}{} }
	t.Cleanup(func() { handlerHook = nil })
	return ch
}

func TestGracefulShutdown(t *testing.T) {
	inHandler := handlerEntries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var logs syncBuffer
	sigs := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	cfg := Config{Workers: 2, ShutdownTimeout: time.Minute}
	go func() { exit <- Run(cfg, ln, slog.New(slog.NewJSONHandler(&logs, nil)), func() {}, sigs) }()

	_, finish := startSlowRequest(t, addr)
	<-inHandler // the handler is reading the half-sent body

	sigs <- syscall.SIGTERM
	waitRefused(t, addr)
	select {
	case code := <-exit:
		t.Fatalf("exited with %d while a request was in flight", code)
	default:
	}

	resp := finish()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"result":42`) {
		t.Errorf("in-flight request: %d %s", resp.StatusCode, body)
	}
	if code := <-exit; code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	out := logs.String()
	last := -1
	for _, ev := range []string{`"msg":"started"`, `"msg":"signal received"`, `"msg":"draining"`, `"msg":"request"`, `"msg":"exited"`} {
		i := strings.Index(out, ev)
		if i < 0 || i < last {
			t.Errorf("log lacks %s in order:\n%s", ev, out)
		}
		last = i
	}
}

func TestShutdownTimeout(t *testing.T) {
	inHandler := handlerEntries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	sigs := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	cfg := Config{Workers: 2, ShutdownTimeout: 50 * time.Millisecond}
	go func() { exit <- Run(cfg, ln, slog.New(slog.NewJSONHandler(&logs, nil)), func() {}, sigs) }()

	startSlowRequest(t, ln.Addr().String()) // never finished
	<-inHandler
	sigs <- syscall.SIGINT
	if code := <-exit; code != 1 {
		t.Errorf("exit status %d, want 1 when a request outlives SHUTDOWN_TIMEOUT", code)
	}
	if !strings.Contains(logs.String(), "outlived SHUTDOWN_TIMEOUT") {
		t.Errorf("log does not say why:\n%s", logs.String())
	}
}

func TestSecondSignalCutsDrainShort(t *testing.T) {
	inHandler := handlerEntries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	sigs := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	cfg := Config{Workers: 2, ShutdownTimeout: time.Hour}
	go func() { exit <- Run(cfg, ln, slog.New(slog.NewJSONHandler(&logs, nil)), func() {}, sigs) }()

	startSlowRequest(t, ln.Addr().String()) // never finished
	<-inHandler
	sigs <- syscall.SIGTERM
	waitRefused(t, ln.Addr().String()) // draining has begun
	sigs <- syscall.SIGINT
	if code := <-exit; code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(logs.String(), "second signal") {
		t.Errorf("log does not say why:\n%s", logs.String())
	}
}
