package sandboxtest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopLeftoverSupervisors ends the supervisors still serving sandboxes of
// the state root dir when its test is over, and fails the test for each: a
// test must remove what it starts. Without this, removing the root's files
// under a live supervisor leaves it running for good, rewriting a lone
// state.json and holding a cgroup, a veth and a port. SIGTERM makes a
// supervisor stop its sandbox as `glassbox stop` would and release
// everything; SIGKILL follows if it has not exited after the stop's grace.
func stopLeftoverSupervisors(t testing.TB, dir string) {
	runDir := filepath.Join(dir, "run")
	pids := supervisorsOf(runDir)
	// A supervisor whose sandbox was just removed may still be on its way
	// out: give it a moment before calling it left behind.
	for deadline := time.Now().Add(2 * time.Second); len(pids) > 0 && time.Now().Before(deadline); pids = supervisorsOf(runDir) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(pids) == 0 {
		return
	}
	t.Errorf("the test left %d sandbox supervisor(s) running under %s (pids %v): remove what the test starts", len(pids), dir, pids)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// supervisorsOf lists the supervisors of sandboxes of the state root whose
// runtime directory is runDir: from its handoff on (a hosted one: once its
// `run -d` has printed the id), a supervisor's stdout is the sandbox's
// supervisor.log there (before it, /dev/null, a nameless file of that
// directory's, or the caller's).
func supervisorsOf(runDir string) []int {
	return SupervisorsWhere(func(pid int) bool {
		out, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", "1"))
		return err == nil && strings.HasPrefix(out, runDir+"/")
	})
}

// SupervisorsWhere lists the live supervisors for which match says yes:
// processes running `glassbox supervise`, or a `glassbox run -d` that
// hosts its sandbox's supervisor itself (lifecycle/hosted.go).
func SupervisorsWhere(match func(pid int) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !alive(pid) {
			continue
		}
		args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
		if !slices.ContainsFunc(args[1:], func(a []byte) bool { return string(a) == "supervise" || string(a) == "run" }) {
			continue
		}
		if match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
