package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pollEvery is the gap between two attempts at /health (peerbench's).
const pollEvery = 250 * time.Microsecond

// waitHealthy polls GET /health on 127.0.0.1:port inside the network
// namespace of pid, from a thread that joined it, until the calculator
// answers 200 — or until deadline.
func waitHealthy(pid, port int, deadline time.Time) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("join the network namespace of %d: %w", pid, err)
			return
		}
		perr := pollHealth(port, deadline)
		// A thread that cannot go back stays locked: Go ends it with the
		// goroutine.
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- perr
	}()
	return <-errc
}

func pollHealth(port int, deadline time.Time) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	req := []byte("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	var last error
	for time.Now().Before(deadline) {
		if last = askHealth(addr, req); last == nil {
			return nil
		}
		time.Sleep(pollEvery)
	}
	return fmt.Errorf("/health did not answer: %v", last)
}

func askHealth(addr string, req []byte) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body.Bytes(), []byte("healthy")) {
		return fmt.Errorf("status %d: %q", resp.StatusCode, body.String())
	}
	return nil
}

// cpuMS is the CPU time pid's threads have used so far, from
// /proc/PID/task/*/schedstat (nanoseconds on the CPU), in ms.
func cpuMS(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var ns int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			ns += v
		}
	}
	return float64(ns) / 1e6
}

// faults is the page faults pid has taken so far (all its threads, minor
// and major: fields 10 and 12 of /proc/PID/stat). Where a first touch of a
// page is dear (a guest whose page tables its host shadows), they explain
// much of the CPU above.
func faults(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, may hold spaces: count from after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 10 {
		return 0
	}
	minflt, _ := strconv.ParseFloat(f[7], 64)
	majflt, _ := strconv.ParseFloat(f[9], 64)
	return minflt + majflt
}

// readPID reads a PID file as runc and crun write it.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
