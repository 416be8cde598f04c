package sandboxtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

// firewallView is what a dockerd changes on the host, in a form two runs can
// compare: the iptables rules without counters, the iptables tables that
// nftables shows, the sysctls and docker0.
func firewallView(t *testing.T) map[string]string {
	t.Helper()
	view := map[string]string{}
	counters := regexp.MustCompile(`\[\d+:\d+\]`)
	for _, cmd := range iptablesCommands() {
		out, err := exec.Command(cmd + "-save").Output()
		if err != nil {
			t.Fatalf("%s-save: %v", cmd, err)
		}
		var keep []string
		for _, l := range strings.Split(string(out), "\n") {
			// glassbox's own chain is left out: its rules come and go
			// with the bridges of glassbox tests that run meanwhile in
			// other packages, and the restore keeps them as they are
			// (TestRestoreKeepsGlassboxRules).
			if !strings.HasPrefix(l, "#") && !isGlassboxRule(l) {
				keep = append(keep, counters.ReplaceAllString(l, ""))
			}
		}
		view[cmd] = strings.Join(keep, "\n")
	}
	var tables []string
	all, _ := nftTables()
	for _, tb := range all {
		family, name, _ := strings.Cut(tb, " ")
		if (family == "ip" || family == "ip6") && iptablesTable[name] {
			tables = append(tables, tb)
		}
	}
	view["nft tables"] = strings.Join(tables, ", ")
	for _, f := range dockerSysctls {
		view[f] = strings.TrimSpace(readString(f))
	}
	_, err := os.Stat("/sys/class/net/docker0")
	view["docker0 exists"] = boolString(err == nil)
	_, err = os.Stat("/etc/docker/key.json")
	view["/etc/docker/key.json exists"] = boolString(err == nil)
	for _, p := range dockerCgroupParents() {
		view[p] = "exists"
	}
	return view
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func compareViews(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: before the dockerd\n%s\nafter its clean-up\n%s", k, v, after[k])
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: left after the clean-up: %s", k, v)
		}
	}
}

// holdDockerdLock takes the kit's lock for the whole test, so that the
// host seen before and after is not another test's dockerd's.
func holdDockerdLock(t *testing.T) *os.File {
	t.Helper()
	for _, p := range []string{DockerdPath, "iptables-save"} {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, p, "apt-get install docker.io")
		}
	}
	lock, err := lockDockerd(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	return lock
}

func TestDockerdRunsAndLeavesTheHostAsItWas(t *testing.T) {
	RequireRoot(t)
	lock := holdDockerdLock(t)
	before := firewallView(t)
	bridge := fmt.Sprintf("gbkit%d", os.Getpid()%100000)
	created := false
	t.Cleanup(func() {
		exec.Command("iptables", "-D", state.IptablesChain, "-i", bridge, "-o", bridge, "-j", "ACCEPT").Run()
		if created {
			exec.Command("iptables", "-X", state.IptablesChain).Run() // if no one else's rules came meanwhile
		}
	})
	var dir string
	t.Run("with dockerd", func(t *testing.T) {
		d := startDockerd(t, &Docker{lock: lock})
		dir = d.Dir
		if out := firewallView(t)["iptables"]; !strings.Contains(out, ":FORWARD DROP") || !strings.Contains(out, "DOCKER-USER") {
			t.Errorf("dockerd's rules are not in place:\n%s", out)
		}
		if v := strings.TrimSpace(readString("/proc/sys/net/bridge/bridge-nf-call-iptables")); v != "1" {
			t.Errorf("bridge-nf-call-iptables = %q with dockerd running, want 1", v)
		}
		if v := d.Run(t, "version", "--format", "{{.Server.Version}}"); !strings.HasPrefix(v, "20.10") {
			t.Errorf("dockerd version %q, want Debian's 20.10", v)
		}
		img := d.ImportBusybox(t)
		// PID 1 of a container ignores SIGTERM unless it handles it: this one
		// does, so that the restart below does not wait docker's 10 s.
		d.Run(t, "run", "-d", "--name", "kit-test", img, "sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait")
		if st := d.Run(t, "inspect", "-f", "{{.State.Status}}", "kit-test"); st != "running" {
			t.Fatalf("container state %q", st)
		}
		if _, err := os.Stat(d.ContainerdSocket); err != nil {
			t.Errorf("containerd socket: %v", err)
		}
		// containerd's goroutine dump (what dockerd asks for before it
		// kills a containerd slow to stop) lands in the kit's directory.
		if pid := readPid(filepath.Join(d.ExecRoot, "containerd", "containerd.pid")); pid <= 0 {
			t.Error("no containerd.pid")
		} else if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
			t.Errorf("SIGUSR1 to containerd: %v", err)
		} else {
			name := fmt.Sprintf("containerd.%d.stacks.log", pid)
			kept := filepath.Join(d.Dir, "tmp", name)
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(kept); err == nil {
					break
				}
				if time.Now().After(end) {
					t.Errorf("containerd's goroutine dump is not at %s", kept)
					break
				}
			}
			if stray := filepath.Join(os.TempDir(), name); stray != kept {
				if _, err := os.Stat(stray); err == nil {
					os.Remove(stray)
					t.Errorf("containerd's goroutine dump went to %s", stray)
				}
			}
		}
		d.Restart(t)
		if out := d.Run(t, "ps", "-a", "--format", "{{.Names}}"); out != "kit-test" {
			t.Errorf("after a restart docker ps -a says %q", out)
		}
		// A container left running: the clean-up must remove it.
		d.Run(t, "start", "kit-test")
		// A bridge another test sets up meanwhile: its rule stays.
		created = iptablesOK(t, "-N", state.IptablesChain) // exists already, or now
		iptablesOK(t, "-A", state.IptablesChain, "-i", bridge, "-o", bridge, "-j", "ACCEPT")
	})
	if err := exec.Command("iptables", "-C", state.IptablesChain, "-i", bridge, "-o", bridge, "-j", "ACCEPT").Run(); err != nil {
		t.Errorf("the restore took the rule of a bridge set up while dockerd ran: %v", err)
	}
	exec.Command("iptables", "-D", state.IptablesChain, "-i", bridge, "-o", bridge, "-j", "ACCEPT").Run()
	compareViews(t, before, firewallView(t))
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s is still there", dir)
	}
	if pids := processesMentioning(dir); len(pids) > 0 {
		t.Errorf("processes of the dockerd are still running: %v", pids)
	}
	if s := strings.TrimSpace(readString(DockerdLock)); s != "" {
		t.Errorf("%s still names %q", DockerdLock, s)
	}
}

// A test process killed with its dockerd running (^C twice, a timeout, kill
// -9) cannot clean up: the next Dockerd does it, from the record in the lock.
// The helper process is that test: it runs its dockerd under the lock this
// test holds (inherited, so that no other test on the machine takes the
// lock when the helper dies and cleans up first), and is killed.
func TestDockerdCleansUpAfterAKilledTest(t *testing.T) {
	if os.Getenv("GLASSBOX_DOCKERD_HELPER") == "1" {
		d := startDockerd(t, &Docker{lock: os.NewFile(3, DockerdLock), ownsLock: true})
		d.Run(t, "run", "-d", d.ImportBusybox(t), "sleep", "600")
		os.Stdout.WriteString("ready " + d.Dir + "\n")
		time.Sleep(time.Hour)
		return
	}
	RequireRoot(t)
	HostOnly(t, "the kit's recovery after a killed test (TestDockerdRunsAndLeavesTheHostAsItWas checks its clean-up on cgroup v2)")
	lock := holdDockerdLock(t)
	before := firewallView(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestDockerdCleansUpAfterAKilledTest$", "-test.v")
	helper.Env = append(os.Environ(), "GLASSBOX_DOCKERD_HELPER=1")
	helper.ExtraFiles = []*os.File{lock}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if d, ok := strings.CutPrefix(lines.Text(), "ready "); ok {
			dir = d
			break
		}
	}
	helper.Process.Signal(syscall.SIGKILL)
	helper.Wait()
	if dir == "" {
		t.Fatal("the helper did not start its dockerd")
	}
	if len(processesMentioning(dir)) == 0 {
		t.Fatalf("the killed helper's dockerd is not running: nothing to clean up")
	}
	// What the next holder of the lock does first.
	cleanUpAfterPrevious(t, lock)
	// It lets go of the record, though it may start no dockerd itself
	// (WithoutDockerd): the leak check would report it.
	if s := strings.TrimSpace(readString(DockerdLock)); s != "" {
		t.Errorf("after the clean-up %s still names %q", DockerdLock, s)
	}
	t.Run("next dockerd", func(t *testing.T) {
		d := startDockerd(t, &Docker{lock: lock})
		if out := d.Run(t, "ps", "-aq"); out != "" {
			t.Errorf("a fresh dockerd has containers: %s", out)
		}
	})
	compareViews(t, before, firewallView(t))
	if pids := processesMentioning(dir); len(pids) > 0 {
		t.Errorf("processes of the killed test's dockerd are still running: %v", pids)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s is still there", dir)
	}
}

// iptablesOK runs iptables and says whether it changed something; an error
// for a chain that exists already is no failure.
func iptablesOK(t *testing.T, args ...string) bool {
	t.Helper()
	out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "already exists") {
		t.Fatalf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return err == nil
}
