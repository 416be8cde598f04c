package inspect_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestRootHostnameAfterMove: a process that moves to another UTS namespace
// has the hostname of that one shown, from the next full re-read on.
func TestRootHostnameAfterMove(t *testing.T) {
	sandboxtest.RequireRoot(t)
	defer inspect.SetSlowRefresh(0)()
	fs := hostFS(t)
	inner := `trap 'exec unshare --uts sh -c "hostname inspect-moved && exec sleep 300"' USR1; hostname inspect-first; echo ready; while :; do sleep 0.02; done`
	cmd, in := startShellInspected(t, fs, "unshare --uts", inner)
	pid := cmd.Process.Pid
	hostname := func(want string) {
		t.Helper()
		s, err := in.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if s.UTS.Hostname != want {
			t.Errorf("uts %+v, want hostname %q inside", s.UTS, want)
		}
	}
	hostname("inspect-first")
	uts := nsInode(t, fmt.Sprintf("/proc/%d/ns/uts", pid))
	cmd.Process.Signal(syscall.SIGUSR1)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-u", "hostname").Output(); nsInode(t, fmt.Sprintf("/proc/%d/ns/uts", pid)) != uts && strings.TrimSpace(string(b)) == "inspect-moved" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the process did not move to a new UTS namespace")
		}
	}
	hostname("inspect-moved")
	hostname("inspect-moved")
}

// TestRootSettledProcessLeavesItsNamespaces: a process that cannot move
// itself between namespaces without a user namespace of its own (no
// CAP_SYS_ADMIN, no_new_privs) has its links read again whole once it
// does; a process with CAP_SYS_ADMIN has them read whole on every full
// re-read. Either's move shows at the next one.
func TestRootSettledProcessLeavesItsNamespaces(t *testing.T) {
	sandboxtest.RequireRoot(t)
	defer inspect.SetSlowRefresh(0)()
	fs := hostFS(t)
	settle := "setpriv --no-new-privs --inh-caps=-all --bounding-set=-all --reuid=65534 --regid=65534 --clear-groups"
	if out, err := exec.Command("sh", "-c", settle+" unshare --user --uts true").CombinedOutput(); err != nil {
		t.Skipf("a process without privileges cannot make a user namespace here: %v: %s", err, out)
	}
	for _, tc := range []struct {
		name, prefix string
		unshare      string
	}{
		{"settled", settle, "unshare --user --uts"},
		{"with CAP_SYS_ADMIN", "", "unshare --uts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The shell moves itself when told (SIGUSR1): exec keeps its PID.
			inner := `trap 'exec ` + tc.unshare + ` sleep 300' USR1; echo ready; while :; do sleep 0.02; done`
			cmd, in := startShellInspected(t, fs, tc.prefix, inner)
			pid := cmd.Process.Pid
			check := func(when string) {
				t.Helper()
				s, err := in.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]uint64{}
				for _, n := range s.Namespaces {
					seen[n.Kind] = n.Inode
				}
				for _, k := range []string{"user", "uts", "net", "pid"} {
					want := nsInode(t, fmt.Sprintf("/proc/%d/ns/%s", pid, k))
					if seen[k] != want {
						t.Errorf("%s: %s namespace %d, the link says %d", when, k, seen[k], want)
					}
				}
			}
			for i := range 3 {
				check(fmt.Sprintf("reading %d", i+1))
			}
			user := nsInode(t, fmt.Sprintf("/proc/%d/ns/user", pid))
			uts := nsInode(t, fmt.Sprintf("/proc/%d/ns/uts", pid))
			cmd.Process.Signal(syscall.SIGUSR1)
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if nsInode(t, fmt.Sprintf("/proc/%d/ns/uts", pid)) != uts {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the process did not move to a new UTS namespace")
				}
			}
			if tc.prefix == "" && nsInode(t, fmt.Sprintf("/proc/%d/ns/user", pid)) != user {
				t.Fatal("the process with CAP_SYS_ADMIN left its user namespace: the case tests nothing")
			}
			check("after the move")
			check("after the move, again")
		})
	}
}

// nsInode is the inode a namespace link names.
func nsInode(t *testing.T, link string) uint64 {
	t.Helper()
	l := readlinkPath(t, link)
	i := strings.Index(l, ":[")
	if i < 0 {
		t.Fatalf("%s: %q", link, l)
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(l[i+2:], "]"), 10, 64)
	if err != nil {
		t.Fatalf("%s: %q", link, l)
	}
	return n
}

// startShellInspected runs the shell script inner, through prefix (a
// command that execs what follows it, or ""), in a test cgroup of its own;
// once the script has said "ready" it returns the process (killed at the
// test's end) and an Inspector on it (closed then too).
func startShellInspected(t *testing.T, fs inspect.FS, prefix, inner string) (*exec.Cmd, *inspect.Inspector) {
	t.Helper()
	cg := newTestCgroup(t, fs, testMemLimit)
	script := `for f; do echo $$ > "$f"; done; exec ` + prefix + ` sh -c "$0"`
	cmd := exec.Command("sh", append([]string{"-c", script, inner}, cg.procs...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if _, err := out.Read(make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	in, err := inspect.ForPID(fs, cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return cmd, in
}
