// Command benchexec prints glassbox exec's figures beside runc exec's,
// measured in one run, interleaved: `exec NAME true` (start to exit), and
// the keystroke round trip through exec -t (a byte typed on a host pty →
// the sandbox's terminal, whose echo comes back). Run as root by
// .ci/bench-exec; not part of CI.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	bin := flag.String("glassbox", "", "the glassbox binary")
	n := flag.Int("n", 50, "exec rounds per tool")
	keys := flag.Int("keys", 500, "keystrokes per tool")
	flag.Parse()
	// A Ctrl-C or SIGTERM ends the measurement, not the clean-up.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		interrupted.Store(true)
	}()
	if err := run(*bin, *n, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "bench-exec:", err)
		os.Exit(1)
	}
}

var interrupted atomic.Bool

var errInterrupted = errors.New("interrupted")

func run(bin string, n, keys int) error {
	tmp, err := os.MkdirTemp("", "glassbox-bench-exec-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Setenv("GLASSBOX_ROOT", filepath.Join(tmp, "root"))
	name := fmt.Sprintf("bench-exec-%d", os.Getpid())
	if out, err := exec.Command(bin, "run", "-d", "--name", name, "busybox", "sleep", "100000").CombinedOutput(); err != nil {
		return fmt.Errorf("glassbox run: %v: %s", err, out)
	}
	defer exec.Command(bin, "rm", "-f", name).Run()

	id := fmt.Sprintf("glassbox-bench-exec-%d", os.Getpid())
	haveRunc := true
	if err := startRunc(tmp, id); err != nil {
		fmt.Println("runc: not measured:", err)
		haveRunc = false
	} else {
		defer exec.Command("runc", "delete", "-f", id).Run()
	}

	tools := []struct {
		name string
		argv func(args ...string) []string
	}{
		{"glassbox exec", func(args ...string) []string {
			return append([]string{bin, "exec"}, append([]string{name}, args...)...)
		}},
		{"runc exec", func(args ...string) []string {
			return append([]string{"runc", "exec"}, append([]string{id}, args...)...)
		}},
	}
	if !haveRunc {
		tools = tools[:1]
	}

	// exec true: start to exit, alternating the tools.
	times := make([][]float64, len(tools))
	for i := 0; i < n+3; i++ {
		if interrupted.Load() {
			return errInterrupted
		}
		for t, tool := range tools {
			argv := tool.argv("true")
			t0 := time.Now()
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s true: %v: %s", tool.name, err, out)
			}
			if i >= 3 { // warm-up
				times[t] = append(times[t], ms(time.Since(t0)))
			}
		}
	}
	for t, tool := range tools {
		fmt.Printf("%-28s %s\n", tool.name+" true", stats(times[t]))
	}

	// Keystroke round trip through a terminal: both sessions open at once,
	// a key to each in turn.
	sessions := make([]*session, len(tools))
	for t, tool := range tools {
		argv := tool.argv("cat")
		argv = append(argv[:2], append([]string{"-t"}, argv[2:]...)...)
		if t == 0 {
			argv = append(argv[:2], append([]string{"-i"}, argv[2:]...)...)
		}
		s, err := startSession(argv)
		if err != nil {
			return fmt.Errorf("%s -t cat: %w", tool.name, err)
		}
		defer s.close()
		sessions[t] = s
	}
	rtts := make([][]float64, len(tools))
	for i := 0; i < keys+20; i++ {
		if interrupted.Load() {
			return errInterrupted
		}
		for t, s := range sessions {
			d, err := s.roundTrip('a' + byte(i%26))
			if err != nil {
				return fmt.Errorf("%s keystroke %d: %w", tools[t].name, i, err)
			}
			if i >= 20 {
				rtts[t] = append(rtts[t], ms(d))
			}
		}
	}
	for t, tool := range tools {
		fmt.Printf("%-28s %s\n", tool.name+" -t keystroke", stats(rtts[t]))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// stats: median, p90, p99 (nearest rank), min, max in ms.
func stats(v []float64) string {
	s := slices.Clone(v)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(float64(len(s))*p+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("n=%d median=%.2f ms p90=%.2f p99=%.2f min=%.2f max=%.2f", len(s), med, rank(0.9), rank(0.99), s[0], s[len(s)-1])
}

// startRunc starts a runc container of the same kind as the sandbox: a
// static busybox root, sleep, new pid/ipc/uts/mount/network/cgroup
// namespaces.
func startRunc(tmp, id string) error {
	if _, err := exec.LookPath("runc"); err != nil {
		return err
	}
	bundle := filepath.Join(tmp, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return err
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	for _, a := range []string{"sh", "true", "sleep", "cat"} {
		os.Symlink("busybox", filepath.Join(rootfs, "bin", a))
	}
	os.WriteFile(filepath.Join(rootfs, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	cmd := exec.Command("runc", "spec")
	cmd.Dir = bundle
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("runc spec: %v: %s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return err
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sleep", "100000"}
	proc["env"] = []string{"PATH=/bin", "TERM=xterm"}
	spec["root"] = map[string]any{"path": rootfs, "readonly": false}
	spec["hostname"] = "peer"
	linux := spec["linux"].(map[string]any)
	var nss []map[string]string
	for _, t := range []string{"pid", "ipc", "uts", "mount", "network", "cgroup"} {
		nss = append(nss, map[string]string{"type": t})
	}
	linux["namespaces"] = nss
	if data, err = json.Marshal(spec); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		return err
	}
	// The container keeps the stdio it is given: not a pipe to wait on.
	logf := filepath.Join(tmp, "runc.log")
	if err := exec.Command("runc", "--log", logf, "run", "-d", "--bundle", bundle, id).Run(); err != nil {
		out, _ := os.ReadFile(logf)
		return fmt.Errorf("runc run: %v: %s", err, out)
	}
	return nil
}

// session is a command on a host pty, as in a terminal.
type session struct {
	cmd    *exec.Cmd
	master *os.File
	seen   []byte // what came back before it was ready
}

func startSession(argv []string) (*session, error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, err
	}
	defer slave.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	// As in a tmux pane: bubbletea's init (linked into glassbox) asks a
	// terminal of any other TERM for its background colour and waits up
	// to 5 s for an answer this harness does not give.
	cmd.Env = append(os.Environ(), "TERM=tmux-256color")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		master.Close()
		return nil, err
	}
	s := &session{cmd: cmd, master: master}
	// Ready once a key comes back.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := s.roundTrip('.'); err == nil {
			return s, nil
		}
	}
	s.close()
	return nil, fmt.Errorf("no echo within 10 s; it said %q", s.seen)
}

// roundTrip types b and waits for it to come back.
func (s *session) roundTrip(b byte) (time.Duration, error) {
	buf := make([]byte, 256)
	t0 := time.Now()
	if _, err := s.master.Write([]byte{b}); err != nil {
		return 0, err
	}
	s.master.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, err := s.master.Read(buf)
		if err != nil {
			return 0, err
		}
		if len(s.seen) < 4096 {
			s.seen = append(s.seen, buf[:n]...)
		}
		if slices.Contains(buf[:n], b) {
			return time.Since(t0), nil
		}
	}
}

func (s *session) close() {
	s.master.Write([]byte{4, 4}) // ^D: cat ends
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.master.Close()
}

// openPTY opens a host pty: the master non-blocking (for read deadlines).
func openPTY() (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	unix.IoctlSetWinsize(m, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		return nil, nil, err
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		unix.Close(m)
		return nil, nil, err
	}
	// Raw from the start, as the tools make it: the only echo is then the
	// one from the terminal inside the container, not this pty's own.
	if t, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS); err == nil {
		t.Lflag &^= unix.ECHO | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Iflag &^= unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, t)
	}
	return os.NewFile(uintptr(m), "ptmx"), s, nil
}
