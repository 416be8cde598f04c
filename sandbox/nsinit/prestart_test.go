package nsinit

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// This test binary is itself what prestart.c sees: run as `run -d …` its
// constructor splits off the front, and the child comes here as the CLI
// would. TestMain plays the CLI: it reports what it saw, then ends as
// GB_TEST_PRESTART_END says.
func TestMain(m *testing.M) {
	if report := os.Getenv("GB_TEST_PRESTART_REPORT"); report != "" {
		os.Exit(fakeCLI(report, os.Getenv("GB_TEST_PRESTART_END")))
	}
	os.Exit(m.Run())
}

// prestartSeen is what the CLI's process saw of itself.
type prestartSeen struct {
	PID, PPID  int
	Front      bool
	OwnSession bool
	CloseOnExe bool
	Once       bool
	Stdout     string
}

// fakeCLI reports, then ends: "status" writes 7 on the front's pipe as
// DetachHostedSupervisor does (and lives on a moment, as a supervisor
// would); "exit" exits 5 with the pipe unwritten, as a refused request
// does; "kill" dies of SIGKILL.
func fakeCLI(report, end string) int {
	s := prestartSeen{PID: os.Getpid(), PPID: os.Getppid()}
	sid, err := unix.Getsid(0)
	s.OwnSession = err == nil && sid == s.PID
	s.Stdout, _ = os.Readlink("/proc/self/fd/1")
	front := Front()
	if front != nil {
		s.Front = true
		flags, err := unix.FcntlInt(front.Fd(), unix.F_GETFD, 0)
		s.CloseOnExe = err == nil && flags&unix.FD_CLOEXEC != 0 && front.Fd() > 2
		s.Once = Front() == nil
	}
	b, _ := json.Marshal(s)
	os.WriteFile(filepath.Join(report, "seen.json.tmp"), b, 0o600)
	os.Rename(filepath.Join(report, "seen.json.tmp"), filepath.Join(report, "seen.json"))
	switch end {
	case "status":
		if front != nil {
			// As the real one: the caller's stdio let go of first.
			null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			for fd := 0; fd <= 2; fd++ {
				unix.Dup2(int(null.Fd()), fd)
			}
			front.Write([]byte{7})
			front.Close()
			time.Sleep(time.Second)
		}
		return 0
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return 5
}

// runPrestart runs this binary with args and returns what its CLI process
// saw, the PID of the process it started, and that process's exit status
// and how long it took.
func runPrestart(t *testing.T, end string, args ...string) (prestartSeen, int, int, time.Duration) {
	t.Helper()
	report := t.TempDir()
	out, err := os.Create(filepath.Join(report, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stdout = out
	cmd.Env = append(os.Environ(), "GB_TEST_PRESTART_REPORT="+report, "GB_TEST_PRESTART_END="+end)
	t0 := time.Now()
	err = cmd.Run()
	took := time.Since(t0)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%v: %v", args, err)
	}
	var s prestartSeen
	b, err := os.ReadFile(filepath.Join(report, "seen.json"))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		t.Fatalf("%v: what the CLI saw: %v", args, err)
	}
	return s, cmd.Process.Pid, cmd.ProcessState.ExitCode(), took
}

// `glassbox run -d` is split before the Go runtime: the process the caller
// started stays a front that runs no Go and returns the status the CLI's
// process writes on its pipe — without waiting for that process, which goes
// on as the supervisor — or, when it writes none, that process's own exit
// status. The CLI runs in a child, in a session of its own (the terminal's
// signals are the front's), with the caller's stdio, and the pipe
// close-on-exec, once. Anything else is not split.
func TestPrestartSplitsADetachedRun(t *testing.T) {
	if !Available() {
		t.Skip("built without cgo: no constructor")
	}
	s, front, code, took := runPrestart(t, "status", "run", "-d", "calculator")
	if !s.Front {
		t.Fatal("run -d: the CLI's process has no front")
	}
	if s.PID == front || s.PPID != front {
		t.Errorf("the CLI ran as PID %d, child of %d; want a child of the started process %d", s.PID, s.PPID, front)
	}
	if !s.OwnSession || !s.CloseOnExe || !s.Once {
		t.Errorf("own session %v, pipe close-on-exec above 2 %v, taken once %v: want all true", s.OwnSession, s.CloseOnExe, s.Once)
	}
	if filepath.Base(s.Stdout) != "stdout" {
		t.Errorf("the CLI's stdout is %q: want the caller's", s.Stdout)
	}
	if code != 7 {
		t.Errorf("the front exited %d, want the 7 written on its pipe", code)
	}
	if took >= time.Second {
		t.Errorf("the front took %s: it waited for the CLI's process, which lives on for 1s", took)
	}
	if _, _, code, _ := runPrestart(t, "exit", "run", "-d", "calculator"); code != 5 {
		t.Errorf("a CLI that exits 5 without a word: the front exited %d", code)
	}
	if _, _, code, _ := runPrestart(t, "kill", "--root", "/tmp/x", "run", "--name", "a", "-d", "calculator"); code != 128+int(syscall.SIGKILL) {
		t.Errorf("a CLI killed by SIGKILL: the front exited %d, want %d", code, 128+int(syscall.SIGKILL))
	}
	for _, args := range [][]string{{"run", "calculator"}, {"run", "calculator", "-d"}, {"ps", "-d"}} {
		s, started, code, _ := runPrestart(t, "exit", args...)
		if s.Front || s.PID != started || code != 5 {
			t.Errorf("%v: front %v, the CLI ran as PID %d of the started %d, exit %d: want no split, exit 5", args, s.Front, s.PID, started, code)
		}
	}
}
