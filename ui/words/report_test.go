package words

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// fixtureSnapshot reads the fixture sandbox of testdata (cgroup v2) as
// inspect does a live one.
func fixtureSnapshot(t *testing.T) *inspect.Snapshot {
	t.Helper()
	fs, err := inspect.NewFS("../../inspect/testdata/proc", "../../inspect/testdata/cgroupfs/v2", "")
	if err != nil {
		t.Fatal(err)
	}
	fs.HostRoot = t.TempDir()
	const id = "3f2a9c01b7de"
	sb := &state.Sandbox{
		ID: id, Name: "web", Image: "calculator", Hostname: "web", Status: state.Running,
		ImageEnv: []string{"SERVER_PORT=8000", "WORKER_COUNT=4"},
		Env:      []string{"SERVER_PORT=8000", "WORKER_COUNT=2", "LOG_FORMAT=json", "SHUTDOWN_TIMEOUT=10s"},
		InitPID:  4242, WorkloadPID: 4251, Cgroup: state.Cgroup{Path: "/glassbox/" + id},
		Layers:  []state.Layer{{Digest: "sha256:9c1e4f0b", Dir: filepath.Join(fs.HostRoot, "layer"), CreatedBy: "COPY calculator /app/calculator", Size: 9 << 20}},
		Limits:  state.Limits{MemoryBytes: 256 << 20, CPUs: 0.5},
		Network: state.Network{Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp", Via: state.ViaKernel}}},
		Created: time.Unix(1, 0), Health: state.HealthHealthy, Detached: true, SupervisorPID: 4240,
		StopTimeout: 10 * time.Second, Restart: "on-failure:3", RestartCount: 1,
		RestartedAfter: &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true},
		LastEventNote:  "supervisor died",
		Security: state.Security{Seccomp: "default", SeccompSummary: "306 system calls allowed, 71 denied",
			SeccompBlocks: []string{"mount", "unshare"}, ReadOnly: true},
	}
	in, err := inspect.New(fs, sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s, err := in.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReport(t *testing.T) {
	s := fixtureSnapshot(t)
	var plain, sourced bytes.Buffer
	if err := Report(&plain, s, false); err != nil {
		t.Fatal(err)
	}
	if err := Report(&sourced, s, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Sandbox web (3f2a9c01b7de)", "\nNamespaces\n", "\nProcesses", "\nFilesystem", "\nCgroup\n",
		"\nNetwork", "\nUTS and kernel\n", "23.71 MiB of 256 MiB", "OOM kills 1", "masked",
		"\nLifecycle\n", "health: healthy", "supervisor: PID 4240", "stop: SIGTERM, then SIGKILL after 10s",
		"limits: memory 256 MiB, cpus 0.5", "ports: 127.0.0.1:8000->8000/tcp",
		"restart policy: on-failure:3, restarted 1 time(s), last after Exited (137, SIGKILL, OOMKilled)",
		"note: supervisor died", "nft list table ip glassbox-3f2a9c01b7de",
		"\nSecurity (PID 4251)\n", "seccomp: filter (mode 2), 1 filter\n", "profile: docker's default profile: 306 system calls allowed, 71 denied",
		"the filter refuses mount, unshare", "no_new_privs: set", "root filesystem: read-only", "PID 4242: seccomp none (mode 0)",
		"\nEnvironment (the workload's, ../../inspect/testdata/proc/4251/environ)\n", "  image ENV                  SERVER_PORT=8000\n",
		"  ◆ -e (image ENV: 4)        WORKER_COUNT=2\n", "  -e                         LOG_FORMAT=json\n", "  glassbox (the hostname)    HOSTNAME=web\n",
		"  glassbox (a default PATH)  PATH=/usr/local/sbin:",
		"LAYER  DIGEST", "(#1 is the image's base)"} {
		if !strings.Contains(plain.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, plain.String())
		}
	}
	// Layers are numbered as the UI numbers them: #1 the base, listed last.
	if top, base := strings.Index(plain.String(), "\n  #2 "), strings.Index(plain.String(), "\n  #1 "); top < 0 || base < top {
		t.Errorf("layers not numbered #2 (top) then #1 (base):\n%s", plain.String())
	}
	if !strings.Contains(sourced.String(), "Security (PID 4251)  (../../inspect/testdata/proc/4251/status)") {
		t.Error("--sources does not name /proc/PID/status for the seccomp mode")
	}
	if strings.Contains(plain.String(), "memory.current") || !strings.Contains(sourced.String(), "cgroupfs/v2/glassbox/3f2a9c01b7de/memory.current") {
		t.Error("--sources does not switch the file names on")
	}
}

// inspect of an exited sandbox shows how it ended, field by field, as
// docker inspect's State does — and claims no init process (issue 16, bug 4).
func TestReportExited(t *testing.T) {
	started := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	sb := &state.Sandbox{ID: "3f2a9c01b7de", Name: "web", Image: "calculator", Status: state.Exited, InitPID: 4242,
		Limits: state.Limits{MemoryBytes: 32 << 20}, Started: started, Detached: true, SupervisorPID: 4240,
		Exit: &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true, FinishedAt: started.Add(90 * time.Second)}}
	s := &inspect.Snapshot{Taken: started.Add(time.Hour), Sandbox: sb}
	var out bytes.Buffer
	if err := Report(&out, s, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Sandbox web (3f2a9c01b7de), image calculator, exited", "  status: exited\n",
		"  exit code: 137\n", "  signal: SIGKILL\n", "  OOMKilled: true\n", "  started at: 2026-11-28T15:00:00Z\n",
		"  finished at: 2026-11-28T15:01:30Z (58 minutes ago)\n", "  reason: killed by the OOM killer: memory limit 32 MiB reached\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "init PID") {
		t.Errorf("an exited sandbox has no init process:\n%s", out.String())
	}
	sb.Exit = &state.Exit{NeverStarted: true, FinishedAt: started, Reason: "never started: its supervisor (pid 7) ended before the workload ran"}
	sb.Started = time.Time{}
	out.Reset()
	Report(&out, s, false)
	for _, want := range []string{"  exit: Exited (never started)\n", "  reason: never started: its supervisor (pid 7) ended before the workload ran\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("never started: report lacks %q:\n%s", want, out.String())
		}
	}
}
