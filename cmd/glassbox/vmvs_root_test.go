package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
	"glassbox/sandbox/vm"
)

// requireVMHost skips where a micro-VM cannot be measured and fails where
// something the README's test command installs is missing.
func requireVMHost(t *testing.T) {
	t.Helper()
	sandboxtest.RequireRoot(t)
	if os.Getenv("GLASSBOX_VM") == "1" {
		// Only in CI's cgroup v2 VM, which runs under software emulation
		// itself. Measured there: writing the initramfs took 16 s (40 ms
		// on the host) and the nested VM had not answered, nor printed a
		// line, after 3 minutes. The host's run of this test covers it.
		t.Skip("inside the cgroup v2 VM (itself emulated): a nested micro-VM did not boot within 3 minutes there; the host's run covers this test")
	}
	if _, err := vm.FindQemu(); err != nil {
		t.Fatalf("%v (.ci/deps installs it)", err)
	}
	if _, err := vm.FindKernel(""); err != nil {
		t.Fatalf("%v (.ci/deps fetches one)", err)
	}
}

// vmvsRun is one vm-vs-container process under test, with a TMPDIR of its
// own (to prove it leaves no temporary file) and its stderr kept.
type vmvsRun struct {
	cmd    *exec.Cmd
	tmp    string
	stdout bytes.Buffer
	stderr *lockedBuffer
	done   chan error
}

func startVMvs(t *testing.T, args ...string) *vmvsRun {
	t.Helper()
	r := &vmvsRun{tmp: t.TempDir(), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	r.cmd = exec.Command(sandboxtest.Binary(t), append([]string{"vm-vs-container"}, args...)...)
	r.cmd.Env = append(os.Environ(), "TMPDIR="+r.tmp)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait waits for the process to exit and returns its exit status.
func (r *vmvsRun) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("vm-vs-container: %v", err)
		}
		return 0
	case <-time.After(d):
		t.Fatalf("vm-vs-container did not end within %s; stderr:\n%s", d, r.stderr)
	}
	return -1
}

// tag is the name every qemu of this run carries: glassbox-vm-<pid>-…
func (r *vmvsRun) tag() string { return fmt.Sprintf("glassbox-vm-%d-", r.cmd.Process.Pid) }

// processesNamed lists live processes whose command line holds s.
func processesNamed(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join(filepath.Dir(d), "stat")); err == nil && bytes.Contains(st, []byte(") Z ")) {
			continue // a zombie has exited
		}
		out = append(out, filepath.Base(filepath.Dir(d))+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// sandboxesIn lists the sandbox state directories below a state root.
func sandboxesIn(roots state.Roots) []string {
	entries, _ := os.ReadDir(roots.SandboxesDir())
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// glassboxLinks lists network links a VM could have left: taps and
// anything named for the micro-VM.
func glassboxLinks() []string {
	ifs, _ := net.Interfaces()
	var out []string
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, "tap") || strings.Contains(i.Name, "glassbox-vm") || strings.HasPrefix(i.Name, "gbvm") {
			out = append(out, i.Name)
		}
	}
	return out
}

// checkNothingLeft: no qemu of the run, no sandbox, no tap device, no file
// in the run's TMPDIR.
func checkNothingLeft(t *testing.T, r *vmvsRun, roots state.Roots, linksBefore []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(processesNamed(r.tag())) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if p := processesNamed(r.tag()); len(p) > 0 {
		t.Errorf("qemu left running: %v", p)
	}
	if sbs := sandboxesIn(roots); len(sbs) > 0 {
		t.Errorf("sandboxes left: %v", sbs)
	}
	if links := glassboxLinks(); strings.Join(links, " ") != strings.Join(linksBefore, " ") {
		t.Errorf("links before %v, after %v", linksBefore, links)
	}
	if left, _ := os.ReadDir(r.tmp); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("temporary files left in TMPDIR: %v", names)
	}
}

// TestVMvsContainerJSON runs the whole comparison for real (software
// emulation on a machine without a usable KVM) and checks every figure.
func TestVMvsContainerJSON(t *testing.T) {
	requireVMHost(t)
	roots := sandboxtest.TempRoots(t)
	links := glassboxLinks()
	hostBoot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")

	r := startVMvs(t, "--json", "--rounds", "2", "--load", "500ms", "--vms", "1", "--sandboxes", "3")
	if code := r.wait(t, 6*time.Minute); code != 0 {
		t.Fatalf("vm-vs-container --json: exit %d; stderr:\n%s", code, r.stderr)
	}
	var c state.Comparison
	if err := json.Unmarshal(r.stdout.Bytes(), &c); err != nil {
		t.Fatalf("its JSON: %v\n%s", err, r.stdout.String())
	}
	if m := c.Missing(); len(m) > 0 {
		t.Errorf("figures missing: %v\n%s", m, r.stdout.String())
	}
	get := func(s state.CompareSide, row state.CompareRow) state.Figure {
		f, _ := c.Get(s, row)
		if f.Source == "" {
			t.Errorf("%s/%s names no source", s, row)
		}
		return f
	}
	host := strings.TrimSpace(string(hostBoot))
	if f := get(state.SideHost, state.RowBootID); f.Text != host {
		t.Errorf("host boot id %q, want %q", f.Text, host)
	}
	if f := get(state.SideVM, state.RowBootID); f.Text == host || len(f.Text) != 36 || f.Same == nil || *f.Same {
		t.Errorf("VM boot id %q (same %v): want a boot id of its own kernel, not the host's %q", f.Text, f.Same, host)
	}
	if f := get(state.SideSandbox, state.RowBootID); f.Text != host || f.Same == nil || !*f.Same {
		t.Errorf("sandbox boot id %q: want the host's %q (one shared kernel)", f.Text, host)
	}
	if v, h := get(state.SideVM, state.RowKernelUptime), get(state.SideHost, state.RowKernelUptime); v.Value <= 0 || v.Value >= h.Value {
		t.Errorf("VM kernel up %.1f s, host's %.1f s: want a kernel younger than the host's", v.Value, h.Value)
	}
	if s, h := get(state.SideSandbox, state.RowKernelRelease), get(state.SideHost, state.RowKernelRelease); s.Text != h.Text || h.Text == "" {
		t.Errorf("sandbox kernel %q, host's %q: want the same", s.Text, h.Text)
	}
	if k, _ := vm.FindKernel(""); k.Release != "" && get(state.SideVM, state.RowKernelRelease).Text != k.Release {
		t.Errorf("VM kernel %q, want the booted image's %q", get(state.SideVM, state.RowKernelRelease).Text, k.Release)
	}
	for _, s := range []state.CompareSide{state.SideVM, state.SideSandbox} {
		for _, row := range []state.CompareRow{state.RowStartToHealth, state.RowMemory, state.RowDisk, state.RowThroughput, state.RowDensity} {
			if f := get(s, row); f.Value <= 0 {
				t.Errorf("%s/%s = %v, want more than 0", s, row, f.Value)
			}
		}
		if f := get(s, state.RowStartToHealth); len(f.Samples) != 2 {
			t.Errorf("%s start → /health samples %v, want 2 (--rounds 2)", s, f.Samples)
		}
	}
	if f := get(state.SideVM, state.RowStarted); f.Value != 1 {
		t.Errorf("VMs started at once: %v, want 1", f.Value)
	}
	if f := get(state.SideSandbox, state.RowStarted); f.Value != 3 {
		t.Errorf("sandboxes started at once: %v, want 3", f.Value)
	}
	if c.Accel != "TCG" && c.Accel != "KVM" || c.AccelWhy == "" {
		t.Errorf("accelerator %q (%q), want TCG or KVM and why", c.Accel, c.AccelWhy)
	}
	stderr := r.stderr.String()
	for _, want := range []string{"under " + c.Accel, "✓ write the VM's initramfs", "✓ boot the VM and wait for /health (2 of 2)", "✓ start 3 sandboxes"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	checkNothingLeft(t, r, roots, links)
	t.Logf("progress:\n%s", stderr)
}

// TestVMvsContainerCleansUpOnSignals interrupts the comparison while a VM
// boots (SIGINT, as Ctrl-C) and while a sandbox runs (SIGTERM): it exits
// with 128+signal and nothing it started is left.
func TestVMvsContainerCleansUpOnSignals(t *testing.T) {
	requireVMHost(t)
	for _, tc := range []struct {
		name  string
		sig   syscall.Signal
		ready func(*vmvsRun, state.Roots) bool
	}{
		{"SIGINT while a VM boots", syscall.SIGINT, func(r *vmvsRun, _ state.Roots) bool { return len(processesNamed(r.tag())) > 0 }},
		{"SIGTERM while a sandbox runs", syscall.SIGTERM, func(_ *vmvsRun, roots state.Roots) bool { return len(sandboxesIn(roots)) > 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roots := sandboxtest.TempRoots(t)
			links := glassboxLinks()
			r := startVMvs(t, "--rounds", "1")
			waitFor(t, r, 3*time.Minute, func() bool { return tc.ready(r, roots) })
			r.cmd.Process.Signal(tc.sig)
			if code := r.wait(t, time.Minute); code != 128+int(tc.sig) {
				t.Errorf("exit %d after %s, want %d; stderr:\n%s", code, tc.sig, 128+int(tc.sig), r.stderr)
			}
			if !strings.Contains(r.stderr.String(), "everything it had started is stopped and removed") {
				t.Errorf("no word on the clean-up:\n%s", r.stderr)
			}
			checkNothingLeft(t, r, roots, links)
		})
	}
}

// TestVMvsContainerAfterSIGKILL: a run killed outright takes its qemu with
// it (parent-death signal); the sandbox it had running is removed by the
// next run.
func TestVMvsContainerAfterSIGKILL(t *testing.T) {
	requireVMHost(t)
	roots := sandboxtest.TempRoots(t)
	links := glassboxLinks()
	first := startVMvs(t, "--rounds", "1")
	// With one round, the VM still runs while the sandbox starts.
	waitFor(t, first, 3*time.Minute, func() bool { return len(sandboxesIn(roots)) > 0 && len(processesNamed(first.tag())) > 0 })
	first.cmd.Process.Kill()
	first.wait(t, time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for len(processesNamed(first.tag())) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if p := processesNamed(first.tag()); len(p) > 0 {
		t.Fatalf("qemu outlived the killed run: %v", p)
	}
	left := sandboxesIn(roots)
	if len(left) == 0 {
		t.Fatal("the killed run left no sandbox: the test did not kill it mid-run")
	}

	second := startVMvs(t, "--rounds", "1")
	waitFor(t, second, 3*time.Minute, func() bool { return len(processesNamed(second.tag())) > 0 })
	second.cmd.Process.Signal(syscall.SIGINT)
	second.wait(t, time.Minute)
	checkNothingLeft(t, second, roots, links)
	if sbs := sandboxesIn(roots); len(sbs) > 0 {
		t.Errorf("the killed run's sandbox %v is still there after the next run", left)
	}
}

func waitFor(t *testing.T, r *vmvsRun, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("vm-vs-container ended (%v) before the moment to interrupt it; stderr:\n%s", err, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready to interrupt within %s; stderr:\n%s", d, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVMvsContainerMissingQemu: without qemu the verb says which package
// to install and starts nothing.
func TestVMvsContainerMissingQemu(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	cmd := exec.Command(bin, "vm-vs-container")
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "apt-get install --no-install-recommends qemu-system-x86") {
		t.Errorf("without qemu: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "vm-vs-container", "--kernel", "/nonexistent/vmlinuz").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--kernel /nonexistent/vmlinuz: cannot read it") {
		t.Errorf("with a missing --kernel: %v\n%s", err, out)
	}
	if _, err := os.Stat(roots.SandboxesDir()); err == nil {
		if sbs := sandboxesIn(roots); len(sbs) > 0 {
			t.Errorf("sandboxes created: %v", sbs)
		}
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
