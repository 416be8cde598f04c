package network

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// TestWrkThroughProxy measures, with wrk, requests/s of an HTTP server in
// its own network namespace on a bridge, straight to its address and
// through a published port, in the same run. It takes a minute, so it
// only runs when asked:
//
//	GLASSBOX_BENCH=1 go test -run WrkThroughProxy -v ./sandbox/network
//
// WRK_ARGS overrides the load (default "-t2 -c32 -d10s").
func TestWrkThroughProxy(t *testing.T) {
	if os.Getenv("GLASSBOX_BENCH") == "" {
		t.Skip("a benchmark: set GLASSBOX_BENCH=1 to run it")
	}
	sandboxtest.RequireRoot(t)
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed (apt-get install wrk)")
	}
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)

	// The server: this test binary again, in a new network namespace.
	srv := exec.Command(os.Args[0], "-test.run=^TestHTTPServeHelper$")
	srv.Env = append(os.Environ(), "GB_HTTP_SERVE=:8000")
	srv.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	id := testID(500)
	n, err := Attach(roots, id, srv.Process.Pid, Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, id, n)

	hostPort := freePort(t)
	p, err := Publish([]state.Port{{HostIP: "127.0.0.1", HostPort: hostPort, ContainerPort: 8000, Proto: "tcp"}}, n.IP)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	direct := "http://" + net.JoinHostPort(n.IP, "8000") + "/calculate"
	proxied := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(hostPort)) + "/calculate"
	waitHTTP(t, direct)
	waitHTTP(t, proxied)

	args := regexp.MustCompile(`\s+`).Split("-t2 -c32 -d10s", -1)
	if a := os.Getenv("WRK_ARGS"); a != "" {
		args = regexp.MustCompile(`\s+`).Split(a, -1)
	}
	rps := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	run := func(url string) float64 {
		out, err := exec.Command(wrk, append(args, url)...).CombinedOutput()
		if err != nil {
			t.Fatalf("wrk %s: %v\n%s", url, err, out)
		}
		m := rps.FindSubmatch(out)
		if m == nil {
			t.Fatalf("wrk %s: no Requests/sec in\n%s", url, out)
		}
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		return f
	}
	// Alternate, so that the machine's other load falls on both alike.
	var d, pr []float64
	for range 2 {
		d = append(d, run(direct))
		pr = append(pr, run(proxied))
	}
	mean := func(x []float64) float64 { return (x[0] + x[1]) / 2 }
	t.Logf("wrk %v, server in its own netns on a bridge:", args)
	t.Logf("  direct to %s:8000:        %v req/s (mean %.0f)", n.IP, d, mean(d))
	t.Logf("  through 127.0.0.1:%d proxy: %v req/s (mean %.0f)", hostPort, pr, mean(pr))
	t.Logf("  proxy/direct = %.2f", mean(pr)/mean(d))
	fmt.Fprintf(os.Stderr, "wrk: direct %.0f req/s, proxy %.0f req/s, ratio %.2f\n", mean(d), mean(pr), mean(pr)/mean(d))
}

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
