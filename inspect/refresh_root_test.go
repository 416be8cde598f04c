package inspect_test

import (
	"os/exec"
	"strconv"
	"testing"

	"glassbox/inspect"
	"glassbox/sandbox/sandboxtest"
)

// TestRootHostnameChange: a hostname set inside the namespace shows at the
// very next snapshot, however recent the last reading was; so does a change
// back, and a sethostname in a namespace of no concern to the Inspector
// leaves its reading right.
func TestRootHostnameChange(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	fs := hostFS(t)
	cg := newTestCgroup(t, fs, testMemLimit)
	pid := startIsolated(t, cg)
	in, err := inspect.ForPID(fs, pid)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	hostname := func(want string) {
		t.Helper()
		s, err := in.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if s.UTS.Hostname != want || s.UTS.HostHostname == "" || s.UTS.HostHostname == want {
			t.Errorf("uts %+v, want hostname %q inside", s.UTS, want)
		}
	}
	set := func(name string) {
		t.Helper()
		if out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-u", "hostname", name).CombinedOutput(); err != nil {
			t.Fatalf("hostname in the test's namespace: %v: %s", err, out)
		}
	}
	hostname("inspect-test")
	hostname("inspect-test")
	set("inspect-renamed")
	hostname("inspect-renamed")
	hostname("inspect-renamed")
	if out, err := exec.Command("unshare", "--uts", "hostname", "inspect-elsewhere").CombinedOutput(); err != nil {
		t.Fatalf("hostname in another namespace: %v: %s", err, out)
	}
	hostname("inspect-renamed")
	set("inspect-test")
	hostname("inspect-test")
}
