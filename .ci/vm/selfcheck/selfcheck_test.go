// Package selfcheck proves that the cgroup v2 VM is what it claims to be
// before the project's own tests run there: cgroup2 at /sys/fs/cgroup with
// the memory, cpu and pids controllers enabled, a memory.max that really
// OOM-kills, a pids.max that really refuses forks, overlayfs, and a veth pair
// into a network namespace. It lives under .ci/ (which `./...` skips): it is
// built and run only by .ci/cgroup-v2, inside the VM.
package selfcheck

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const root = "/sys/fs/cgroup"

func requireVM(t *testing.T) {
	t.Helper()
	if os.Getenv("GLASSBOX_VM") != "1" || os.Geteuid() != 0 {
		t.Skip("runs only inside the cgroup v2 VM (GLASSBOX_VM=1, as root)")
	}
}

func TestCgroup2IsTheOnlyHierarchy(t *testing.T) {
	requireVM(t)
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		t.Fatalf("statfs %s: %v", root, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("%s is filesystem type %#x, want cgroup2 (%#x)", root, st.Type, unix.CGROUP2_SUPER_MAGIC)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Split(line, " - "); len(f) == 2 && strings.HasPrefix(f[1], "cgroup ") {
			t.Errorf("a cgroup v1 hierarchy is mounted: %s", line)
		}
	}
	enabled := strings.Fields(read(t, filepath.Join(root, "cgroup.subtree_control")))
	for _, want := range []string{"cpu", "memory", "pids"} {
		if !contains(enabled, want) {
			t.Errorf("controller %s not enabled in the root cgroup.subtree_control (%v)", want, enabled)
		}
	}
}

func TestMemoryMaxOOMKills(t *testing.T) {
	requireVM(t)
	dir := newCgroup(t, "ci-selfcheck-oom")
	write(t, filepath.Join(dir, "memory.max"), "32M")
	write(t, filepath.Join(dir, "memory.swap.max"), "0")
	if got := event(t, dir, "memory.events", "oom_kill"); got != 0 {
		t.Fatalf("oom_kill before = %d, want 0", got)
	}
	// tail keeps the last line in memory; /dev/zero has no newline, so it
	// grows until the cgroup's limit stops it.
	err := runIn(t, dir, "tail", "/dev/zero")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("tail /dev/zero under memory.max=32M: %v, want killed by SIGKILL", err)
	}
	if got := event(t, dir, "memory.events", "oom_kill"); got != 1 {
		t.Fatalf("memory.events oom_kill after = %d, want 1", got)
	}
}

func TestPidsMaxRefusesForks(t *testing.T) {
	requireVM(t)
	dir := newCgroup(t, "ci-selfcheck-pids")
	write(t, filepath.Join(dir, "pids.max"), "3")
	// The shell is 1 pid; it starts 5 sleeps in the background: the 3rd fails.
	err := runIn(t, dir, "sh", "-c", "for i in 1 2 3 4 5; do sleep 1 & done; wait")
	if got := event(t, dir, "pids.events", "max"); got == 0 {
		t.Fatalf("pids.events max = 0 after forking past pids.max=3 (sh: %v)", err)
	}
}

func TestOverlayTwoLowers(t *testing.T) {
	requireVM(t)
	dir := t.TempDir()
	for _, d := range []string{"lower1", "lower2", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "lower1", "a"), "from lower1")
	write(t, filepath.Join(dir, "lower2", "a"), "from lower2")
	write(t, filepath.Join(dir, "lower2", "b"), "b")
	merged := filepath.Join(dir, "merged")
	opts := "lowerdir=" + dir + "/lower1:" + dir + "/lower2,upperdir=" + dir + "/upper,workdir=" + dir + "/work"
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay on %s: %v", merged, err)
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	if got := read(t, filepath.Join(merged, "a")); got != "from lower1" {
		t.Fatalf("merged a = %q, want the upper lower's file", got)
	}
	write(t, filepath.Join(merged, "a"), "copied up")
	if got := read(t, filepath.Join(dir, "upper", "a")); got != "copied up" {
		t.Fatalf("upper a = %q after a write through the overlay", got)
	}
	if err := os.Remove(filepath.Join(merged, "b")); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "upper", "b"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Fatalf("no whiteout (char 0:0) in upper for a removed lower file: %v mode %o", err, st.Mode)
	}
}

func TestVethIntoNetns(t *testing.T) {
	requireVM(t)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", "ci-selfcheck")
	t.Cleanup(func() { exec.Command("ip", "netns", "del", "ci-selfcheck").Run() })
	ip("link", "add", "ci-br0", "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", "ci-br0").Run() })
	ip("link", "add", "ci-v0", "type", "veth", "peer", "name", "eth0", "netns", "ci-selfcheck")
	ip("link", "set", "ci-v0", "master", "ci-br0", "up")
	ip("addr", "add", "10.231.0.1/24", "dev", "ci-br0")
	ip("link", "set", "ci-br0", "up")
	ip("-n", "ci-selfcheck", "addr", "add", "10.231.0.2/24", "dev", "eth0")
	ip("-n", "ci-selfcheck", "link", "set", "eth0", "up")
	ip("-n", "ci-selfcheck", "link", "set", "lo", "up")
	// Reach the bridge from inside the namespace over TCP: a listener on the
	// host side, a connect from the namespace.
	ln, err := net.Listen("tcp", "10.231.0.1:0")
	if err != nil {
		t.Fatalf("listen on the bridge: %v", err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, err := exec.Command("ip", "netns", "exec", "ci-selfcheck", "bash", "-c",
		"echo -n hello >/dev/tcp/10.231.0.1/"+port).CombinedOutput()
	if err != nil {
		t.Fatalf("connect from the namespace to the bridge: %v: %s", err, out)
	}
	if s := <-got; s != "hello" {
		t.Fatalf("the host side received %q, want hello", s)
	}
}

func newCgroup(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("create cgroup: %v", err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		for i := 0; i < 100; i++ {
			if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
				return
			}
			unix.Nanosleep(&unix.Timespec{Nsec: 50e6}, nil)
		}
		t.Errorf("cgroup %s left behind", dir)
	})
	return dir
}

// runIn starts a command directly inside the cgroup (clone3 with
// CLONE_INTO_CGROUP), as the runtime does.
func runIn(t *testing.T, dir string, name string, args ...string) error {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	return cmd.Run()
}

func event(t *testing.T, dir, file, key string) uint64 {
	t.Helper()
	for _, line := range strings.Split(read(t, filepath.Join(dir, file)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			n, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s has no %s", file, key)
	return 0
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
