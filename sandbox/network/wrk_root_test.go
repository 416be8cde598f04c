package network

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// TestWrkThroughProxy measures, with wrk, requests/s of one small HTTP
// server four ways in the same run: on the host's loopback; in its own
// network namespace on a bridge, straight to its address; through a
// published port forwarded by the kernel (ForwardInKernel); and through a
// published port carried by the userland proxy. The targets take turns in
// each round, so that the machine's other load falls on all alike. It
// takes a few minutes, so it only runs when asked:
//
//	GLASSBOX_BENCH=1 go test -run WrkThroughProxy -v ./sandbox/network
//
// WRK_ARGS overrides the load (default "-t2 -c32 -d10s"), WRK_ROUNDS the
// number of rounds (default 3).
func TestWrkThroughProxy(t *testing.T) {
	if os.Getenv("GLASSBOX_BENCH") == "" {
		t.Skip("a benchmark: set GLASSBOX_BENCH=1 to run it")
	}
	sandboxtest.RequireRoot(t)
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		sandboxtest.Missing(t, "wrk", "apt-get install wrk")
	}
	roots := sandboxtest.TempRoots(t)
	opts := testBridge(t)

	// The server: this test binary again, on the host and in a new
	// network namespace.
	serve := func(addr string, flags uintptr) *exec.Cmd {
		srv := exec.Command(os.Args[0], "-test.run=^TestHTTPServeHelper$")
		srv.Env = append(os.Environ(), "GB_HTTP_SERVE="+addr)
		srv.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
		srv.Stderr = os.Stderr
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
		return srv
	}
	hostAddrPort := net.JoinHostPort("127.0.0.1", strconv.Itoa(sandboxtest.FreePort(t)))
	serve(hostAddrPort, 0)
	srv := serve(":8000", syscall.CLONE_NEWNET)
	id := testID(500)
	n, err := Attach(roots, id, srv.Process.Pid, Bridge, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(roots, id, n)

	kernelPort := []state.Port{{HostIP: "127.0.0.1", HostPort: sandboxtest.FreePort(t), ContainerPort: 8000, Proto: "tcp"}}
	held, err := Listen(kernelPort)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(held)
	if _, err := ForwardInKernel(roots, id, n, kernelPort); err != nil {
		t.Fatal(err)
	}
	defer Unforward(id)
	proxyPort := sandboxtest.FreePort(t)
	p, err := Publish([]state.Port{{HostIP: "127.0.0.1", HostPort: proxyPort, ContainerPort: 8000, Proto: "tcp"}}, n.IP)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	targets := []struct{ name, url string }{
		{"host loopback", "http://" + hostAddrPort + "/calculate"},
		{"sandbox address " + n.IP, "http://" + net.JoinHostPort(n.IP, "8000") + "/calculate"},
		{"published, kernel DNAT", "http://" + hostAddr(kernelPort[0]) + "/calculate"},
		{"published, userland proxy", "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(proxyPort)) + "/calculate"},
	}
	for _, tg := range targets {
		waitHTTP(t, tg.url)
	}

	args := regexp.MustCompile(`\s+`).Split("-t2 -c32 -d10s", -1)
	if a := os.Getenv("WRK_ARGS"); a != "" {
		args = regexp.MustCompile(`\s+`).Split(a, -1)
	}
	rounds := 3
	if r, err := strconv.Atoi(os.Getenv("WRK_ROUNDS")); err == nil && r > 0 {
		rounds = r
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
	got := make([][]float64, len(targets))
	for range rounds {
		for i, tg := range targets {
			got[i] = append(got[i], run(tg.url))
		}
	}
	median := func(x []float64) float64 {
		y := slices.Clone(x)
		slices.Sort(y)
		return y[len(y)/2]
	}
	base := median(got[0])
	fmt.Fprintf(os.Stderr, "wrk %v, median of %d rounds (requests/s):\n", args, rounds)
	for i, tg := range targets {
		m := median(got[i])
		fmt.Fprintf(os.Stderr, "  %-34s %8.0f  %.2f×  rounds %.0f\n", tg.name, m, m/base, got[i])
	}
	if k, err := KernelForwardedConnections(id); err != nil || k == 0 {
		t.Errorf("the kernel-forwarded port was not forwarded by the kernel: %d connections, %v", k, err)
	}
}
