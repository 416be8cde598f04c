package sandboxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Tmux is a tmux server of the test's own (-S), killed at cleanup: the
// end-to-end tests drive terminals through it (the UI, run -it, exec -it).
type Tmux struct {
	t    testing.TB
	bin  string
	sock string
}

// NewTmux starts nothing yet; a missing tmux stops the test (Missing).
func NewTmux(t testing.TB) *Tmux {
	t.Helper()
	bin, err := exec.LookPath("tmux")
	if err != nil {
		Missing(t, "tmux (this test drives a terminal in it)", "apt-get install tmux")
	}
	// The server's socket lives in the test's temporary directory (not in
	// tmux's /tmp/tmux-UID, where it would outlive the server), so that it
	// goes with the test.
	dir, err := os.MkdirTemp("", "gbtmux-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Tmux{t: t, bin: bin, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(func() {
		s.Run("kill-server")
		os.RemoveAll(dir)
	})
	return s
}

// Run runs one tmux command on the server.
func (s *Tmux) Run(args ...string) (string, error) {
	cmd := exec.Command(s.bin, append([]string{"-S", s.sock}, args...)...)
	cmd.Env = append(os.Environ(), "TMUX=", "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Start runs shell in a new detached 120×40 session named name.
func (s *Tmux) Start(name, shell string) {
	s.t.Helper()
	if out, err := s.Run("new-session", "-d", "-x", "120", "-y", "40", "-s", name, shell); err != nil {
		s.t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
}

// Pane is what the session's pane shows now.
func (s *Tmux) Pane(name string) string {
	out, _ := s.Run("capture-pane", "-p", "-t", name)
	return out
}

// Keys types keys (tmux send-keys names: Enter, C-c, …) into the session.
func (s *Tmux) Keys(name string, keys ...string) {
	s.t.Helper()
	if out, err := s.Run(append([]string{"send-keys", "-t", name}, keys...)...); err != nil {
		s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// Resize makes the session's window cols×rows.
func (s *Tmux) Resize(name string, cols, rows int) {
	s.t.Helper()
	if out, err := s.Run("resize-window", "-t", name, "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows)); err != nil {
		s.t.Fatalf("tmux resize-window: %v\n%s", err, out)
	}
}
