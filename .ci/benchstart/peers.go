package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerCaps are docker's default capabilities, the set a glassbox sandbox
// keeps by default: the peers get the same.
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
}

// bundle is an OCI bundle for runc and crun: the calculator with glassbox's
// defaults for `run --memory 256m --cpus 0.5 --network none` — new pid,
// mount, uts, ipc, network and cgroup namespaces, 256 MiB of memory (and
// of memory+swap), half a CPU, docker's capabilities and, unless bare,
// docker's default seccomp profile (glassbox applies the same one).
type bundle struct {
	dir    string
	rootfs string
	argv   []string
	env    []string
	cwd    string
	bare   bool // no seccomp filter (the shared harness's peer set-up)
}

func (b *bundle) write(specTool string) error {
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(b.dir, "config.json"))
	cmd := exec.Command(specTool, "spec")
	cmd.Dir = b.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s spec: %v: %s", specTool, err, out)
	}
	data, err := os.ReadFile(filepath.Join(b.dir, "config.json"))
	if err != nil {
		return err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	s.Process.Terminal = false
	s.Process.Args = b.argv
	s.Process.Env = b.env
	s.Process.Cwd = b.cwd
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: dockerCaps, Effective: dockerCaps, Permitted: dockerCaps,
	}
	s.Root = &specs.Root{Path: b.rootfs}
	s.Hostname = "peer"
	s.Linux.Namespaces = nil
	for _, t := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace, specs.UTSNamespace,
		specs.IPCNamespace, specs.NetworkNamespace, specs.CgroupNamespace} {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t})
	}
	limit, quota, period := int64(256<<20), int64(50000), uint64(100000)
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	s.Linux.Seccomp = nil
	if !b.bare {
		if s.Linux.Seccomp, err = mobyseccomp.GetDefaultProfile(&s); err != nil {
			return fmt.Errorf("docker's seccomp profile: %w", err)
		}
	}
	if data, err = json.MarshalIndent(&s, "", "  "); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644)
}

// imageRootfs copies the layers of glassbox's calculator image, base first,
// into dir: the peers run the very same files.
func imageRootfs(dir string, layers []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, l := range layers {
		if out, err := exec.Command("cp", "-a", l+"/.", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("copy layer %s: %v: %s", l, err, out)
		}
	}
	return nil
}

// leanRootfs is a root with one static calculator at /app/calculator and
// the mount points, the shape of the shared harness's peer root.
func leanRootfs(dir, calculator string) error {
	for _, d := range []string{"app", "proc", "sys", "dev", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if out, err := exec.Command("cp", calculator, filepath.Join(dir, "app", "calculator")).CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s: %v: %s", calculator, err, out)
	}
	os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc", "hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	return nil
}

// hybridCgroups says whether the host mounts cgroup2 beside the v1
// hierarchies at /sys/fs/cgroup/unified. crun refuses such hosts ("cgroups
// in hybrid mode not supported").
func hybridCgroups() bool {
	var root, unified unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &root) != nil || unix.Statfs("/sys/fs/cgroup/unified", &unified) != nil {
		return false
	}
	return root.Type == unix.TMPFS_MAGIC && unified.Type == unix.CGROUP2_SUPER_MAGIC
}

// legacyEnv marks the copy of this program that runs in a mount namespace
// of its own without the cgroup2 mount.
const legacyEnv = "GLASSBOX_BENCH_LEGACY_NS"

// inLegacyNS re-executes this program in a private mount namespace (Go
// makes its mounts private) and, there, unmounts the cgroup2 hierarchy:
// every runtime measured — glassbox, runc and crun alike — then sees the
// same cgroup v1 host, which crun accepts. Nothing changes outside. It
// returns run=false in the parent, which only waits and passes the exit
// status on.
func inLegacyNS() (code int, run bool) {
	if os.Getenv(legacyEnv) == "" {
		cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
		cmd.Env = append(os.Environ(), legacyEnv+"=1")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode(), false
			}
			fmt.Fprintln(os.Stderr, "benchstart:", err)
			return 1, false
		}
		return 0, false
	}
	if err := unix.Unmount("/sys/fs/cgroup/unified", unix.MNT_DETACH); err != nil {
		fmt.Fprintln(os.Stderr, "benchstart: unmount cgroup2 in the private mount namespace:", err)
		return 1, false
	}
	return 0, true
}

// peerVersion is the first line of `tool --version`.
func peerVersion(tool string) string {
	out, err := exec.Command(tool, "--version").Output()
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}
