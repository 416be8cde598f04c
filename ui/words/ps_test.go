package words

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

func TestStatus(t *testing.T) {
	now := time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		sb   state.Sandbox
		want string
	}{
		{state.Sandbox{Status: state.Created}, "Created"},
		{state.Sandbox{Status: state.Running, Started: now.Add(-3 * time.Minute), Health: state.HealthHealthy}, "Up 3 minutes (healthy)"},
		{state.Sandbox{Status: state.Running, Started: now.Add(-2 * time.Second), Health: state.HealthStarting}, "Up 2 seconds (health: starting)"},
		{state.Sandbox{Status: state.Running, Started: now.Add(-2 * time.Hour), Health: state.HealthUnhealthy}, "Up 2 hours (unhealthy)"},
		{state.Sandbox{Status: state.Running, Started: now.Add(-30 * time.Second)}, "Up 30 seconds"},
		{state.Sandbox{Status: state.Paused, Started: now.Add(-5 * time.Minute), Health: state.HealthHealthy}, "Up 5 minutes (Paused)"},
		{state.Sandbox{Status: state.Exited, Exit: &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true, FinishedAt: now.Add(-2 * time.Minute)}}, "Exited (137, SIGKILL, OOMKilled) 2 minutes ago"},
		{state.Sandbox{Status: state.Exited, Exit: &state.Exit{Code: 0, FinishedAt: now.Add(-10 * time.Second)}}, "Exited (0) 10 seconds ago"},
		{state.Sandbox{Status: state.Exited}, "Exited"},
	} {
		if got := Status(&c.sb, now); got != c.want {
			t.Errorf("Status(%s) = %q, want %q", c.sb.Status, got, c.want)
		}
	}
}

func TestPortsAndLimits(t *testing.T) {
	ports := []state.Port{
		{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp"},
		{HostIP: "0.0.0.0", HostPort: 9090, ContainerPort: 90},
	}
	if got, want := Ports(ports), "127.0.0.1:8000->8000/tcp, 0.0.0.0:9090->90/tcp"; got != want {
		t.Errorf("Ports = %q, want %q", got, want)
	}
	if got := Ports(nil); got != "-" {
		t.Errorf("Ports(nil) = %q, want -", got)
	}
	if got, want := Port(state.Port{HostPort: 8000, ContainerPort: 80}), "127.0.0.1:8000->80/tcp"; got != want {
		t.Errorf("a port without a host address: %q, want %q (the default host address)", got, want)
	}
	if got, want := Port(state.Port{HostIP: "::1", HostPort: 8000, ContainerPort: 80}), "[::1]:8000->80/tcp"; got != want {
		t.Errorf("an IPv6 host address: %q, want %q", got, want)
	}
	for _, c := range []struct {
		l    state.Limits
		want string
	}{
		{state.Limits{}, "no limits"},
		{state.Limits{MemoryBytes: 256 << 20, CPUs: 0.5, PidsLimit: 100}, "memory 256 MiB, cpus 0.5, pids 100"},
		{state.Limits{CPUQuotaUS: 150000, CPUPeriodUS: 100000}, "cpus 1.5"},
		{state.Limits{MemoryBytes: 1 << 30}, "memory 1 GiB"},
	} {
		if got := Limits(c.l); got != c.want {
			t.Errorf("Limits(%+v) = %q, want %q", c.l, got, c.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	now := time.Now()
	sb := &state.Sandbox{
		ID: "3f2a9c01b7de", Name: "calc", Image: "calculator", Status: state.Running,
		Started: now.Add(-3 * time.Minute), Health: state.HealthHealthy, RestartCount: 2,
		RestartedAfter: &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true},
		Limits:         state.Limits{MemoryBytes: 256 << 20, CPUs: 0.5},
		Network:        state.Network{Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp"}}},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, []Summary{Summarize(sb, now)}, false, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("table:\n%s", buf.String())
	}
	for _, want := range []string{"calc", "3f2a9c01b7de", "calculator", "Up 3 minutes (healthy)", "127.0.0.1:8000->8000/tcp", "memory 256 MiB, cpus 0.5", "2 (last after Exited (137, SIGKILL, OOMKilled))"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row %q lacks %q", lines[1], want)
		}
	}
}

func TestRestarts(t *testing.T) {
	for _, c := range []struct {
		sb   state.Sandbox
		want string
	}{
		{state.Sandbox{}, "0"},
		{state.Sandbox{RestartCount: 1, RestartedAfter: &state.Exit{Code: 1}}, "1 (last after Exited (1))"},
		{state.Sandbox{RestartCount: 3, RestartedAfter: &state.Exit{Code: 137, OOMKilled: true}}, "3 (last after Exited (137, OOMKilled))"},
		{state.Sandbox{RestartCount: 2}, "2"}, // a record from before restarted_after was kept
	} {
		if got := Restarts(&c.sb); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sb, got, c.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 512: "512 B", 1023: "1023 B", 1024: "1 KiB", 21<<20 + 450<<10: "21.44 MiB",
		256 << 20: "256 MiB", 3 << 29: "1.5 GiB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestExitReason(t *testing.T) {
	l := state.Limits{MemoryBytes: 32 << 20}
	for _, c := range []struct {
		e    *state.Exit
		want string
	}{
		{nil, ""},
		{&state.Exit{Code: 0}, ""},
		{&state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true}, "killed by the OOM killer: memory limit 32 MiB reached"},
		{&state.Exit{Code: 255, Reason: "lost the workload: boom"}, "lost the workload: boom"},
	} {
		if got := ExitReason(c.e, l); got != c.want {
			t.Errorf("ExitReason(%+v) = %q, want %q", c.e, got, c.want)
		}
	}
}

// ps fits 100 columns, as docker's does, cutting the longest cells with
// "…"; --no-trunc (width 0) prints every cell whole.
func TestWriteTableFits100Columns(t *testing.T) {
	now := time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)
	running := &state.Sandbox{
		ID: "3f2a9c01b7de", Name: "calculator-for-the-whole-class", Image: "calculator", Status: state.Running,
		Started: now.Add(-2 * time.Second), Health: state.HealthStarting, RestartCount: 2,
		RestartedAfter: &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true},
		Limits:         state.Limits{MemoryBytes: 256 << 20, CPUs: 0.5, PidsLimit: 100},
		Network: state.Network{Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: 18401, ContainerPort: 8000, Proto: "tcp"},
			{HostIP: "0.0.0.0", HostPort: 9090, ContainerPort: 9090, Proto: "tcp"}}},
	}
	killed := &state.Sandbox{
		ID: "9b1c77d04e21", Name: "calc2", Image: "course:v1", Status: state.Exited,
		Exit:   &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true, FinishedAt: now.Add(-2 * time.Minute)},
		Limits: state.Limits{MemoryBytes: 32 << 20},
	}
	rows := []Summary{Summarize(running, now), Summarize(killed, now)}
	var cut, whole bytes.Buffer
	if err := WriteTable(&cut, rows, false, PsWidth); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(&whole, rows, false, 0); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSuffix(cut.String(), "\n"), "\n") {
		if n := len([]rune(l)); n > PsWidth {
			t.Errorf("line %d is %d columns, over %d:\n%s", i, n, PsWidth, cut.String())
		}
	}
	for _, s := range []string{"3f2a9c01b7de", "9b1c77d04e21", "2 OOM", "Exited (137, OOMKilled)", "Up 2 seconds (health: sta", "18401->8000", "…"} {
		if !strings.Contains(cut.String(), s) {
			t.Errorf("the cut table lacks %q:\n%s", s, cut.String())
		}
	}
	for _, s := range []string{"calculator-for-the-whole-class", "Up 2 seconds (health: starting)", "127.0.0.1:18401->8000/tcp, 0.0.0.0:9090->9090/tcp",
		"memory 256 MiB, cpus 0.5, pids 100", "2 (last after Exited (137, SIGKILL, OOMKilled))", "Exited (137, SIGKILL, OOMKilled) 2 minutes ago"} {
		if !strings.Contains(whole.String(), s) {
			t.Errorf("--no-trunc lacks %q:\n%s", s, whole.String())
		}
	}
	t.Logf("cut:\n%s\nwhole:\n%s", cut.String(), whole.String())

	// A typical sandbox fits whole but for its limits: the status (what
	// ps is read for) is cut last, the address every port has left out.
	paused := &state.Sandbox{
		ID: "1c1aafa0f7dc", Name: "calc-3719520466", Image: "calculator", Status: state.Paused, Started: now.Add(-5 * time.Second),
		Health: state.HealthHealthy, Limits: state.Limits{MemoryBytes: 256 << 20, CPUs: 0.5, PidsLimit: 100},
		Network: state.Network{Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: 35821, ContainerPort: 8000, Proto: "tcp"}}},
	}
	var one bytes.Buffer
	if err := WriteTable(&one, []Summary{Summarize(paused, now)}, false, PsWidth); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"calc-3719520466", "calculator", "Up 5 seconds (Paused)", "  35821->8000  ", "256MiB"} {
		if !strings.Contains(one.String(), s) {
			t.Errorf("the table of a paused sandbox lacks %q:\n%s", s, one.String())
		}
	}
}

func TestShellEnded(t *testing.T) {
	for code, want := range map[int]string{
		0:   "shell (glassbox exec -it calc sh) ended",
		-1:  "shell (glassbox exec -it calc sh) ended",
		1:   "shell (glassbox exec -it calc sh) ended: exit 1",
		127: "shell (glassbox exec -it calc sh) ended: exit 127 (no sh in this image?)",
	} {
		if got := ShellEnded("calc", code); got != want {
			t.Errorf("ShellEnded(calc, %d) = %q, want %q", code, got, want)
		}
	}
}
