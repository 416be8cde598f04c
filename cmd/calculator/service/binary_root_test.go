package service

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// As PID 1 of a new PID namespace (no parent inside, signals without a
// handler dropped by the kernel) it still shuts down on SIGTERM.
func TestBinaryAsPID1(t *testing.T) {
	sandboxtest.RequireRoot(t)
	r := startWith(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}, []string{calculatorBinary(t)})
	var in Info
	if code := getJSON(t, r.base+"/info", &in); code != 200 || in.ProcessID != 1 || in.ParentProcessID != 0 {
		t.Errorf("/info in a PID namespace: %d pid %d ppid %d, want 1 and 0", code, in.ProcessID, in.ParentProcessID)
	}
	if self, _ := os.Readlink("/proc/self/ns/pid"); in.Namespaces["pid"] == 0 || strings.Contains(self, strconv.FormatUint(in.Namespaces["pid"], 10)) {
		t.Errorf("pid namespace %d is the host's (%s)", in.Namespaces["pid"], self)
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t); code != 0 {
		t.Errorf("exit %d after SIGTERM as PID 1", code)
	}
}
