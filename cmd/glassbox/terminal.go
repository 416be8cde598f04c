package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"golang.org/x/sys/unix"
)

// errNotATTY is docker's answer to -it when stdin is not a terminal.
var errNotATTY = errors.New("the input device is not a TTY")

// terminal joins this process's terminal to the terminal of a process in a
// sandbox (run -t, exec -t): it receives the pty's master side, puts this
// terminal in raw mode (every key, Ctrl-C included, goes to the sandbox),
// copies both ways, passes on window-size changes, and puts the terminal
// back as it was — on exit, on error and on a signal alike (close).
type terminal struct {
	in, out *os.File
	input   bool // -i: copy this process's stdin in

	mu       sync.Mutex
	master   *os.File
	raw      *term.State
	winch    chan os.Signal
	copied   chan struct{} // the output copy has ended
	closed   bool
	attached bool
}

// newTerminal prepares a terminal session; with input (-i) and stdin not a
// terminal it is docker's error, before anything starts.
func newTerminal(input bool) (*terminal, error) {
	if input && !term.IsTerminal(os.Stdin.Fd()) {
		return nil, errNotATTY
	}
	return &terminal{in: os.Stdin, out: os.Stdout, input: input, copied: make(chan struct{})}, nil
}

// size is this terminal's size (0, 0 when neither stdout nor stdin is one).
func (t *terminal) size() (rows, cols uint16) {
	for _, f := range []*os.File{t.out, t.in} {
		if w, h, err := term.GetSize(f.Fd()); err == nil && w > 0 && h > 0 {
			return uint16(h), uint16(w)
		}
	}
	return 0, 0
}

// attach is sandbox.Stdio.Terminal: it takes the master side.
func (t *terminal) attach(master *os.File) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.attached {
		master.Close()
		return
	}
	t.master, t.attached = master, true
	if t.input && term.IsTerminal(t.in.Fd()) {
		if st, err := term.MakeRaw(t.in.Fd()); err == nil {
			t.raw = st
		}
	}
	t.winch = make(chan os.Signal, 1)
	signal.Notify(t.winch, syscall.SIGWINCH)
	go func() {
		for range t.winch {
			t.resize()
		}
	}()
	go func() {
		defer close(t.copied)
		io.Copy(t.out, master) // ends with EIO once every holder of the terminal side has closed it
	}()
	if t.input {
		go io.Copy(master, t.in) // blocked in read until a key comes; the process exits meanwhile
	}
}

// resize passes this terminal's size on; the kernel then sends SIGWINCH
// to the foreground process group in the sandbox.
func (t *terminal) resize() {
	rows, cols := t.size()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.master == nil || t.closed || rows == 0 {
		return
	}
	if rc, err := t.master.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
		})
	}
}

// hangup closes the master side: the kernel sends SIGHUP to the session
// in the sandbox, which ends a shell that ignores SIGTERM.
func (t *terminal) hangup() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.master != nil && !t.closed {
		t.master.Close()
	}
}

// close waits briefly for the last output, then restores the terminal.
func (t *terminal) close() {
	t.mu.Lock()
	attached := t.attached
	master := t.master
	t.mu.Unlock()
	if attached {
		// What the process wrote before it ended is in the pty's buffer;
		// a background process that still holds the terminal is not waited for.
		master.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		<-t.copied
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	if t.winch != nil {
		signal.Stop(t.winch)
		close(t.winch)
	}
	if t.master != nil {
		t.master.Close()
	}
	if t.raw != nil {
		term.Restore(t.in.Fd(), t.raw)
	}
}

// uiRenderer is the live UI's renderer on stdout: without colour for
// --no-color or NO_COLOR; otherwise it asks the terminal for its
// background (light or dark shades) now, as the UI starts and before
// bubbletea reads the terminal's input, which would swallow the answer.
// No other command asks (quietterm/quietterm.c).
func uiRenderer(noColor bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(os.Stdout)
	if noColor || os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
		return r
	}
	r.HasDarkBackground()
	return r
}
