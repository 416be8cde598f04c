package sandbox_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/sandbox"
	"glassbox/sandbox/image"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// The escape battery: a static program (testdata/attacker) tries, from
// inside a sandbox with the default settings and again with --userns, each
// known way out of a container, and every attempt must fail with the errno
// expected. The whole table is logged (go test -v -run EscapeBattery), so
// a reader sees what the sandbox stops and by what.

// escapes are the attempts, by the attacker's names, with the result each
// must get by default and with a user namespace ("" = the same). A result
// with "|" accepts either. why says what stops it.
var escapes = []struct{ name, want, userns, why string }{
	// (Kernel files this host lacks are expected to be missing: see
	// kernelFiles.)
	{"descriptors the workload starts with", "ok: 0 1 2", "", "the init closes all but stdio before exec"},
	{"walk a leaked descriptor to the host", "EBADF", "", "fd 77 of the caller never arrives"},
	{"mount a tmpfs", "EPERM", "", "seccomp; no CAP_SYS_ADMIN"},
	{"remount /proc/sys read-write", "EPERM", "", "seccomp; no CAP_SYS_ADMIN"},
	{"unmount the mask over /proc/kcore", "EPERM", "", "seccomp; no CAP_SYS_ADMIN"},
	{"unshare a user namespace", "EPERM", "", "seccomp"},
	{"unshare a mount namespace", "EPERM", "", "seccomp; no CAP_SYS_ADMIN"},
	{"clone into new namespaces", "EPERM", "", "seccomp checks clone's flags"},
	{"open a host process's namespace", "ENOENT", "", "the pid namespace: host processes are not in /proc"},
	{"open the init's namespace", "EACCES", "", "the init is not dumpable: ptrace access needs CAP_SYS_PTRACE"},
	{"setns into a namespace", "EPERM", "", "seccomp; no CAP_SYS_ADMIN"},
	{"join a new session keyring", "EPERM", "", "seccomp (keys are not namespaced)"},
	{"add a key", "EPERM", "", "seccomp"},
	{"load an eBPF program", "EPERM", "", "seccomp; no CAP_BPF/CAP_SYS_ADMIN"},
	{"open a perf event", "EPERM", "", "seccomp; no CAP_PERFMON"},
	{"ptrace a host process", "ESRCH", "", "the pid namespace"},
	{"ptrace another sandbox's workload", "ESRCH", "", "the pid namespace"},
	{"ptrace the init", "EPERM", "", "the init is not dumpable: ptrace needs CAP_SYS_PTRACE"},
	{"read the init's memory", "EPERM", "", "the init is not dumpable: ptrace access needs CAP_SYS_PTRACE"},
	{"load a kernel to boot", "EPERM", "", "seccomp; no CAP_SYS_BOOT"},
	{"load a kernel module", "EPERM", "", "seccomp; no CAP_SYS_MODULE"},
	{"load a kernel module from a file", "EPERM", "", "seccomp; no CAP_SYS_MODULE"},
	{"power the machine off", "EPERM", "", "seccomp; no CAP_SYS_BOOT"},
	{"open the host's root by handle (shocker)", "EPERM", "", "seccomp; no CAP_DAC_READ_SEARCH"},
	{"make and read a block device of the host's disk", "EACCES", "EPERM", "nodev on every writable mount (a user namespace may not mknod)"},
	{"trigger a sysrq", "EROFS", "EACCES", "/proc/sysrq-trigger is mounted read-only (a user namespace's root does not own it)"},
	{"set the host's core_pattern", "EROFS", "EACCES", "/proc/sys is mounted read-only (a user namespace's root does not own it)"},
	{"set the host's uevent helper", "EROFS", "", "/sys is mounted read-only"},
	{"read the host's memory", "ok: 0 bytes", "", "/proc/kcore is masked with /dev/null"},
	{"move into a parent cgroup", "EROFS", "", "cgroupfs is read-only; the cgroup namespace shows no parent"},
	{"set a cgroup release agent", "EROFS|ENOENT", "", "cgroupfs is read-only; only a hierarchy's root has one"},
	{"chroot back to the host's root", "ENOENT", "", "pivot_root detached the host's tree"},
	{"sniff the host's network", "ENODEV", "", "the network namespace has no host interface"},
	{"change the host's hostname", "EPERM", "", "seccomp (and the UTS namespace)"},
	{"set the clock", "EPERM", "", "seccomp; no CAP_SYS_TIME"},
	{"set up io_uring (its calls bypass seccomp)", "EPERM", "", "seccomp"},
}

// kernelFiles are the attempts at files not every kernel has
// (CONFIG_MAGIC_SYSRQ, CONFIG_UEVENT_HELPER, CONFIG_PROC_KCORE): where the
// host has none, the sandbox has none either.
var kernelFiles = map[string]string{
	"trigger a sysrq":              "/proc/sysrq-trigger",
	"set the host's uevent helper": "/sys/kernel/uevent_helper",
	"read the host's memory":       "/proc/kcore",
}

func TestEscapeBattery(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	attacker := buildAttacker(t)
	for _, mode := range []struct {
		name   string
		userns bool
	}{{"default", false}, {"userns", true}} {
		t.Run(mode.name, func(t *testing.T) { escapeBattery(t, attacker, mode.userns) })
	}
}

type attempt struct {
	Name    string `json:"name"`
	Syscall string `json:"syscall"`
	Result  string `json:"result"`
}

func escapeBattery(t *testing.T, attacker string, userns bool) {
	roots := sandboxtest.TempRoots(t)
	os.Chmod(filepath.Dir(roots.Lib), 0o755) // the user namespace's root must reach the layers
	store := image.NewStore(roots)
	store.Self = sandboxtest.Binary(t)
	bb, err := store.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	layers := append([]state.Layer{attackerLayer(t, roots, attacker)}, bb.TopFirst()...)
	initBin := sandboxtest.Binary(t)
	if userns {
		// The init execs as the namespace's root, an unprivileged host user
		// who must reach the binary (the VM's is in a private directory).
		initBin = filepath.Join(filepath.Dir(roots.Lib), "glassbox")
		copyFile(t, sandboxtest.Binary(t), initBin)
	}

	// A second sandbox, whose workload the attacker will look for.
	sibling := startSandbox(t, &sandbox.Config{Roots: roots, Image: "busybox", Layers: bb.TopFirst(),
		Args: []string{"sleep", "60"}, UserNS: userns, InitBinary: initBin}, sandbox.Stdio{})
	defer sibling.Destroy()

	hostFile := filepath.Join(t.TempDir(), "host-only")
	if err := os.WriteFile(hostFile, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostname, _ := os.Hostname()
	corePattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")

	// The caller leaks a host directory at fd 77 while it starts the sandbox.
	leak, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup3(leak, 77, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(leak)
	out, err := os.CreateTemp("", "glassbox-escape-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	c := startSandbox(t, &sandbox.Config{
		Roots: roots, Image: "busybox+attacker", Layers: layers, UserNS: userns, InitBinary: initBin,
		Args: []string{"/attacker", "-host-pid", fmt.Sprint(os.Getpid()),
			"-sibling-pid", fmt.Sprint(sibling.State().WorkloadPID), "-block-dev", hostDisk(t, roots.Lib),
			"-host-if", hostInterface(t), "-host-file", hostFile, "-leaked-fd", "77"},
	}, sandbox.Stdio{Out: out, Err: out})
	unix.Close(77)
	defer c.Destroy()
	exit, err := c.Wait()
	if err != nil || exit.Code != 0 {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("the attacker ended with %+v, %v:\n%s", exit, err, b)
	}

	got := map[string]attempt{}
	f, _ := os.Open(out.Name())
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a attempt
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Errorf("attacker output %q: %v", sc.Text(), err)
			continue
		}
		got[a.Name] = a
	}
	var table strings.Builder
	fmt.Fprintf(&table, "escape battery (%s):\n%-48s  %-46s  %-12s  %-12s  %s\n", map[bool]string{false: "default settings", true: "--userns"}[userns],
		"ATTEMPT", "SYSCALL", "RESULT", "EXPECTED", "STOPPED BY")
	for _, e := range escapes {
		want := e.want
		if userns && e.userns != "" {
			want = e.userns
		}
		why := e.why
		if f, ok := kernelFiles[e.name]; ok {
			if _, err := os.Stat(f); err != nil {
				want, why = "ENOENT", "this kernel has no "+f
			}
		}
		a, ok := got[e.name]
		if !ok {
			t.Errorf("%s: the attacker did not report it", e.name)
			continue
		}
		mark := ""
		if !slicesContains(strings.Split(want, "|"), a.Result) {
			t.Errorf("%s (%s): %s, want %s", e.name, a.Syscall, a.Result, want)
			mark = "  <-- NOT STOPPED AS EXPECTED"
		}
		fmt.Fprintf(&table, "%-48s  %-46s  %-12s  %-12s  %s%s\n", e.name, a.Syscall, a.Result, want, why, mark)
	}
	if len(got) != len(escapes) {
		t.Errorf("the attacker reported %d attempts, the table has %d", len(got), len(escapes))
	}
	t.Log(table.String())

	if h, _ := os.Hostname(); h != hostname {
		t.Errorf("the host's hostname changed from %q to %q", hostname, h)
	}
	if cp, _ := os.ReadFile("/proc/sys/kernel/core_pattern"); string(cp) != string(corePattern) {
		t.Errorf("the host's core_pattern changed to %q", cp)
	}
	c.Destroy()
	sibling.Destroy()
	assertNothingLeft(t, roots, c.State(), sibling.State())
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func startSandbox(t *testing.T, cfg *sandbox.Config, stdio sandbox.Stdio) *sandbox.Container {
	t.Helper()
	if cfg.InitBinary == "" {
		cfg.InitBinary = sandboxtest.Binary(t)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := sandbox.Start(cfg, stdio)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Image, err)
	}
	t.Cleanup(func() { c.Destroy() })
	return c
}

// buildAttacker builds testdata/attacker as a static program, or takes
// $GLASSBOX_ATTACKER (the cgroup v2 VM has no time to build it).
func buildAttacker(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GLASSBOX_ATTACKER"); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "attacker")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/attacker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the attacker: %v: %s", err, out)
	}
	return bin
}

// attackerLayer lays the attacker out as an image layer holding /attacker.
func attackerLayer(t *testing.T, roots state.Roots, bin string) state.Layer {
	t.Helper()
	dir := filepath.Join(roots.Lib, "test-layers", "attacker")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, bin, filepath.Join(dir, "attacker"))
	return state.Layer{Digest: "test:attacker", Dir: dir, CreatedBy: "test: the escape battery's attacker"}
}

// hostDisk is MAJOR:MINOR of the block device under dir, or of the
// host's first disk when dir is on a filesystem without one (tmpfs, 9p).
func hostDisk(t *testing.T, dir string) string {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err == nil && unix.Major(st.Dev) != 0 {
		return fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	}
	devs, _ := filepath.Glob("/sys/block/*/dev")
	for _, d := range devs {
		if b, err := os.ReadFile(d); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return "8:0" // nodev refuses the open whether or not such a disk exists
}

// hostInterface is a network interface of the host other than lo.
func hostInterface(t *testing.T) string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			return i.Name
		}
	}
	t.Fatal("the host has no network interface but lo")
	return ""
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
