package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/sandboxtest"
)

// silentTerminal is a pty whose far side never answers what a program asks
// its terminal (background colour, cursor position) unless told to: the
// terminal of a serial console or of a recorder that does not emulate.
type silentTerminal struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
	done          chan struct{}
}

func newSilentTerminal(t *testing.T) *silentTerminal {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's slave: %v", err)
	}
	st := &silentTerminal{master: os.NewFile(uintptr(fd), "ptmx"), slave: slave, done: make(chan struct{})}
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100})
	go func() {
		defer close(st.done)
		buf := make([]byte, 4096)
		for {
			n, err := st.master.Read(buf)
			st.mu.Lock()
			st.out.Write(buf[:n])
			st.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		st.slave.Close()
		st.master.Close()
		<-st.done
	})
	return st
}

func (st *silentTerminal) output() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.out.String()
}

// start runs glassbox with the pty as its controlling terminal, in the
// terminal's foreground process group, as a shell would.
func (st *silentTerminal) start(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(sandboxtest.Binary(t), args...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLORTERM=", "NO_COLOR=", "CI=")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = st.slave, st.slave, st.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// osc11 is the question termenv asks: the terminal's background colour.
const osc11 = "\x1b]11;?"

// TestNoTerminalQuestionOutsideTheUI: a command that draws no UI returns at
// once on a terminal that never answers, and asks it nothing; bubbletea's
// package init used to ask, and wait 5 s for the answer.
func TestNoTerminalQuestionOutsideTheUI(t *testing.T) {
	sandboxtest.TempRoots(t)
	for _, args := range [][]string{{"version"}, {"ps", "-a"}} {
		t.Run(args[0], func(t *testing.T) {
			st := newSilentTerminal(t)
			t0 := time.Now()
			cmd := st.start(t, args...)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if err != nil && !errors.As(err, &ee) {
					t.Fatal(err)
				}
			case <-time.After(2 * time.Second): // the hang was 5 s
				cmd.Process.Kill()
				<-done
				t.Fatalf("glassbox %s still runs after 2 s on a silent terminal; it wrote %q", strings.Join(args, " "), st.output())
			}
			t.Logf("glassbox %s: %v", strings.Join(args, " "), time.Since(t0))
			time.Sleep(50 * time.Millisecond) // the last of the output
			if out := st.output(); strings.Contains(out, osc11) {
				t.Errorf("glassbox %s asked the terminal for its background colour: %q", strings.Join(args, " "), out)
			}
		})
	}
}

// TestTheUIAsksTheTerminalOnce: the live UI still asks for the background
// colour (its light or dark shades depend on it), once, as it starts and
// before it reads keys; answered, it draws and quits on q.
func TestTheUIAsksTheTerminalOnce(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		sandboxtest.Missing(t, "a static busybox at /bin/busybox (the built-in busybox image)", "apt-get install busybox-static")
	}
	sandboxtest.TempRoots(t)
	st := newSilentTerminal(t)
	cmd := st.start(t, "image", "explore", "busybox")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(st.output()); time.Sleep(10 * time.Millisecond) {
			select {
			case err := <-done:
				t.Fatalf("glassbox image explore ended (%v) before %s; it wrote %q", err, what, st.output())
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				<-done
				t.Fatalf("no %s after 30 s; the terminal got %q", what, st.output())
			}
		}
	}
	waitFor("question for the background colour", func(s string) bool { return strings.Contains(s, osc11) })
	// A dark background, then the cursor position termenv asks for next.
	st.master.WriteString("\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
	waitFor("Image view", func(s string) bool { return strings.Contains(s, "busybox") && strings.Contains(s, "\x1b[?1049h") })
	st.master.WriteString("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("glassbox image explore: %v; it wrote %q", err, st.output())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("q did not quit the Image view; the terminal got %q", st.output())
	}
	if n := strings.Count(st.output(), osc11); n != 1 {
		t.Errorf("the UI asked for the background colour %d times, want once", n)
	}
}
