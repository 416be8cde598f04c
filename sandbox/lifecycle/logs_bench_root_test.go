package lifecycle_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"glassbox/sandbox/sandboxtest"
)

// The workload of BenchmarkLogPathBesideDocker: once told (SIGUSR1), it
// prints logLines request lines such as the calculator logs, in bursts of
// logBurst every 100 ms — about 40 000 lines a second when the log path
// keeps up (issue 16's load) — and then becomes `sleep 600`.
const (
	logBurst = 4000
	logLines = 30 * logBurst
	logLine  = `{"time":"2026-11-28T15:40:35.051260247Z","level":"INFO","msg":"request","method":"POST","path":"/calculate","status":200,"duration_us":41}`
)

var logScript = fmt.Sprintf(`line='%s'
trap 'go=1' USR1
until [ "$go" ]; do sleep 0.02; done
i=0
while [ $i -lt %d ]; do yes "$line" | head -n %d; usleep 100000; i=$((i+1)); done
exec sleep 600`, logLine, logLines/logBurst, logBurst)

// BenchmarkLogPathBesideDocker measures what carrying a busy workload's
// output to its log costs: the same busybox script prints 120 000 lines at
// about 40 000 a second in a glassbox sandbox (its supervisor reads the
// pipe and writes JSON lines, rotating at 20 MB × 5) and in docker
// containers with docker's default json-file driver and with its local
// driver (the container's shim and dockerd carry the output), interleaved
// in one run. For each it reports the CPU time the log path's processes
// spent per line, that cost as a share of one core at 40 000 lines a
// second, and the rate the script reached.
//
//	go test -run XXX -bench LogPathBesideDocker -benchtime 3x ./sandbox/lifecycle
func BenchmarkLogPathBesideDocker(b *testing.B) {
	c := sandboxtest.NewCLI(b)
	d := sandboxtest.Dockerd(b)
	img := d.ImportBusybox(b)
	dockerd := readPidFile(b, filepath.Join(d.Dir, "dockerd.pid"))
	engines := []string{"glassbox", "docker-json-file", "docker-local"}
	cpu := map[string]time.Duration{}
	busy := map[string]time.Duration{}
	for b.Loop() {
		// glassbox
		name := sandboxtest.UniqueName("logbench")
		c.Ok("run", "-d", "--name", name, "busybox", "sh", "-c", logScript)
		sb := c.Get(name)
		used, took := emitAndMeasure(b, sb.WorkloadPID, sb.SupervisorPID)
		if n := countLines(b, c.Roots.SandboxDir(sb.ID), "log.json*"); n < logLines {
			b.Fatalf("glassbox's log holds %d lines, want %d", n, logLines)
		}
		c.Ok("rm", "-f", name)
		cpu["glassbox"] += used
		busy["glassbox"] += took

		// docker, with each driver
		for _, driver := range []string{"json-file", "local"} {
			id := d.Run(b, "run", "-d", "--log-driver", driver, img, "sh", "-c", logScript)
			pid, _ := strconv.Atoi(d.Run(b, "inspect", "-f", "{{.State.Pid}}", id))
			used, took := emitAndMeasure(b, pid, dockerd, parentOf(b, pid))
			if driver == "json-file" {
				if n := countLines(b, filepath.Join(d.DataRoot, "containers", id), id+"-json.log*"); n < logLines {
					b.Fatalf("docker's json-file log holds %d lines, want %d", n, logLines)
				}
			}
			d.Run(b, "rm", "-f", id)
			cpu["docker-"+driver] += used
			busy["docker-"+driver] += took
		}
	}
	lines := float64(b.N * logLines)
	for _, e := range engines {
		perLine := float64(cpu[e].Nanoseconds()) / lines
		b.ReportMetric(perLine, "ns/line-"+e)
		b.ReportMetric(perLine*40000/1e9*100, "cpu%@40k-"+e)
		b.ReportMetric(lines/busy[e].Seconds(), "lines/s-"+e)
	}
}

// emitAndMeasure starts the script of workload pid once its trap is set,
// waits until it has printed everything and the log path has caught up,
// and returns the CPU time the processes of the log path spent meanwhile
// and how long the printing took.
func emitAndMeasure(b *testing.B, workload int, logPath ...int) (cpu, took time.Duration) {
	b.Helper()
	waitUntilB(b, "the script's trap on SIGUSR1", func() bool { return catches(workload, syscall.SIGUSR1) }, func() string { return cmdline(workload) })
	before := cpuOf(b, logPath)
	start := time.Now()
	if err := syscall.Kill(workload, syscall.SIGUSR1); err != nil {
		b.Fatal(err)
	}
	waitUntilB(b, "the script's end", func() bool { return cmdline(workload) == "sleep 600 " }, func() string {
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", workload, workload))
		var out []string
		for _, k := range strings.Fields(string(kids)) {
			pid, _ := strconv.Atoi(k)
			out = append(out, cmdline(pid))
		}
		return fmt.Sprintf("the workload runs %q, its children %q", cmdline(workload), out)
	})
	took = time.Since(start)
	// The last burst may still be in the pipe and the log path's buffers.
	time.Sleep(300 * time.Millisecond)
	return cpuOf(b, logPath) - before, took
}

func waitUntilB(b *testing.B, what string, cond func() bool, diag func() string) {
	b.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("waited 60 s for %s: %s", what, diag())
		}
	}
}

// catches says whether process pid has a handler for sig (SigCgt in
// /proc/PID/status).
func catches(pid int, sig syscall.Signal) bool {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

// cpuOf is the CPU time the processes' threads have used so far, in
// nanoseconds (the first field of each /proc/PID/task/TID/schedstat; the
// clock ticks of /proc/PID/stat are too coarse for a supervisor's share).
func cpuOf(b *testing.B, pids []int) time.Duration {
	b.Helper()
	var sum time.Duration
	for _, pid := range pids {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		if err != nil || len(tasks) == 0 {
			b.Fatalf("no threads of process %d (%v)", pid, err)
		}
		for _, f := range tasks {
			data, _ := os.ReadFile(f) // a thread that exited meanwhile counts nothing
			if ns, err := strconv.ParseInt(strings.Fields(string(data) + " 0")[0], 10, 64); err == nil {
				sum += time.Duration(ns)
			}
		}
	}
	return sum
}

func parentOf(b *testing.B, pid int) int {
	b.Helper()
	p, err := procfs.NewProc(pid)
	if err != nil {
		b.Fatal(err)
	}
	st, err := p.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return st.PPID
}

func readPidFile(b *testing.B, file string) int {
	b.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		b.Fatalf("%s: %v", file, err)
	}
	return pid
}

// countLines counts the lines of the files in dir matching pattern.
func countLines(b *testing.B, dir, pattern string) int {
	b.Helper()
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(files) == 0 {
		b.Fatalf("no %s in %s (%v)", pattern, dir, err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		n += bytes.Count(data, []byte("\n"))
	}
	return n
}
