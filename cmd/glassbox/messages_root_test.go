package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// listen holds a free port of 127.0.0.1 until the test ends.
func listen(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// `glassbox` alone, its port taken: one line says who holds it — another
// glassbox sandbox by name, or a process by PID — and it goes on with a
// free port it names; a --port the user chose is not given up.
func TestDefaultPortTaken(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	eng := lifecycle.New(c.Roots)
	comm, _ := os.ReadFile("/proc/self/comm")
	me := words.PortHolder{PID: os.Getpid(), Command: strings.TrimSpace(string(comm))}

	held := listen(t)
	port, note, err := defaultHostPort(eng, held, false)
	if err != nil || port == held || port == 0 || note != words.PortTaken(held, me)+words.PortInstead(port) {
		t.Errorf("port %d taken by this test: got port %d, note %q, %v", held, port, note, err)
	}
	if !strings.Contains(note, fmt.Sprintf("port %d is taken by PID %d (", held, os.Getpid())) {
		t.Errorf("the note does not name the process: %q", note)
	}
	if _, _, err := defaultHostPort(eng, held, true); err == nil || err.Error() != words.PortTaken(held, me)+words.PortGiveAnother() {
		t.Errorf("a taken --port: %v", err)
	}
	free := sandboxtest.FreePort(t)
	if port, note, err := defaultHostPort(eng, free, false); port != free || note != "" || err != nil {
		t.Errorf("a free port: %d %q %v", port, note, err)
	}

	sb := c.StartCalculator("-p", fmt.Sprintf("127.0.0.1:%d:8000", free))
	if _, note, _ := defaultHostPort(eng, free, false); !strings.HasPrefix(note, fmt.Sprintf("port %d is taken by glassbox sandbox %q: publishing the calculator on port ", free, sb.Name)) {
		t.Errorf("a port another sandbox publishes: %q", note)
	}

	// For real, in a terminal: glassbox --port on a taken port says so in one line.
	tm := sandboxtest.NewTmux(t)
	tm.Start("d", fmt.Sprintf("GLASSBOX_ROOT=%s %s --port %d; sleep 30", filepath.Dir(c.Roots.Run), c.Bin, held))
	want := "glassbox: " + words.PortTaken(held, me) + words.PortGiveAnother()
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(strings.ReplaceAll(tm.Pane("d"), "\n", ""), want); {
		if time.Now().After(deadline) {
			t.Fatalf("the pane does not say %q:\n%s", want, tm.Pane("d"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A foreground run publishes its ports as a detached one does, and ps, top
// and inspect say so.
func TestForegroundRunShowsItsPorts(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	name := sandboxtest.UniqueName("fg")
	port := sandboxtest.FreePort(t)
	run := exec.Command(c.Bin, "run", "--name", name, "-p", fmt.Sprintf("%d:8000", port), "calculator")
	run.Env = append(os.Environ(), "GLASSBOX_ROOT="+filepath.Dir(c.Roots.Run))
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if sb := c.Get(name); sb != nil && sb.Status == state.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start", name)
		}
	}
	want := fmt.Sprintf("127.0.0.1:%d->8000/tcp", port)
	for verb, out := range map[string]string{
		"ps":         c.Ok("ps", "--no-trunc"),
		"inspect":    c.Ok("inspect", name),
		"top --once": c.Ok("top", "--once", name),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("glassbox %s does not show the foreground run's port %s:\n%s", verb, want, out)
		}
	}
	if sb := c.Get(name); len(sb.Network.Ports) != 1 || sb.Network.Ports[0].Via != state.ViaProxy {
		t.Errorf("the record's ports: %+v, want one carried by the run's proxy", sb.Network.Ports)
	}
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Errorf("the foreground run after SIGTERM: %v", err)
	}
}

// -p to a port the image's service does not listen on is allowed, as
// docker allows it, but said: nothing will answer there.
func TestRunWarnsOfAnUnexposedPort(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	port := sandboxtest.FreePort(t)
	name := sandboxtest.UniqueName("unexposed")
	out, stderr, code := c.Run("run", "-d", "--name", name, "-p", fmt.Sprintf("%d:9000", port), "calculator")
	t.Cleanup(func() { c.Run("rm", "-f", name) })
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("run -d: exit %d\n%s%s", code, out, stderr)
	}
	if want := "glassbox: " + words.UnexposedPort("calculator", port, 9000, []int{8000}) + "\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	name2 := sandboxtest.UniqueName("exposed")
	if _, stderr, code := c.Run("run", "-d", "--name", name2, "-p", fmt.Sprintf("%d:8000", sandboxtest.FreePort(t)), "calculator"); code != 0 || stderr != "" {
		t.Errorf("-p to the exposed port: exit %d, stderr %q; want no word", code, stderr)
	}
	c.Run("rm", "-f", name2)
}

// Without root every verb that needs it says so the one way, whichever
// part of glassbox found out.
func TestVerbsWithoutRootSayOneThing(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	sb := c.StartCalculator()
	top := filepath.Dir(c.Roots.Run)
	if err := os.Chmod(top, 0o755); err != nil { // the test's root is 0700; its sandboxes' records stay root's
		t.Fatal(err)
	}
	bin := binaryNobodyCanRun(t, c.Bin, top)
	for _, args := range [][]string{
		{"ps"}, {"ps", "-a"}, {"inspect", sb.Name}, {"logs", sb.Name}, {"events", sb.Name},
		{"run", "calculator"}, {"run", "-d", "calculator"}, {"top", "--once"}, {"stop", sb.Name},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+top)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		want := "glassbox: " + words.NeedsRoot(args[0]) + "\n"
		if err == nil || stderr.String() != want {
			t.Errorf("glassbox %s as nobody: %v, stderr\n  %q\nwant\n  %q", strings.Join(args, " "), err, stderr.String(), want)
		}
	}
}

// binaryNobodyCanRun copies the binary under test into dir, where nobody
// may run it (the cgroup v2 VM keeps its own in a directory only root
// enters); it goes with dir.
func binaryNobodyCanRun(t *testing.T, bin, dir string) string {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dir, "glassbox")
	if err := os.WriteFile(copied, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return copied
}
