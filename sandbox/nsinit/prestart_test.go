package nsinit

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// This test binary is itself what prestart.c sees: run as `run -d …` its
// constructor starts `/proc/self/exe supervise`, that is, this binary
// again. TestMain plays both parts and reports what each saw.
func TestMain(m *testing.M) {
	report := os.Getenv("GB_TEST_PRESTART_REPORT")
	if report != "" {
		if len(os.Args) > 1 && os.Args[1] == "supervise" {
			os.Exit(fakeSupervisor(report))
		}
		os.Exit(fakeCLI(report))
	}
	os.Exit(m.Run())
}

// prestartSeen is what the supervisor saw of itself, and the CLI of it.
type prestartSeen struct {
	// the supervisor
	OwnSession bool     `json:"own_session"`
	Cwd        string   `json:"cwd"`
	Stdio      []string `json:"stdio"`
	SocketFD3  bool     `json:"socket_fd3"`
	FDs        []string `json:"fds"`
	// the CLI
	Started    bool `json:"started"`
	CloseOnExe bool `json:"close_on_exec"`
	Once       bool `json:"once"`
	EndedOnEOF bool `json:"ended_on_eof"`
}

func fakeSupervisor(report string) int {
	var s prestartSeen
	s.OwnSession, _ = func() (bool, error) { sid, err := unix.Getsid(0); return sid == os.Getpid(), err }()
	s.Cwd, _ = os.Getwd()
	for fd := 0; fd <= 2; fd++ {
		l, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		s.Stdio = append(s.Stdio, l)
	}
	var st unix.Stat_t
	s.SocketFD3 = unix.Fstat(3, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if n, _ := strconv.Atoi(e.Name()); n > 3 {
			if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
				s.FDs = append(s.FDs, l)
			}
		}
	}
	b, _ := json.Marshal(s)
	os.WriteFile(filepath.Join(report, "supervisor.json.tmp"), b, 0o600)
	os.Rename(filepath.Join(report, "supervisor.json.tmp"), filepath.Join(report, "supervisor.json"))
	// Wait for the handoff, as the real one: EOF ends it.
	buf := make([]byte, 1)
	for {
		n, err := unix.Read(3, buf)
		if n == 0 && err == nil {
			return 0
		}
		if err != unix.EINTR {
			return 3
		}
	}
}

func fakeCLI(report string) int {
	var s prestartSeen
	pid, fd := PrestartedSupervisor()
	if fd >= 0 {
		s.Started = true
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		s.CloseOnExe = err == nil && flags&unix.FD_CLOEXEC != 0 && fd > 2
		_, again := PrestartedSupervisor()
		s.Once = again < 0
		// What the supervisor saw, once it has looked.
		path := filepath.Join(report, "supervisor.json")
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(path); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		var sup prestartSeen
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &sup) == nil {
			s.OwnSession, s.Cwd, s.Stdio, s.SocketFD3, s.FDs = sup.OwnSession, sup.Cwd, sup.Stdio, sup.SocketFD3, sup.FDs
		}
		unix.Close(fd)
		var ws unix.WaitStatus
		_, err = unix.Wait4(pid, &ws, 0, nil)
		s.EndedOnEOF = err == nil && ws.Exited() && ws.ExitStatus() == 0
	}
	json.NewEncoder(os.Stdout).Encode(s)
	return 0
}

// runPrestart runs this binary with args, a descriptor of the caller's
// (not close-on-exec) in tow, and returns what both parts saw.
func runPrestart(t *testing.T, args ...string) prestartSeen {
	t.Helper()
	leak, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GB_TEST_PRESTART_REPORT="+t.TempDir())
	cmd.ExtraFiles = []*os.File{leak, leak}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	var s prestartSeen
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v: %q: %v", args, out, err)
	}
	return s
}

// `glassbox run -d` starts its supervisor before the Go runtime: in a
// session of its own, in /, its stdio /dev/null (not the caller's pipes:
// `id=$(glassbox run -d …)` must not wait for it), the socket as fd 3 and
// nothing else of the caller's; the CLI gets its end close-on-exec, once;
// EOF on it ends the supervisor. Anything else starts none.
func TestPrestartStartsTheSupervisorOfADetachedRun(t *testing.T) {
	if !Available() {
		t.Skip("built without cgo: no constructor")
	}
	s := runPrestart(t, "run", "-d", "calculator")
	if !s.Started {
		t.Fatal("run -d: no supervisor was started")
	}
	if !s.OwnSession || s.Cwd != "/" || !s.SocketFD3 {
		t.Errorf("supervisor: own session %v, cwd %q, socket as fd 3 %v; want true, /, true", s.OwnSession, s.Cwd, s.SocketFD3)
	}
	for fd, l := range s.Stdio {
		if l != "/dev/null" {
			t.Errorf("supervisor's fd %d is %s, want /dev/null", fd, l)
		}
	}
	self, _ := os.Readlink("/proc/self/exe")
	if slices.Contains(s.FDs, self) {
		t.Errorf("the supervisor holds the caller's descriptor of %s (its descriptors above 3: %v)", self, s.FDs)
	}
	if !s.CloseOnExe || !s.Once || !s.EndedOnEOF {
		t.Errorf("CLI's end close-on-exec above 2 %v, taken once %v, EOF ends it %v: want all true", s.CloseOnExe, s.Once, s.EndedOnEOF)
	}
	for _, args := range [][]string{{"run", "calculator"}, {"run", "calculator", "-d"}, {"ps", "-d"}} {
		if s := runPrestart(t, args...); s.Started {
			t.Errorf("%v started a supervisor", args)
		}
	}
}
