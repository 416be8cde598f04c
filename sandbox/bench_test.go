package sandbox_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// runToHealth runs one sandbox until /health answers, then stops it.
func runToHealth(bin string, roots state.Roots) (time.Duration, error) {
	cmd := exec.Command(bin, "run", "--memory", "256m", "--cpus", "0.5")
	cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+filepath.Dir(roots.Lib))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	store := state.NewStore(roots)
	pid := 0
	for time.Since(start) < 10*time.Second {
		if pid == 0 {
			// The record names the init as soon as the workload runs.
			if all, _ := store.List(); len(all) > 0 && all[0].InitPID > 0 {
				pid = all[0].InitPID
			}
		}
		if pid > 0 && healthy(pid) {
			return time.Since(start), nil
		}
		time.Sleep(500 * time.Microsecond) // polling harder steals the CPUs being measured
	}
	return 0, fmt.Errorf("no /health answer within 10s")
}

// healthy is one raw GET /health inside pid's network namespace.
func healthy(pid int) bool {
	conn, err := dialInNetns(pid, "127.0.0.1:8000")
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.Contains(line, " 200 ")
}

// BenchmarkBareCalculatorToHealth is the floor for BenchmarkRunToHealth:
// the same binary started as the calculator on the host, without any
// sandbox, until /health answers. The difference is the runtime's cost.
func BenchmarkBareCalculatorToHealth(b *testing.B) {
	bin := sandboxtest.Binary(b)
	var times []time.Duration
	for i := 0; i < b.N; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "calculator")
		cmd.Env = append(os.Environ(), "SERVER_PORT="+port)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for !healthyAt(addr) {
			if time.Since(start) > 10*time.Second {
				b.Fatal("no /health answer within 10s")
			}
			time.Sleep(500 * time.Microsecond)
		}
		times = append(times, time.Since(start))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b.StopTimer()
		time.Sleep(100 * time.Millisecond)
		b.StartTimer()
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
	b.ReportMetric(float64(times[0].Microseconds())/1000, "ms/min")
}

func healthyAt(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: host\r\nConnection: close\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.Contains(line, " 200 ")
}
